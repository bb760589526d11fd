"""Benchmark: `jobs` on an oban_jobs table of one million jobs. Target: under 2 s.

A real PostgreSQL with Oban's real schema (its own migrations) is filled before the clock starts:
mostly completed jobs, as on a system whose Pruner keeps a week, plus available, scheduled,
executing, retryable, discarded and cancelled ones across queues and workers. Each run is timed in
process (the whole read and diagnosis) and as the command a user runs. Then every query the reader
sent is EXPLAINed, to say which indexes it uses and whether it scans the table.

    python bench/jobs_bench.py [--jobs 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from command_timing import run_timed  # noqa: E402  (beside this script)
from oban_schema import migrate  # noqa: E402  (the tests' migrator: Oban's own migrations)
from pg_server import PgServer, create_database  # noqa: E402

from phoenix_ops.jobs.command import JobsArgs, examine  # noqa: E402

TARGET_SECONDS = 2.0
# state -> share of the jobs
MIX = {"completed": 0.90, "available": 0.04, "scheduled": 0.02, "retryable": 0.01, "discarded": 0.01,
       "cancelled": 0.0198, "executing": 0.0002}


def fill(dsn: str, total: int) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for state, share in MIX.items():
            n = int(total * share)
            errors = "ARRAY[jsonb_build_object('at', (now() - interval '30 minutes')::text, 'attempt', 1, " \
                     "'error', '** (RuntimeError) upstream timeout')]" if state in ("retryable", "discarded") \
                else "'{}'::jsonb[]"
            conn.execute(f"""
                INSERT INTO oban_jobs (state, queue, worker, args, errors, attempt, scheduled_at, attempted_at,
                                       attempted_by, completed_at, discarded_at, cancelled_at)
                SELECT %(state)s::oban_job_state, 'q' || (i %% 10), 'App.Workers.W' || (i %% 25), jsonb_build_object('id', i),
                       {errors}, 1,
                       timezone('UTC', now()) - (i %% 600000) * interval '1 second'
                         + CASE WHEN %(state)s::text = 'scheduled' THEN interval '2 days' ELSE interval '0' END,
                       timezone('UTC', now()) - (i %% 600) * interval '1 second',
                       ARRAY['app@10.0.0.' || (i %% 3), 'uuid'],
                       CASE WHEN %(state)s::text = 'completed' THEN timezone('UTC', now()) END,
                       CASE WHEN %(state)s::text = 'discarded' THEN timezone('UTC', now()) - (i %% 7200) * interval '1 second' END,
                       CASE WHEN %(state)s::text = 'cancelled' THEN timezone('UTC', now()) END
                FROM generate_series(1, %(n)s) AS i""", {"state": state, "n": n})
        conn.execute("INSERT INTO oban_peers VALUES ('Oban', 'app@10.0.0.0', now(), timezone('UTC', now()) + interval '1 hour')")
        conn.execute("VACUUM ANALYZE oban_jobs")  # what autovacuum leaves on a settled table


def captured_queries(dsn: str) -> list[tuple[str, object]]:
    """The statements the reader sends, recorded during one run."""
    sent: list[tuple[str, object]] = []
    original = psycopg.Connection.execute

    def record(self, query, params=None, **kw):
        text = query.as_string(self) if hasattr(query, "as_string") else query
        sent.append((text, params))
        return original(self, query, params, **kw)

    psycopg.Connection.execute = record
    try:
        examine(JobsArgs(dsn))
    finally:
        psycopg.Connection.execute = original
    return [(q, p) for q, p in sent if q.lstrip().upper().startswith(("SELECT", "WITH")) and "oban_jobs" in q]


def plan_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def explain(dsn: str) -> list[str]:
    lines = []
    with psycopg.connect(dsn) as conn:
        for query, params in captured_queries(dsn):
            doc = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, params).fetchone()[0]
            nodes = list(plan_nodes(doc[0]["Plan"]))
            ms = doc[0]["Execution Time"]
            scans = sorted({f"{n['Node Type']} on {n.get('Index Name') or n.get('Relation Name')}" for n in nodes
                            if "Scan" in n["Node Type"] and (n.get("Relation Name") or n.get("Index Name"))})
            lines.append(f"  {' '.join(query.split())[:90]}…\n      {ms:.0f} ms: {'; '.join(scans) or 'no table scan'}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with PgServer.start() as pg:
        dsn = create_database(pg.dsn, name="bench")
        migrate(dsn)
        started = time.monotonic()
        fill(dsn, args.jobs)
        with psycopg.connect(dsn) as conn:
            count, size = conn.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size('oban_jobs')) "
                                       "FROM oban_jobs").fetchone()
        print(f"filled {count} jobs ({size}) in {time.monotonic() - started:.1f} s")
        inproc, command, cpu = [], [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            view, findings = examine(JobsArgs(dsn))
            inproc.append(time.perf_counter() - t)
            wall, used, done = run_timed("jobs", "--database-url", dsn, "-f", "json")
            command.append(wall)
            cpu.append(used)
            assert done.returncode in (0, 1), done.stderr
        print(f"findings: {sorted({f.rule_id for f in findings})}; "
              f"{len(json.loads(done.stdout)['jobs']['queues'])} queues")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; the command's own CPU time: "
              f"median {statistics.median(cpu):.3f}s")
        for label, times in (("in process", inproc), ("phoenix-ops jobs", command)):
            print(f"{label:<18} median {statistics.median(times):.3f}s  min {min(times):.3f}s  "
                  f"max {max(times):.3f}s over {len(times)} runs (target {TARGET_SECONDS} s)")
        print("plans (EXPLAIN of each query the reader sent):")
        print("\n".join(explain(dsn)))
        return 0 if statistics.median(command) < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())

"""Read Oban's tables through psycopg: one read-only, repeatable-read transaction under a statement
timeout, so the tool never writes, never blocks Oban for long, and sees one consistent moment.

Every query goes through the index Oban's migrations create on (state, queue, priority,
scheduled_at, id) by naming the states it wants; `args` is never selected."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import psycopg
from psycopg import sql

from phoenix_ops.jobs.view import (
    COUNT_CAP,
    DAY,
    HOUR,
    Finished,
    JobsView,
    Limits,
    NodeWork,
    Peer,
    QueueStats,
    TableStats,
    WorkerFailures,
)

PENDING = ("available", "scheduled", "executing", "retryable")
FINISHED = ("completed", "discarded", "cancelled")
UNFINISHED = ("available", "scheduled", "executing", "retryable", "discarded")
ERROR_TEXT = 160


class JobsError(Exception):
    """The database cannot be read (bad URL, refused, no Oban tables): one line, exit 2."""


def parse_url(url: str) -> tuple[str, str]:
    """(connection string for psycopg, the same without password for reports). Ecto's `ecto://`
    URLs, as in DATABASE_URL, are PostgreSQL URLs."""
    url = url.strip()
    if url.startswith("ecto://"):
        url = "postgresql://" + url[len("ecto://"):]
    if not re.match(r"^postgres(ql)?://", url):
        raise JobsError(f"not a PostgreSQL URL: {_shown(url)!r} (use postgresql://user:pass@host:port/db)")
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error as exc:
        raise JobsError(f"bad database URL {_shown(url)!r}: {_first_line(exc)}") from None
    host = info.get("host") or "localhost"
    shown = f"postgresql://{info['user'] + '@' if info.get('user') else ''}{host}" \
            f"{':' + str(info['port']) if info.get('port') else ''}/{info.get('dbname', '')}"
    return url, shown


def _shown(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def error_text(raw: str | None) -> str:
    """An error's first line, cut before the first data term (a map, list, tuple or string may hold
    the job's args or a user's data)."""
    line = (raw or "").strip().splitlines()[0] if (raw or "").strip() else ""
    cut = re.search(r"""%\{|%[A-Z]|[\[{"']|#[A-Z][\w.]*<""", line)
    if cut:
        line = line[:cut.start()].rstrip() + " …"
    return line[:ERROR_TEXT]


def read_view(url: str, prefix: str = "public", *, limits: Limits | None = None,
              timeout: float = 5.0) -> JobsView:
    conninfo, shown = parse_url(url)
    try:
        conn = psycopg.connect(conninfo, connect_timeout=max(1, round(timeout)), autocommit=False,
                               application_name="phoenix-ops")
    except psycopg.Error as exc:
        raise JobsError(f"cannot connect to {shown}: {_first_line(exc)}") from None
    try:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(int(timeout * 1000))))
            conn.execute("SET LOCAL lock_timeout = 1000")
            return _read(conn, shown, prefix, limits or Limits())
    except psycopg.errors.QueryCanceled:
        raise JobsError(f"reading {shown} took longer than the {timeout:g} s statement timeout") from None
    except psycopg.Error as exc:
        raise JobsError(f"reading {shown}: {_first_line(exc)}") from None
    finally:
        conn.close()


def _read(conn: psycopg.Connection, shown: str, prefix: str, limits: Limits) -> JobsView:
    jobs_oid = conn.execute("SELECT to_regclass(%s)::oid", (f'"{prefix}".oban_jobs',)).fetchone()[0]
    if jobs_oid is None:
        raise JobsError(f"no Oban tables in {shown}: {prefix}.oban_jobs does not exist "
                        "(run Oban's migrations, or give the schema with --prefix)")
    jobs = sql.Identifier(prefix, "oban_jobs")
    comment = conn.execute("SELECT obj_description(%s, 'pg_class')", (jobs_oid,)).fetchone()[0]
    version = int(comment) if comment and comment.strip().isdigit() else None
    now = conn.execute("SELECT timezone('UTC', now())").fetchone()[0]
    has_peers = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{prefix}".oban_peers',)).fetchone()[0]
    peers = None
    if has_peers:
        rows = conn.execute(sql.SQL("SELECT name, node, started_at, expires_at FROM {} ORDER BY name")
                            .format(sql.Identifier(prefix, "oban_peers"))).fetchall()
        peers = [Peer(*row) for row in rows]
    return JobsView(
        database=shown, prefix=prefix, schema_version=version, now=now, peers=peers,
        queues=_queues(conn, jobs, now, limits), nodes=_nodes(conn, jobs, now, limits),
        workers=_failures(conn, jobs, now), finished=_finished(conn, jobs, now, limits),
        table=_table(conn, jobs_oid), limits=limits)


def _states(states: tuple[str, ...]) -> sql.Composable:
    """Literal states, so the planner matches them against the state index."""
    return sql.SQL(", ").join(sql.Literal(s) for s in states)


def _age(now: dt.datetime, then: dt.datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then else 0.0


def _queues(conn, jobs, now, limits: Limits) -> list[QueueStats]:
    rows = conn.execute(sql.SQL(
        "SELECT queue, state::text, count(*), min(scheduled_at), "
        "       count(*) FILTER (WHERE scheduled_at < %(late)s) "
        "FROM {} WHERE state IN ({}) GROUP BY queue, state"
    ).format(jobs, _states(PENDING)), {"late": now - dt.timedelta(seconds=limits.stall)}).fetchall()
    queues: dict[str, QueueStats] = {}
    for queue, state, count, oldest, late in rows:
        q = queues.setdefault(queue, QueueStats(queue))
        setattr(q, state, count)
        if state == "available":
            q.overdue = _age(now, oldest)
        elif state == "scheduled":
            q.scheduled_overdue, q.scheduled_late = late, _age(now, oldest) if late else 0.0
    return sorted(queues.values(), key=lambda q: q.queue)


def _nodes(conn, jobs, now, limits: Limits) -> list[NodeWork]:
    stale_before = now - dt.timedelta(seconds=limits.grace)
    rows = conn.execute(sql.SQL(
        "SELECT coalesce(attempted_by[1], ''), worker, count(*), min(attempted_at), max(attempted_at), "
        "       count(*) FILTER (WHERE attempted_at < %s) "
        "FROM {} WHERE state = 'executing' GROUP BY 1, 2").format(jobs), (stale_before,)).fetchall()
    nodes: dict[str, NodeWork] = {}
    stale_workers: dict[str, Counter] = {}
    for node, worker, count, oldest, newest, stale in rows:
        n = nodes.get(node)
        if n is None:
            n = nodes[node] = NodeWork(node, 0, 0.0, float("inf"))
        n.executing += count
        n.oldest = max(n.oldest, _age(now, oldest))
        n.newest = min(n.newest, _age(now, newest))
        n.stale += stale
        if stale:
            stale_workers.setdefault(node, Counter())[worker] += stale
    for node, counter in stale_workers.items():
        nodes[node].workers = [w for w, _ in counter.most_common()]
    return sorted(nodes.values(), key=lambda n: n.node)


def _failures(conn, jobs, now) -> list[WorkerFailures]:
    """Retryable jobs, discards and failed attempts of the last hour and day, by worker. Attempts
    are read from the `errors` of unfinished and discarded jobs (a completed job's past errors are
    left out: it succeeded in the end, and reading them would scan every completed job)."""
    hour, day = now - dt.timedelta(seconds=HOUR), now - dt.timedelta(seconds=DAY)
    workers: dict[str, WorkerFailures] = {}

    def get(worker: str) -> WorkerFailures:
        return workers.setdefault(worker, WorkerFailures(worker))

    for worker, count in conn.execute(sql.SQL(
            "SELECT worker, count(*) FROM {} WHERE state = 'retryable' GROUP BY worker").format(jobs)):
        get(worker).retryable = count
    for worker, in_hour, in_day in conn.execute(sql.SQL(
            "SELECT worker, count(*) FILTER (WHERE discarded_at >= %s), count(*) FROM {} "
            "WHERE state = 'discarded' AND discarded_at >= %s GROUP BY worker").format(jobs), (hour, day)):
        w = get(worker)
        w.discarded_hour, w.discarded_day = in_hour, in_day
    rows = conn.execute(sql.SQL(
        "SELECT j.worker, (e->>'at')::timestamp AS at, e->>'error' "
        "FROM {} j, unnest(j.errors) AS e "
        "WHERE j.state IN ({}) AND cardinality(j.errors) > 0 "
        "  AND (j.state <> 'discarded' OR j.discarded_at >= %s) "
        "  AND (e->>'at')::timestamp >= %s"
    ).format(jobs, _states(UNFINISHED)), (day, day)).fetchall()
    texts: dict[str, Counter] = {}
    for worker, at, raw in rows:
        w = get(worker)
        w.errors_day += 1
        w.errors_hour += at >= hour
        texts.setdefault(worker, Counter())[error_text(raw)] += 1
    for worker, counter in texts.items():
        workers[worker].top_error, workers[worker].top_error_count = counter.most_common(1)[0]
    return sorted(workers.values(), key=lambda w: w.worker)


def _finished(conn, jobs, now, limits: Limits) -> list[Finished]:
    """The oldest finished job of each state, measured as the Pruner measures (scheduled_at).

    Finished jobs are most of the table, so nothing here reads them all: the queues are found by
    skipping through the state index, the oldest job of each queue and priority is the first entry
    of its index range, and jobs past the retention are counted only up to COUNT_CAP."""
    out = []
    for state in FINISHED:
        oldest = conn.execute(sql.SQL(
            "WITH RECURSIVE queues AS ("
            "  (SELECT queue FROM {jobs} WHERE state = {state} ORDER BY queue LIMIT 1)"
            "  UNION ALL"
            "  SELECT (SELECT j.queue FROM {jobs} j WHERE j.state = {state} AND j.queue > q.queue"
            "          ORDER BY j.queue LIMIT 1) FROM queues q WHERE q.queue IS NOT NULL) "
            "SELECT min(first.at) FROM queues q, generate_series(0, 9) AS p(priority), LATERAL ("
            "  SELECT scheduled_at AS at FROM {jobs} j WHERE j.state = {state} AND j.queue = q.queue"
            "    AND j.priority = p.priority ORDER BY j.scheduled_at LIMIT 1) AS first "
            "WHERE q.queue IS NOT NULL").format(jobs=jobs, state=sql.Literal(state))).fetchone()[0]
        if oldest is None:
            continue
        age, old = _age(now, oldest), 0
        if age > limits.retention:
            old = conn.execute(sql.SQL(
                "SELECT count(*) FROM (SELECT 1 FROM {} WHERE state = {} AND scheduled_at < %s LIMIT %s) AS old")
                .format(jobs, sql.Literal(state)), (now - dt.timedelta(seconds=limits.retention), COUNT_CAP + 1)
            ).fetchone()[0]
        out.append(Finished(state, age, old))
    return out


def _table(conn, oid: int) -> TableStats:
    row = conn.execute(
        "SELECT pg_total_relation_size(%(o)s), pg_relation_size(%(o)s), pg_indexes_size(%(o)s), "
        "       pg_stat_get_live_tuples(%(o)s), pg_stat_get_dead_tuples(%(o)s), "
        "       pg_stat_get_last_autovacuum_time(%(o)s)", {"o": oid}).fetchone()
    return TableStats(*row[:5], last_autovacuum=row[5])

"""`jobs` and `metrics` against the real fixture release (Oban 2.18 on PostgreSQL, metrics from
TelemetryMetricsPrometheus.Core): jobs inserted over HTTP, a node killed mid-job leaves a real
orphan, and `metrics` reads the node's own scrape."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest
from oban_planter import SECRET_ARG

from phoenix_ops.jobs.command import JobsArgs, examine
from phoenix_ops.jobs.view import Limits
from phoenix_ops.metrics.command import MetricsArgs
from phoenix_ops.metrics.command import examine as examine_metrics
from phoenix_ops.metrics.view import Limits as MetricsLimits

pytestmark = pytest.mark.slow
FIXTURE_APP = Path(__file__).resolve().parents[1] / "phoenix_app"


def insert(node, args: dict, queue: str = "default") -> dict:
    request = urllib.request.Request(node.url + "/api/jobs", data=json.dumps({"args": args, "queue": queue}).encode(),
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def wait_for(what: str, probe, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout:.0f} s")
        time.sleep(0.5)


def states(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute("SELECT state::text, count(*) FROM oban_jobs GROUP BY state").fetchall())


def test_a_real_node_its_jobs_its_scrape_and_the_orphan_it_leaves(phoenix, pg_database):
    node = phoenix.start(database=pg_database, migrate=True)
    slow = insert(node, {"sleep_ms": 600_000, "email": SECRET_ARG})
    for _ in range(3):
        insert(node, {"fail": True, "email": SECRET_ARG}, queue="mailers")
    insert(node, {})
    wait_for("executing job and failed attempts",
             lambda: (s := states(pg_database)).get("executing") == 1 and s.get("retryable", 0) == 3
             and s.get("completed") == 1)

    # Alive: a live leader, the long job on a live node; the failures show their cut error text.
    view, findings = examine(JobsArgs(pg_database, limits=Limits(grace=1, max_retryable=2)))
    (leader,) = view.live_peers()
    assert view.schema_version == 12 and leader.name == "Oban"
    assert [n.node for n in view.nodes] == [leader.node]
    (pileup,) = [f for f in findings if f.rule_id == "JOB105"]
    assert "worker PhxFixture.EchoWorker: 3 retryable jobs (limit 2)" in pileup.message
    assert "(3×): ** (Oban.PerformError) PhxFixture.EchoWorker failed with …" in pileup.message
    assert {f.rule_id for f in findings} == {"JOB105"}

    # The node's own scrape: every series group the project defines is there; memory read in KB (the
    # VM's memory is measured every 10 s by telemetry_poller, so the first scrapes may lack it).
    wait_for("VM series in the scrape", lambda: "vm_memory_total" in node.get("/metrics")[1])
    metrics_views, metric_findings = examine_metrics(MetricsArgs(
        [node.url + "/metrics"], interval=1, project=FIXTURE_APP, limits=MetricsLimits(memory_limit=16 * 2**20)))
    assert {"vm_memory_total", "oban_job_stop_duration"} <= metrics_views[0].latest.names
    assert metrics_views[0].expected == ("vm", "phoenix", "ecto", "oban")
    (memory,) = metric_findings
    assert memory.rule_id == "OBS101"
    mib = float(memory.message.split("BEAM memory ")[1].split(" MiB")[0])
    assert 20 < mib < 1000, memory.message  # vm_memory_total is in kilobytes (unit: {:byte, :kilobyte})

    # Killed mid-job: the job stays `executing`; once the leader's peer row expires it is an orphan.
    os.killpg(node.proc.pid, signal.SIGKILL)
    node.proc.wait(timeout=10)

    def orphaned():
        found = {f.rule_id: f for f in examine(JobsArgs(pg_database, limits=Limits(grace=1)))[1]}
        return found if "JOB100" in found else None
    found = wait_for("orphan", orphaned, timeout=90)
    assert f"1 job(s) executing on node {leader.node}" in found["JOB100"].message
    assert "PhxFixture.EchoWorker" in found["JOB100"].message
    assert "JOB101" in found  # the only node is gone: no leader runs the plugins
    assert SECRET_ARG not in json.dumps([f.to_dict() for f in found.values()])
    assert slow["state"] == "available"

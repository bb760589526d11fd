"""Each jobs rule against Oban's real schema, with the condition planted by SQL: it fires on the
condition and stays quiet just short of it."""

from __future__ import annotations

import json

import pytest
from oban_planter import SECRET_ARG

from phoenix_ops.catalog import catalog
from phoenix_ops.command import Tail
from phoenix_ops.jobs.command import JobsArgs, examine, finish
from phoenix_ops.jobs.reader import error_text
from phoenix_ops.jobs.view import Limits
from phoenix_ops.record import asdict
from phoenix_ops.rule import standings

pytestmark = pytest.mark.slow
LEADER = "app@10.0.0.1"
GONE = "app@10.0.0.9"


def look(oban, **limits):
    return examine(JobsArgs(oban.dsn, limits=Limits(**limits)))


def fired(oban, **limits) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in look(oban, **limits)[1]:
        out.setdefault(f.rule_id, []).append(f)
    return out


def test_a_healthy_system_has_no_findings(oban):
    oban.peer(LEADER)
    oban.job("available", scheduled=5, count=3)
    oban.job("executing", attempted=30, node=LEADER)
    oban.job("scheduled", scheduled=-600)
    oban.job("completed", scheduled=3600, completed=3500, count=5)
    view, findings = look(oban)
    assert findings == []
    assert view.schema_version == 12
    assert [(q.queue, q.available, q.executing, q.scheduled) for q in view.queues] == [("default", 3, 1, 1)]
    assert view.live_nodes() == {LEADER}


def test_orphans_on_a_gone_node(oban):
    oban.peer(LEADER)
    oban.job("executing", attempted=1200, node=GONE, worker="App.Workers.Charge", count=2)
    oban.job("executing", attempted=1200, node=LEADER)  # a long job on a live node
    oban.job("executing", attempted=60, node="app@10.0.0.7")  # a node that just started one: alive
    (f,) = fired(oban)["JOB100"]
    assert f.location.url.endswith(f"#node={GONE}")
    assert "2 job(s) executing on node app@10.0.0.9 for 20m00s" in f.message
    assert "App.Workers.Charge" in f.message
    assert f.confidence.label == "medium"
    assert fired(oban, live_nodes=(LEADER,))["JOB100"][0].confidence.label == "high"
    assert "JOB100" not in fired(oban, grace=1800)
    assert "JOB100" not in fired(oban, live_nodes=(GONE,))


def test_no_live_leader(oban):
    oban.job("available", scheduled=5)
    assert "oban_peers is empty" in fired(oban)["JOB101"][0].message
    oban.peer(LEADER, expires_in=-120)
    assert f"the last leader, {LEADER}, expired 2m" in fired(oban)["JOB101"][0].message
    oban.sql("UPDATE oban_peers SET expires_at = timezone('UTC', now()) + interval '30 seconds'")
    assert "JOB101" not in fired(oban)


def test_an_empty_table_needs_no_leader(oban):
    view, findings = look(oban)
    assert findings == [] and standings(catalog("jobs"), [view])["not_applicable"]["JOB101"] == \
        "no job in oban_jobs: nothing for a leader to run"  # the checklist does not call it passed


def test_stalled_queue_while_a_leader_lives(oban):
    oban.peer(LEADER)
    oban.job("available", queue="mailers", scheduled=900, count=4)
    oban.job("available", queue="default", scheduled=60)
    (f,) = fired(oban)["JOB102"]
    assert f.message.startswith("queue mailers: 4 available job(s), the oldest 15m")
    assert "JOB102" not in fired(oban, stall=1800)
    oban.sql("DELETE FROM oban_peers")
    view, findings = look(oban)
    assert "JOB102" not in {f.rule_id for f in findings}  # with no leader, JOB101 tells why
    assert standings(catalog("jobs"), [view])["not_applicable"]["JOB102"].startswith("no live Oban leader")


def test_queue_backlog(oban):
    oban.peer(LEADER)
    oban.job("available", queue="exports", scheduled=10, count=6)
    (f,) = fired(oban, max_depth=5)["JOB103"]
    assert "queue exports: 6 available jobs (limit 5)" in f.message
    assert "JOB103" not in fired(oban, max_depth=6)


def test_scheduled_jobs_past_their_time(oban):
    oban.peer(LEADER)
    oban.job("scheduled", queue="reports", scheduled=3600, count=2)
    oban.job("scheduled", queue="reports", scheduled=-3600)
    (f,) = fired(oban)["JOB104"]
    assert "queue reports: 2 scheduled job(s) more than 5m00s past their time, the oldest by 1h00m" in f.message
    assert "JOB104" not in fired(oban, stall=7200)


BOOM = f'** (MatchError) no match of right hand side value: %{{"email" => "{SECRET_ARG}"}}\n    (app) lib/x.ex:3'


def test_retryable_pileup_with_its_error_cut_before_data(oban):
    oban.peer(LEADER)
    oban.job("retryable", worker="App.Workers.Sync", scheduled=-30, count=4, errors=[(60, BOOM)])
    (f,) = fired(oban, max_retryable=3)["JOB105"]
    assert "worker App.Workers.Sync: 4 retryable jobs (limit 3)" in f.message
    assert "most common error (4×): ** (MatchError) no match of right hand side value: …" in f.message
    assert SECRET_ARG not in f.message
    assert "JOB105" not in fired(oban, max_retryable=4)


def test_discards_warn_past_the_hourly_limit_and_inform_below(oban):
    oban.peer(LEADER)
    oban.job("discarded", worker="App.Workers.Charge", discarded=600, count=3, errors=[(700, "** (RuntimeError) card declined")])
    oban.job("discarded", worker="App.Workers.Charge", discarded=20_000)
    oban.job("discarded", worker="App.Workers.Old", discarded=200_000)  # beyond a day: not counted
    (f,) = fired(oban, max_discards=3)["JOB106"]
    assert f.severity.label == "warning"
    assert "3 job(s) discarded in the last hour, 4 in the last day" in f.message
    assert "(3×): ** (RuntimeError) card declined" in f.message
    assert fired(oban, max_discards=4)["JOB106"][0].severity.label == "info"


def test_worker_errors_in_the_last_hour(oban):
    oban.peer(LEADER)
    oban.job("available", worker="App.Workers.Fetch", scheduled=1, attempt=2,
             errors=[(120, "** (Mint.TransportError) timeout"), (5000, "** (Mint.TransportError) timeout")], count=3)
    (f,) = fired(oban, max_errors=2)["JOB107"]
    assert "worker App.Workers.Fetch: 3 failed attempt(s) in the last hour (limit 2), 6 in the last day" in f.message
    assert "JOB107" not in fired(oban, max_errors=3)


def test_finished_jobs_beyond_the_retention(oban):
    oban.peer(LEADER)
    oban.job("completed", scheduled=40 * 86400, completed=40 * 86400, count=2)
    oban.job("cancelled", scheduled=3600)
    (f,) = fired(oban)["JOB108"]
    assert "2 completed (oldest 40d0h)" in f.message and "cancelled" not in f.message
    assert "JOB108" not in fired(oban, retention=41 * 86400)


def test_dead_rows_past_autovacuum(oban):
    oban.peer(LEADER)
    oban.sql("ALTER TABLE oban_jobs SET (autovacuum_enabled = false)")
    oban.job("completed", scheduled=10, completed=5, count=12_000)
    oban.sql("DELETE FROM oban_jobs WHERE mod(id, 10) <> 0")
    for _ in range(100):  # statistics reach the shared counters a moment after the deleting session ends
        view, findings = look(oban)
        if view.table.dead_tuples:
            break
    (f,) = [f for f in findings if f.rule_id == "JOB109"]
    assert "oban_jobs has 10800 dead rows against 1200 live (90%)" in f.message
    assert "JOB109" not in fired(oban, dead_share=0.95)


def test_schema_behind_the_project_lock(postgres, oban_template, tmp_path):
    from oban_schema import migrate
    from pg_server import create_database

    (tmp_path / "mix.lock").write_text(
        '%{\n  "oban": {:hex, :oban, "2.18.3", "0123abcd", [:mix], [], "hexpm", "4567ef"},\n}\n')
    old = create_database(postgres)
    migrate(old, version=11)
    view, findings = examine(JobsArgs(old, project=tmp_path))
    assert view.schema_version == 11 and view.lock_version == "2.18.3"
    assert [f.message for f in findings if f.rule_id == "JOB110"] == \
        ["Oban schema is v11, but Oban 2.18.3 (mix.lock) expects v12"]
    current = create_database(postgres, template=oban_template)
    assert examine(JobsArgs(current, project=tmp_path))[1] == []


def test_a_custom_prefix(postgres):
    from oban_schema import migrate
    from pg_server import create_database

    dsn = create_database(postgres)
    migrate(dsn, prefix="private")
    view, _ = examine(JobsArgs(dsn, prefix="private"))
    assert view.prefix == "private" and view.schema_version == 12
    assert view.at().url.endswith("/private.oban_jobs")


def test_reads_with_select_rights_only_and_never_shows_args(oban, tmp_path):
    oban.peer(LEADER)
    oban.job("retryable", scheduled=-30, errors=[(60, BOOM)], count=200)
    oban.job("executing", attempted=3600, node=GONE)
    role = "reader_" + oban.dsn.rsplit("/", 1)[1]
    oban.sql(f"CREATE ROLE {role} LOGIN")
    oban.sql(f"GRANT SELECT ON oban_jobs, oban_peers TO {role}")
    view, findings = examine(JobsArgs(oban.dsn.replace("://postgres@", f"://{role}@")))
    assert {f.rule_id for f in findings} == {"JOB100", "JOB105", "JOB107"}
    for fmt in ("text", "json", "sarif", "html"):
        out = tmp_path / f"report.{fmt}"
        finish(Tail.build(fmt, out), view, findings)
        assert "JOB105" in out.read_text() and SECRET_ARG not in out.read_text()
    assert "args" not in json.dumps(asdict(view), default=str)


@pytest.mark.parametrize("raw, shown", [
    ("** (RuntimeError) boom\n  stack", "** (RuntimeError) boom"),
    ('** (ArgumentError) bad "x"', "** (ArgumentError) bad …"),
    ("** (FunctionClauseError) no function clause matching in A.perform/1", None),
    ("", ""),
    ("x" * 400, "x" * 160),
])
def test_error_text_keeps_the_first_line_and_cuts_before_data(raw, shown):
    assert error_text(raw) == (raw if shown is None else shown)

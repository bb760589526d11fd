"""`phoenix-ops jobs` as a user runs it: formats, exit codes, --watch, and bad inputs that end in
one clear line and exit 2 without hanging."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from oban_planter import SECRET_ARG
from report_pages import assert_good_page, look

from phoenix_ops.catalog import catalog

pytestmark = pytest.mark.slow


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run([sys.executable, "-m", "phoenix_ops.cli", "jobs", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_text_json_sarif_and_exit_codes(oban):
    oban.peer("app@10.0.0.1")
    oban.job("available", queue="mailers", scheduled=1200, count=2)
    text = cli("--database-url", oban.dsn)
    assert text.returncode == 1, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"{oban.dsn} · schema public · Oban schema v12 · leader: app@10.0.0.1 (Oban)")
    assert lines[2].split() == ["queue", "available", "oldest", "due", "scheduled", "late", "executing", "retryable"]
    assert "JOB102 [oban-queue-stalled] queue mailers: 2 available job(s)" in text.stdout
    assert lines[-3] == "JOB: 1 failed, 9 passed, 1 not applicable"  # JOB110 without --project
    assert text.stderr == ""

    doc = json.loads(cli("--database-url", oban.dsn, "-f", "json").stdout)
    assert [f["rule_id"] for f in doc["findings"]] == ["JOB102"]
    assert doc["jobs"]["queues"][0]["available"] == 2
    sarif = json.loads(cli("--database-url", oban.dsn, "-f", "sarif").stdout)
    assert sarif["runs"][0]["results"][0]["ruleId"] == "JOB102"
    assert cli("--database-url", oban.dsn, "--stall", "3600").returncode == 0
    assert cli("--database-url", oban.dsn, "--fail-level", "error").returncode == 1  # JOB102 is an error


def test_checklist_in_json_and_in_a_browser(oban, browser, tmp_path):
    oban.peer("app@10.0.0.1")
    oban.job("available", queue="mailers", scheduled=1200, count=2)
    doc = json.loads(cli("--database-url", oban.dsn, "-f", "json").stdout)
    checks = {r["id"]: r for r in doc["checklist"]["JOB"]["rules"]}
    assert set(checks) == catalog("jobs").ids()
    assert checks["JOB102"]["status"] == "failed" and checks["JOB101"]["status"] == "passed"
    assert checks["JOB110"] == {"id": "JOB110", "name": "oban-schema-behind", "status": "not applicable",
                                "reason": "the Oban version in use is unknown: --project reads it from mix.lock"}
    project = tmp_path / "app"
    project.mkdir()
    (project / "mix.lock").write_text('%{\n  "oban": {:hex, :oban, "2.18.3", "0a", [:mix], [], "hexpm", "1b"},\n}\n')
    report = tmp_path / "jobs.html"
    assert cli("--database-url", oban.dsn, "--project", str(project), "-f", "html", "-o", str(report)).returncode == 1
    page = look(browser, report, "jobs")
    assert_good_page(page, report)
    checks = dict(page.desktop["checks"])
    assert set(checks) == catalog("jobs").ids() and checks["JOB102"] == "failed"
    assert checks["JOB110"] == "passed"  # the schema the lock's Oban expects


def test_database_url_from_the_environment_and_in_ecto_form(oban):
    env = dict(os.environ, DATABASE_URL=oban.dsn.replace("postgresql://", "ecto://"))
    done = subprocess.run([sys.executable, "-m", "phoenix_ops.cli", "jobs", "-f", "json"], capture_output=True,
                          text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["findings"] == []


def _interruptible() -> None:
    """Ctrl-C as on a terminal: a suite started in the background by a shell inherits SIGINT ignored,
    and Python then never turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_watch_repeats_until_interrupted(oban):
    oban.job("available", scheduled=5)
    proc = subprocess.Popen([sys.executable, "-m", "phoenix_ops.cli", "jobs", "--database-url", oban.dsn,
                             "--watch", "0.2", "-f", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=_interruptible)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while sum(1 for line in lines if line == "}\n") < 2 and time.monotonic() < deadline:
        lines.append(proc.stdout.readline())
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 1, err  # the last look found JOB101 (no leader)
    reports = [json.loads(chunk) for chunk in "".join(lines).split("\n\n") if chunk.strip()]  # read whole
    assert len(reports) >= 2
    assert {f["rule_id"] for f in reports[-1]["findings"]} == {"JOB101"}


@pytest.mark.parametrize("url, expected", [
    ("mysql://u@h/db", "not a PostgreSQL URL: 'mysql://u@h/db'"),
    ("postgresql://u:hunter2@127.0.0.1:1/db", "cannot connect to postgresql://u@127.0.0.1:1/db"),
    ("postgresql://127.0.0.1:5432/db?sslmode=bogus", 'invalid sslmode value: "bogus"'),
    ("postgresql://127.0.0.1/db?foo=bar", "bad database URL"),
])
def test_bad_urls_and_refused_connections(url, expected):
    started = time.monotonic()
    done = cli("--database-url", url, "--timeout", "2")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert expected in done.stderr
    assert "hunter2" not in done.stderr
    assert time.monotonic() - started < 15


def test_no_database_url():
    done = cli()
    assert done.returncode == 2 and "give the database with --database-url" in done.stderr


def test_a_database_without_oban_tables(pg_database):
    done = cli("--database-url", pg_database)
    assert done.returncode == 2
    assert done.stderr.strip().endswith("public.oban_jobs does not exist (run Oban's migrations, or give the "
                                        "schema with --prefix)")
    assert cli("--database-url", pg_database, "--prefix", "nope").returncode == 2


def test_a_locked_table_times_out_instead_of_hanging(oban):
    oban.job("available", scheduled=5)
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with psycopg.connect(oban.dsn) as conn:
            conn.execute("LOCK TABLE oban_jobs IN ACCESS EXCLUSIVE MODE")
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        started = time.monotonic()
        done = cli("--database-url", oban.dsn, "--timeout", "1")
        assert done.returncode == 2
        assert "lock timeout" in done.stderr or "statement timeout" in done.stderr
        assert time.monotonic() - started < 15
    finally:
        release.set()
        holder.join()


def test_args_never_reach_any_output(oban, tmp_path):
    oban.job("discarded", discarded=60, errors=[(60, f'** (KeyError) key :x not found in: %{{"e" => "{SECRET_ARG}"}}')])
    for fmt in ("text", "json", "sarif", "html"):
        out = tmp_path / f"r.{fmt}"
        done = cli("--database-url", oban.dsn, "-f", fmt, "-o", str(out))
        assert done.returncode in (0, 1), done.stderr
        assert "JOB106" in out.read_text() and SECRET_ARG not in out.read_text()

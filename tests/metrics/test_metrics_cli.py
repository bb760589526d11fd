"""`phoenix-ops metrics` as a user runs it: formats and exit codes, and bad endpoints that end in one
clear line and exit 2 without hanging."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from report_pages import assert_good_page, look
from test_metrics_rules import PROMEX, tmp_scrape

from phoenix_ops.catalog import catalog


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "phoenix_ops.cli", "metrics", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_text_json_and_exit_codes(serve):
    url = serve(PROMEX)
    text = cli(url, "--interval", "0.1", "--memory-limit", "1Gi")
    assert text.returncode == 1, text.stderr
    assert text.stdout.startswith(f"{url}: ")
    assert "OBS100 [beam-resource-near-limit] process count 240000" in text.stdout
    # What was checked, above the totals: a scrape without Ecto, request status, Oban or Cowboy series
    # (and no --project for the telemetry module) leaves those rules undecided, not passed.
    assert text.stdout.splitlines()[-3] == "OBS: 3 failed, 1 passed, 5 not determined, 1 not applicable"
    doc = json.loads(cli(url, "--interval", "0", "-f", "json").stdout)
    assert doc["metrics"][0]["url"] == url and doc["metrics"][0]["interval"] is None
    assert {f["rule_id"] for f in doc["findings"]} == {"OBS100", "OBS102"}
    assert cli(serve(tmp_scrape()), "--interval", "0").returncode == 0


@pytest.mark.slow
def test_checklist_in_json_and_in_a_browser(serve, browser, tmp_path):
    url = serve(PROMEX)
    doc = json.loads(cli(url, "--interval", "0", "-f", "json").stdout)
    checks = {r["id"]: r for r in doc["checklist"]["OBS"]["rules"]}
    assert set(checks) == catalog("metrics").ids() and checks["OBS100"]["status"] == "failed"
    assert checks["OBS108"]["reason"] == "one scrape only (--interval 0): no request rate to judge"
    assert checks["OBS101"] == {"id": "OBS101", "name": "beam-memory-near-container-limit",
                                "status": "not applicable", "reason": "no --memory-limit given"}
    report = tmp_path / "metrics.html"
    assert cli(url, "--interval", "0.1", "--memory-limit", "1Gi", "-f", "html", "-o", str(report)).returncode == 1
    page = look(browser, report, "metrics")
    assert_good_page(page, report)
    checks = dict(page.desktop["checks"])
    assert set(checks) == catalog("metrics").ids() and checks["OBS100"] == "failed"
    assert checks["OBS101"] != "not applicable" and checks["OBS108"] != "not applicable"  # both judged


def test_headers_reach_the_endpoint(serve):
    assert cli(serve(tmp_scrape()), "--interval", "0", "-H", "Authorization: Bearer t").returncode == 0
    bad = cli(serve(tmp_scrape()), "-H", "no colon")
    assert bad.returncode == 2 and "use 'Name: value'" in bad.stderr


HTML = "<!DOCTYPE html><html><body>Welcome</body></html>"


@pytest.mark.parametrize("bodies, kw, expected", [
    ([("text/html; charset=utf-8", HTML)], {}, "answered text/html, not Prometheus text"),
    ([("text/plain", HTML)], {}, "answered HTML, not Prometheus text"),
    ([("text/plain", "this is {not} metrics\n")], {}, "is not Prometheus text"),
    ([("text/plain", "")], {}, "answered an empty scrape"),
    ([tmp_scrape()], {"status": 404}, "answered HTTP 404, not a scrape"),
    ([tmp_scrape()], {"stall": True}, "did not answer within 1 s"),
])
def test_bad_endpoints(serve, bodies, kw, expected):
    url = serve(*bodies, **kw)
    started = time.monotonic()
    done = cli(url, "--timeout", "1", "--interval", "0")
    assert done.returncode == 2, done.stdout
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1
    assert expected in done.stderr
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("url, expected", [
    ("localhost:9568/metrics", "bad URL 'localhost:9568/metrics'"),
    ("http://127.0.0.1:1/metrics", "cannot scrape http://127.0.0.1:1/metrics"),
    ("http://[::1/metrics", "bad URL"),
])
def test_bad_urls_and_refused_connections(url, expected):
    done = cli(url, "--timeout", "1", "--interval", "0")
    assert done.returncode == 2 and expected in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_no_url():
    done = cli()
    assert done.returncode == 2 and "give the URL of at least one metrics endpoint" in done.stderr

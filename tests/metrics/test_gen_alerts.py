"""`gen alerts` end to end: the rules it writes pass `promtool check rules`, and `promtool test rules`
with series written here shows each alert firing on the condition and silent without it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_metrics_rules import write_project

pytestmark = pytest.mark.slow
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

PROMEX_TELEMETRY = """
defmodule DemoWeb.Telemetry do
  use Supervisor
end
"""

TMP_TELEMETRY = '''
defmodule DemoWeb.Telemetry do
  use Supervisor
  import Telemetry.Metrics

  def metrics do
    [
      summary("phoenix.endpoint.stop.duration", unit: {:native, :millisecond}),
      counter("phoenix.endpoint.stop.count", tags: [:status]),
      distribution("demo.repo.query.queue_time", unit: {:native, :millisecond}),
      distribution("demo.repo.query.total_time", unit: {:native, :millisecond}),
      last_value("vm.system_counts.process_count")
    ]
  end
end
'''


def generate(root: Path, telemetry: str, *, promex: bool = False) -> Path:
    write_project(root, telemetry, "prom_ex" if promex else "telemetry_metrics_prometheus_core")
    diff = subprocess.run([sys.executable, "-m", "phoenix_ops.cli", "gen", "alerts", str(root)], capture_output=True,
                          text=True, timeout=60)
    assert diff.returncode == 1 and "+++ b/deploy/prometheus/demo-alerts.yml" in diff.stdout, diff.stderr
    assert not (root / "deploy").exists()  # the diff comes first
    done = subprocess.run([sys.executable, "-m", "phoenix_ops.cli", "gen", "alerts", str(root), "--write"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return root / "deploy/prometheus/demo-alerts.yml"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def alert(name: str, at: str, *fired: tuple[dict, dict]) -> dict:
    return {"eval_time": at, "alertname": name,
            "exp_alerts": [{"exp_labels": labels, "exp_annotations": notes} for labels, notes in fired]}


def run_tests(rules: Path, series: dict[str, str], checks: list[dict]) -> None:
    assert promtool("check", "rules", rules.name, cwd=rules.parent).returncode == 0
    test = {"rule_files": [rules.name], "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": [{"series": s, "values": v} for s, v in series.items()],
                       "alert_rule_test": checks}]}
    (rules.parent / "test.yml").write_text(json.dumps(test, indent=1))  # JSON is YAML
    done = promtool("test", "rules", "test.yml", cwd=rules.parent)
    assert done.returncode == 0, done.stdout + done.stderr


# phoenix-ops exports, shared by both projects: one error finding appears at minute 3; one command's
# export stops (its timestamp stays at 0) while another's keeps time.
EXPORT_SERIES = {
    'phoenix_ops_findings{command="jobs",rule="JOB100",rule_name="oban-orphaned-jobs",severity="error"}': "0 0 0 1x200",
    'phoenix_ops_findings{command="jobs",rule="JOB102",rule_name="oban-queue-stalled",severity="error"}': "0x200",
    'phoenix_ops_findings{command="jobs",rule="JOB103",rule_name="oban-queue-backlog",severity="warning"}': "2x200",
    'phoenix_ops_last_run_timestamp_seconds{command="jobs"}': "0+60x200",
    'phoenix_ops_last_run_timestamp_seconds{command="metrics"}': "0x200",
}
ERROR = ({"severity": "critical", "command": "jobs", "rule": "JOB100", "rule_name": "oban-orphaned-jobs"},
         {"summary": "phoenix-ops found an error",
          "description": "jobs: JOB100 oban-orphaned-jobs (1 finding(s)); `phoenix-ops explain JOB100` says how to fix it"})
WARNING = ({"severity": "warning", "command": "jobs", "rule": "JOB103", "rule_name": "oban-queue-backlog"},
           {"summary": "phoenix-ops found a warning", "description": "jobs: JOB103 oban-queue-backlog (2 finding(s))"})
STALE = ({"severity": "warning", "command": "metrics"},
         {"summary": "phoenix-ops has not run for an hour",
          "description": "metrics last exported 1h 30m 0s ago: is its timer running?"})
EXPORT_CHECKS = [
    alert("PhoenixOpsErrorFinding", "2m"), alert("PhoenixOpsErrorFinding", "5m", ERROR),
    alert("PhoenixOpsWarningFinding", "20m"), alert("PhoenixOpsWarningFinding", "40m", WARNING),
    alert("PhoenixOpsExportStale", "50m"), alert("PhoenixOpsExportStale", "90m", STALE),
]


def test_promex_alerts_fire_and_stay_silent(tmp_path):
    rules = generate(tmp_path / "app", PROMEX_TELEMETRY, promex=True)
    p = "demo_prom_ex_"
    series = {
        f'{p}beam_stats_process_count{{instance="a"}}': "240000x30", f'{p}beam_stats_process_count{{instance="b"}}': "900x30",
        f'{p}beam_system_process_limit_info{{instance="a"}}': "262144x30",
        f'{p}beam_system_process_limit_info{{instance="b"}}': "262144x30",
        f'{p}beam_stats_run_queue_count{{instance="a"}}': "9x30", f'{p}beam_stats_run_queue_count{{instance="b"}}': "4x30",
        f'{p}beam_system_schedulers_online_info{{instance="a"}}': "4x30",
        f'{p}beam_system_schedulers_online_info{{instance="b"}}': "4x30",
        f'{p}phoenix_http_requests_total{{instance="a",status="500"}}': "0+10x30",
        f'{p}phoenix_http_requests_total{{instance="a",status="200"}}': "0+90x30",
        f'{p}phoenix_http_requests_total{{instance="b",status="500"}}': "0+1x30",
        f'{p}phoenix_http_requests_total{{instance="b",status="200"}}': "0+99x30",
        f'{p}ecto_repo_query_queue_time_milliseconds_bucket{{instance="a",le="10"}}': "0+10x30",
        f'{p}ecto_repo_query_queue_time_milliseconds_bucket{{instance="a",le="100"}}': "0+100x30",
        f'{p}ecto_repo_query_queue_time_milliseconds_bucket{{instance="a",le="+Inf"}}': "0+100x30",
        f'{p}ecto_repo_query_queue_time_milliseconds_bucket{{instance="b",le="10"}}': "0+100x30",
        f'{p}ecto_repo_query_queue_time_milliseconds_bucket{{instance="b",le="100"}}': "0+100x30",
        f'{p}ecto_repo_query_queue_time_milliseconds_bucket{{instance="b",le="+Inf"}}': "0+100x30",
        f'{p}oban_queue_length_count{{instance="a",queue="mailers",state="available"}}': "20000x30",
        f'{p}oban_queue_length_count{{instance="a",queue="mailers",state="scheduled"}}': "90000x30",
        f'{p}oban_queue_length_count{{instance="a",queue="default",state="available"}}': "5x30",
        **EXPORT_SERIES,
    }
    checks = [
        alert("BeamProcessesNearLimit", "3m"),  # `for: 5m` not yet over
        alert("BeamProcessesNearLimit", "10m", (
            {"severity": "critical", "phoenix_ops_rule": "OBS100", "instance": "a"},
            {"summary": "process count near the BEAM's limit",
             "description": "a: process count at 91.55% of the limit"})),
        alert("BeamAtomsNearLimit", "10m"),  # no atom series: silent
        alert("BeamRunQueueLong", "15m", (
            {"severity": "warning", "phoenix_ops_rule": "OBS102", "instance": "a"},
            {"summary": "run queue long for the schedulers", "description": "a: 2.25 processes waiting per scheduler"})),
        alert("Http5xxShareHigh", "15m", (
            {"severity": "critical", "phoenix_ops_rule": "OBS108", "instance": "a"},
            {"summary": "many requests end in a 5xx error", "description": "a: 10% of requests are 5xx"})),
        alert("EctoQueueTimeHigh", "20m", (
            {"severity": "warning", "phoenix_ops_rule": "OBS106", "instance": "a"},
            {"summary": "queries wait for a pool connection", "description": "a: p95 at 95 ms (limit 50 ms)"})),
        alert("EctoQueryTimeHigh", "20m"),
        alert("ObanQueueLong", "20m", (
            {"severity": "warning", "phoenix_ops_rule": "OBS109", "queue": "mailers"},
            {"summary": "Oban queue backlog", "description": "queue mailers: 20000 jobs waiting"})),
        *EXPORT_CHECKS,
    ]
    run_tests(rules, series, checks)


def test_telemetry_module_alerts_fire_and_stay_silent(tmp_path):
    rules = generate(tmp_path / "app", TMP_TELEMETRY)
    text = rules.read_text()
    assert "summaries it drops are not alerted: phoenix.endpoint.stop.duration" in text
    assert "BeamRunQueueLong" not in text  # no scheduler count among these series
    series = {
        'vm_system_counts_process_count{instance="a"}': "250000x30", 'vm_system_counts_process_count{instance="b"}': "5000x30",
        'phoenix_endpoint_stop_count{instance="a",status="503"}': "0+30x30",
        'phoenix_endpoint_stop_count{instance="a",status="200"}': "0+70x30",
        'phoenix_endpoint_stop_count{instance="b",status="200"}': "0+70x30",
        'demo_repo_query_total_time_bucket{instance="a",le="100"}': "0+10x30",
        'demo_repo_query_total_time_bucket{instance="a",le="1000"}': "0+100x30",
        'demo_repo_query_total_time_bucket{instance="a",le="+Inf"}': "0+100x30",
        'demo_repo_query_queue_time_bucket{instance="a",le="10"}': "0+100x30",
        'demo_repo_query_queue_time_bucket{instance="a",le="+Inf"}': "0+100x30",
        **EXPORT_SERIES,
    }
    checks = [
        alert("BeamProcessesNearLimit", "10m", (
            {"severity": "critical", "phoenix_ops_rule": "OBS100", "instance": "a"},
            {"summary": "process count near the BEAM's default limit",
             "description": "a: process count at 95.37% of the default limit"})),
        alert("Http5xxShareHigh", "15m", (
            {"severity": "critical", "phoenix_ops_rule": "OBS108", "instance": "a"},
            {"summary": "many requests end in a 5xx error", "description": "a: 30% of requests are 5xx"})),
        alert("EctoQueryTimeHigh", "20m", (
            {"severity": "warning", "phoenix_ops_rule": "OBS107", "instance": "a"},
            {"summary": "database queries are slow", "description": "a: p95 at 950 ms (limit 500 ms)"})),
        alert("EctoQueueTimeHigh", "20m"),
        *EXPORT_CHECKS,
    ]
    run_tests(rules, series, checks)

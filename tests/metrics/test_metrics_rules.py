"""Each metrics rule on scrapes written here in the shapes the exporters produce (the text format of
TelemetryMetricsPrometheus.Core and PromEx): it fires on the condition and stays quiet short of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from project_shapes import GOOD

from phoenix_ops.metrics.command import MetricsArgs, examine, memory_limit
from phoenix_ops.metrics.scrape import MetricsError
from phoenix_ops.metrics.view import Limits, MetricsView


def hist(name: str, buckets: dict[str, float], labels: str = "") -> str:
    """A histogram family: cumulative `buckets` {le: count}, labels as `k="v",` pairs."""
    lines = [f"# HELP {name} A histogram.", f"# TYPE {name} histogram"]
    lines += [f'{name}_bucket{{{labels}le="{le}"}} {c}' for le, c in buckets.items()]
    total = buckets["+Inf"]
    lines += [f"{name}_sum{{{labels.rstrip(',')}}} {total * 3}", f"{name}_count{{{labels.rstrip(',')}}} {total}"]
    return "\n".join(lines)


def tmp_scrape(*, memory_kb=90_000, run_queue=0, queue_ms=None, query_ms=None, requests=None, extra="") -> str:
    """The shape of TelemetryMetricsPrometheus.Core for phx.new-like metrics."""
    parts = [
        "# HELP vm_memory_total The total amount of memory.\n# TYPE vm_memory_total gauge",
        f"vm_memory_total {memory_kb}",
        "# HELP vm_total_run_queue_lengths_total Run queue.\n# TYPE vm_total_run_queue_lengths_total gauge",
        f"vm_total_run_queue_lengths_total {run_queue}",
        hist("phoenix_router_dispatch_stop_duration", {"10": 40, "100": 50, "500": 50, "+Inf": 50}, 'route="/",'),
        hist("demo_repo_query_queue_time", queue_ms or {"1": 90, "10": 100, "100": 100, "+Inf": 100}),
        hist("demo_repo_query_total_time", query_ms or {"10": 95, "100": 100, "1000": 100, "+Inf": 100}),
    ]
    if requests:
        parts.append("# HELP phoenix_endpoint_stop_count Requests.\n# TYPE phoenix_endpoint_stop_count counter")
        parts += [f'phoenix_endpoint_stop_count{{status="{s}"}} {n}' for s, n in requests.items()]
    return "\n".join(parts) + "\n" + extra


def run(*urls, interval=0.05, **limits):
    return examine(MetricsArgs(list(urls), interval=interval, timeout=3, limits=Limits(**limits)))


def ids(findings) -> set[str]:
    return {f.rule_id for f in findings}


def test_a_healthy_node_has_no_findings(serve):
    views, findings = run(serve(tmp_scrape(), tmp_scrape()))
    assert findings == []
    assert views[0].interval and views[0].latest.names >= {"vm_memory_total", "demo_repo_query_total_time_bucket"}


PROMEX = """# TYPE app_prom_ex_beam_stats_process_count gauge
app_prom_ex_beam_stats_process_count 240000
# TYPE app_prom_ex_beam_system_process_limit_info gauge
app_prom_ex_beam_system_process_limit_info 262144
# TYPE app_prom_ex_beam_stats_atom_count gauge
app_prom_ex_beam_stats_atom_count 900000
# TYPE app_prom_ex_beam_stats_port_count gauge
app_prom_ex_beam_stats_port_count 20
# TYPE app_prom_ex_beam_stats_run_queue_count gauge
app_prom_ex_beam_stats_run_queue_count 9
# TYPE app_prom_ex_beam_system_schedulers_online_info gauge
app_prom_ex_beam_system_schedulers_online_info 4
# TYPE app_prom_ex_beam_memory_allocated_bytes gauge
app_prom_ex_beam_memory_allocated_bytes 943718400
# TYPE app_prom_ex_phoenix_http_requests_total counter
"""


def test_promex_limits_run_queue_and_memory(serve):
    url = serve(PROMEX)
    found = {f.key: f for f in run(url, interval=0, memory_limit=2**30)[1]}
    assert found["process"].rule_id == "OBS100" and found["process"].confidence.label == "high"
    assert "process count 240000 is 92% of the limit 262144" in found["process"].message
    assert found["atom"].confidence.label == "medium"  # against the BEAM's default limit
    assert "port" not in found
    assert "run queue 9 with 4 scheduler(s)" in found["run-queue"].message
    assert "BEAM memory 900 MiB is 88% of the 1024 MiB limit" in found["memory"].message
    quiet = run(url, interval=0, memory_limit=2 * 2**30, usage=0.95, run_queue_factor=3)[1]
    assert ids(quiet) == set()


def test_memory_in_kilobytes_and_schedulers_from_the_flag(serve):
    url = serve(tmp_scrape(memory_kb=900_000, run_queue=5))
    found = {f.rule_id: f for f in run(url, interval=0, memory_limit=2**30, schedulers=2)[1]}
    assert "BEAM memory 879 MiB is 86% of the 1024 MiB limit" in found["OBS101"].message
    assert "run queue 5 with 2 scheduler(s)" in found["OBS102"].message
    assert ids(run(url, interval=0)[1]) == set()  # no limit, no scheduler count: nothing to judge against


def test_ecto_queue_and_query_time_between_scrapes(serve):
    before = tmp_scrape()
    after = tmp_scrape(queue_ms={"1": 100, "10": 110, "100": 200, "+Inf": 200},
                       query_ms={"10": 100, "100": 100, "1000": 200, "+Inf": 200})
    found = {f.rule_id: f for f in run(serve(before, after))[1]}
    assert "Ecto queue time p95 is 95 ms over 100 queries (limit 50 ms; demo_repo_query_queue_time_bucket)" \
        in found["OBS106"].message
    assert "Ecto query time p95 is 955 ms over 100 queries (limit 500 ms" in found["OBS107"].message
    assert ids(run(serve(before, after), ecto_queue=0.1, ecto_query=1.0)[1]) == set()


def test_a_value_the_subject_and_the_check_both_ask_for_is_computed_once(serve, monkeypatch):
    asked = []
    quantile = MetricsView.quantile
    monkeypatch.setattr(MetricsView, "quantile", lambda view, *a: asked.append(a[0].pattern) or quantile(view, *a))
    scrape = tmp_scrape(queue_ms={"1": 100, "10": 110, "100": 200, "+Inf": 200})
    assert "OBS106" in ids(run(serve(tmp_scrape(), scrape))[1])
    assert sorted(asked) == sorted(set(asked)) and len(asked) == 2  # the queue and the query histograms


def test_5xx_share_between_scrapes(serve):
    before = tmp_scrape(requests={"200": 1000, "500": 10})
    after = tmp_scrape(requests={"200": 1090, "500": 20, "503": 2})
    (f,) = run(serve(before, after))[1]
    assert f.rule_id == "OBS108" and f.message.startswith("12 of 102 requests in ")
    assert "were 5xx (12%; limit 5%; phoenix_endpoint_stop_count)" in f.message
    assert run(serve(before, after), error_share=0.2)[1] == []
    assert run(serve(before, tmp_scrape(requests={"200": 1005, "500": 12})))[1] == []  # too few requests
    assert run(serve(after), interval=0)[1] == []  # one scrape: no rate


def test_oban_queue_length(serve):
    oban = ('# TYPE app_prom_ex_oban_queue_length_count gauge\n'
            'app_prom_ex_oban_queue_length_count{queue="mailers",state="available"} 25000\n'
            'app_prom_ex_oban_queue_length_count{queue="mailers",state="scheduled"} 90000\n'
            'app_prom_ex_oban_queue_length_count{queue="default",state="available"} 3\n')
    (f,) = run(serve(tmp_scrape(extra=oban)), interval=0)[1]
    assert f.rule_id == "OBS109" and "Oban queue mailers: 25000 jobs waiting" in f.message


def test_series_missing_and_cowboy_on_bandit(serve):
    text = ("# HELP app_prom_ex_plug_cowboy_http_requests_total Requests.\n"
            "# TYPE app_prom_ex_plug_cowboy_http_requests_total counter\n"
            "# TYPE other_gauge gauge\nother_gauge 1\n")
    found = {(f.rule_id, f.key) for f in run(serve(text), interval=0)[1]}
    assert found == {("OBS103", "vm"), ("OBS103", "phoenix"), ("OBS104", "cowboy")}


MIX = """
defmodule Demo.MixProject do
  use Mix.Project

  def project do
    [app: :demo, version: "0.1.0", elixir: "~> 1.14", deps: deps()]
  end

  defp deps do
    [{:phoenix, "~> 1.7.14"}, {:ecto_sql, "~> 3.10"}, {:postgrex, ">= 0.0.0"}, {:bandit, "~> 1.5"},
     {:oban, "~> 2.18"}, %s]
  end
end
"""


def write_project(root: Path, telemetry: str, reporter: str = "telemetry_metrics_prometheus_core") -> Path:
    """The well-configured project, with Oban, the given Prometheus reporter and telemetry module."""
    for rel, text in {**GOOD, "mix.exs": MIX % f'{{:{reporter}, ">= 0.0.0"}}'}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "lib/demo_web").mkdir(parents=True, exist_ok=True)
    (root / "lib/demo_web/telemetry.ex").write_text(telemetry)
    return root


TELEMETRY = '''
defmodule DemoWeb.Telemetry do
  use Supervisor
  import Telemetry.Metrics

  def metrics do
    [
      summary("phoenix.endpoint.stop.duration", unit: {:native, :millisecond}),
      distribution("demo.repo.query.total_time", unit: {:native, :millisecond}),
      last_value("vm.memory.total", unit: {:byte, :kilobyte})
    ]
  end
end
'''


def test_with_the_project_ecto_and_oban_are_expected_and_dropped_summaries_named(serve, tmp_path):
    project = write_project(tmp_path, TELEMETRY)
    url = serve(tmp_scrape())
    found = {(f.rule_id, f.key): f for f in examine(MetricsArgs([url], interval=0, project=project))[1]}
    assert set(found) == {("OBS103", "oban"), ("OBS105", "phoenix.endpoint.stop.duration")}
    assert 'summary("phoenix.endpoint.stop.duration") is defined' in found[("OBS105", "phoenix.endpoint.stop.duration")].message


@pytest.mark.parametrize("value, expected", [
    ("512Mi", 512 * 2**20), ("2G", 2e9), ("1073741824", 2**30), ("1.5Gi", 1.5 * 2**30), (None, None),
])
def test_memory_limits(value, expected):
    assert memory_limit(value) == expected


def test_memory_limit_from_a_cgroup_file(tmp_path):
    (tmp_path / "memory.max").write_text("536870912\n")
    assert memory_limit(str(tmp_path / "memory.max")) == 2**29
    (tmp_path / "memory.max").write_text("max\n")
    with pytest.raises(MetricsError, match="sets no memory limit"):
        memory_limit(str(tmp_path / "memory.max"))
    with pytest.raises(MetricsError, match="give bytes"):
        memory_limit("lots")

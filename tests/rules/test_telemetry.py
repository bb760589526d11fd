"""OBS rules: VM measurements, metrics export, tracing, request telemetry, logging, Prometheus."""

from project_shapes import GOOD, ids
from test_web import ENDPOINT, router

MIX = GOOD["mix.exs"]
BARE_MIX = MIX.replace(',\n     {:prom_ex, "~> 1.9"}, {:opentelemetry_phoenix, "~> 2.0"}, {:logger_json, "~> 6.0"}', "")
RUNTIME = GOOD["config/runtime.exs"]
NO_LEVEL = RUNTIME.replace('  config :logger, level: String.to_existing_atom(System.get_env("LOGGER_LEVEL", "info"))\n',
                           "")


def test_obs001_to_003_and_007_fire_on_a_bare_dependency_list(make_project, findings):
    got = {f.rule_id: f for f in findings(make_project({"mix.exs": BARE_MIX}))}
    for rule_id in ("OBS001", "OBS002", "OBS003", "OBS007"):
        assert got[rule_id].severity.label == "info" and got[rule_id].location.path == "mix.exs"
    assert not {"OBS001", "OBS002", "OBS003", "OBS007"} & {f.rule_id for f in findings(make_project())}


def test_obs001_quiet_with_telemetry_poller(make_project, findings):
    mix = BARE_MIX.replace('{:bandit, "~> 1.5"}', '{:bandit, "~> 1.5"}, {:telemetry_poller, "~> 1.0"}')
    assert ids(findings(make_project({"mix.exs": mix}), "OBS001")) == []


def test_obs004_endpoint_without_plug_telemetry(make_project, findings):
    endpoint = ENDPOINT.replace("  plug Plug.Telemetry, event_prefix: [:phoenix, :endpoint]\n", "")
    got = findings(make_project({"lib/demo_web/endpoint.ex": endpoint}), "OBS004")
    assert [(f.rule_id, f.location.path) for f in got] == [("OBS004", "lib/demo_web/endpoint.ex")]


def test_obs005_debug_level_and_unset_level(make_project, findings):
    prod = GOOD["config/prod.exs"] + "config :logger, level: :debug\n"
    got = findings(make_project({"config/prod.exs": prod, "config/runtime.exs": NO_LEVEL}), "OBS005")
    assert [(f.rule_id, f.location.path, f.confidence.label) for f in got] == [("OBS005", "config/prod.exs", "high")]
    got = findings(make_project({"config/runtime.exs": NO_LEVEL}), "OBS005")
    assert [(f.rule_id, f.confidence.label) for f in got] == [("OBS005", "medium")]
    debug_default = RUNTIME.replace('"LOGGER_LEVEL", "info"', '"LOGGER_LEVEL", "debug"')
    got = findings(make_project({"config/runtime.exs": debug_default}), "OBS005")
    assert ids(got) == ["OBS005"] and "LOGGER_LEVEL" in got[0].message
    # Debug in dev only: quiet.
    dev = GOOD["config/dev.exs"] + "config :logger, level: :debug\n"
    assert ids(findings(make_project({"config/dev.exs": dev}), "OBS005")) == []
    # The handler that prints has its level: debug lines are never written.
    for handler in ("console", "default_handler"):
        prod = GOOD["config/prod.exs"] + f"config :logger, :{handler}, format: \"$message\\n\", level: :info\n"
        assert ids(findings(make_project({"config/prod.exs": prod, "config/runtime.exs": NO_LEVEL}), "OBS005")) == []
        noisy = prod.replace("level: :info", "level: :debug")
        assert ids(findings(make_project({"config/prod.exs": noisy, "config/runtime.exs": NO_LEVEL}), "OBS005")) == \
            ["OBS005"]


def test_obs006_fixed_level(fresh_project, findings):
    prod = GOOD["config/prod.exs"] + "config :logger, level: :warning\n"
    got = findings(fresh_project({"config/prod.exs": prod, "config/runtime.exs": NO_LEVEL}), "OBS006")
    assert [(f.rule_id, f.severity.label) for f in got] == [("OBS006", "info")]
    assert "(:info) are dropped" in got[0].message
    generated = prod.replace(":warning", ":info")  # what phx.new writes: nothing lost, nothing to say
    assert ids(findings(fresh_project({"config/prod.exs": generated, "config/runtime.exs": NO_LEVEL}), "OBS006")) == []
    assert ids(findings(fresh_project(), "OBS006")) == []


def test_obs007_quiet_with_json_formatter_config(make_project, findings):
    config = GOOD["config/config.exs"] + \
        "config :logger, :default_handler, formatter: {LoggerJSON.Formatters.Basic, []}\n"
    assert ids(findings(make_project({"mix.exs": BARE_MIX, "config/config.exs": config}), "OBS007")) == []


TELEMETRY = '''
defmodule DemoWeb.Telemetry do
  use Supervisor
  import Telemetry.Metrics

  def init(_arg) do
    children = [{TelemetryMetricsPrometheus, metrics: metrics()}]
    Supervisor.init(children, strategy: :one_for_one)
  end

  def metrics do
    [
      summary("phoenix.endpoint.stop.duration", unit: {:native, :millisecond}),
      counter("phoenix.endpoint.stop.duration")
    ]
  end
end
'''


def test_obs008_summaries_fed_to_prometheus(make_project, findings):
    mix = MIX.replace('{:bandit, "~> 1.5"}', '{:bandit, "~> 1.5"}, {:telemetry_metrics_prometheus, "~> 1.1"}')
    got = findings(make_project({"mix.exs": mix, "lib/demo_web/telemetry.ex": TELEMETRY}), "OBS008")
    assert [(f.rule_id, f.location.path, f.location.line) for f in got] == [("OBS008", "lib/demo_web/telemetry.ex", 13)]
    histograms = TELEMETRY.replace('summary("phoenix', 'distribution("phoenix')
    assert ids(findings(make_project({"mix.exs": mix, "lib/demo_web/telemetry.ex": histograms}), "OBS008")) == []
    # Summaries with no Prometheus reporter (LiveDashboard only): quiet.
    assert ids(findings(make_project({"lib/demo_web/telemetry.ex": TELEMETRY}), "OBS008")) == []


def test_obs009_metrics_route_without_auth(make_project, findings):
    public = router('''
  scope "/" do
    forward "/metrics", PromEx.Plug, prom_ex_module: Demo.PromEx
  end
''')
    got = findings(make_project({"lib/demo_web/router.ex": public}), "OBS009")
    assert ids(got) == ["OBS009"] and "/metrics" in got[0].message
    admin = public.replace('scope "/" do\n    forward', 'scope "/" do\n    pipe_through :admin\n    forward')
    assert ids(findings(make_project({"lib/demo_web/router.ex": admin}), "OBS009")) == []
    endpoint = ENDPOINT.replace("  plug Plug.Static",
                                "  plug PromEx.Plug, prom_ex_module: Demo.PromEx\n  plug Plug.Static")
    got = findings(make_project({"lib/demo_web/endpoint.ex": endpoint}), "OBS009")
    assert [(f.rule_id, f.location.path) for f in got] == [("OBS009", "lib/demo_web/endpoint.ex")]

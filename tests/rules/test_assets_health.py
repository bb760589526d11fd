"""AST rules (assets build and static delivery) and HLT rules (health and readiness endpoints)."""

import pytest
from project_shapes import GOOD, ids
from test_web import ENDPOINT, router

from phoenix_ops.project.usage import health_path
from phoenix_ops.rules.health import health_paths

MIX = GOOD["mix.exs"].replace('{:bandit, "~> 1.5"}', '{:bandit, "~> 1.5"}, {:esbuild, "~> 0.8"}')


def with_aliases(body: str) -> str:
    return MIX.replace("deps: deps()]", "deps: deps(), aliases: aliases()]").replace(
        "  defp deps do", f"  defp aliases do\n    [{body}]\n  end\n\n  defp deps do")


def test_ast001_alias_missing_unminified_or_not_digesting(make_project, findings):
    got = findings(make_project({"mix.exs": with_aliases('setup: ["deps.get"]')}), "AST001")
    assert ids(got) == ["AST001"] and "no assets.deploy" in got[0].message
    got = findings(make_project({"mix.exs": with_aliases('"assets.deploy": ["esbuild demo", "phx.digest"]')}), "AST001")
    assert ids(got) == ["AST001"] and "--minify" in got[0].message
    got = findings(make_project({"mix.exs": with_aliases('"assets.deploy": ["phx.digest", "esbuild demo --minify"]')}),
                   "AST001")
    assert ids(got) == ["AST001"] and "phx.digest" in got[0].message
    good = with_aliases('"assets.deploy": ["esbuild demo --minify", "phx.digest"]')
    assert ids(findings(make_project({"mix.exs": good}), "AST001")) == []
    assert ids(findings(make_project(), "AST001")) == []  # no asset pipeline at all


def test_ast002_static_without_manifest(make_project, findings):
    prod = GOOD["config/prod.exs"].replace(
        'config :demo, DemoWeb.Endpoint, cache_static_manifest: "priv/static/cache_manifest.json"\n', "")
    got = findings(make_project({"config/prod.exs": prod}), "AST002")
    assert [(f.rule_id, f.location.path) for f in got] == [("AST002", "lib/demo_web/endpoint.ex")]
    api = ENDPOINT.replace('  plug Plug.Static, at: "/", from: :demo, gzip: true\n', "")
    assert ids(findings(make_project({"config/prod.exs": prod, "lib/demo_web/endpoint.ex": api}), "AST002")) == []


def test_ast003_watchers_in_config_exs(make_project, findings):
    config = GOOD["config/config.exs"] + \
        'config :demo, DemoWeb.Endpoint, watchers: [esbuild: {Esbuild, :install_and_run, [:demo, ~w(--watch)]}]\n'
    got = findings(make_project({"config/config.exs": config}), "AST003")
    assert [(f.rule_id, f.location.path) for f in got] == [("AST003", "config/config.exs")]
    dev = GOOD["config/dev.exs"] + 'config :demo, DemoWeb.Endpoint, live_reload: [patterns: [~r"lib/.*ex$"]]\n'
    assert ids(findings(make_project({"config/dev.exs": dev}), "AST003")) == []


def test_ast004_static_without_gzip(make_project, findings):
    off = ENDPOINT.replace("gzip: true", "gzip: false")
    got = findings(make_project({"lib/demo_web/endpoint.ex": off}), "AST004")
    assert [(f.rule_id, f.severity.label) for f in got] == [("AST004", "info")]
    generated_18 = ENDPOINT.replace("gzip: true", "gzip: not code_reloading?")
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": generated_18}), "AST004")) == []


def test_ast005_short_cache_for_digested_assets(make_project, findings):
    short = ENDPOINT.replace("gzip: true", 'gzip: true, cache_control_for_vsn_requests: "public, max-age=3600"')
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": short}), "AST005")) == ["AST005"]
    year = ENDPOINT.replace("gzip: true", 'gzip: true, cache_control_for_vsn_requests: "public, max-age=31536000"')
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": year}), "AST005")) == []


HEALTH = router('''
  scope "/", DemoWeb do
    get "/health", HealthController, :show
  end
''')
HEALTH_CONTROLLER = '''
defmodule DemoWeb.HealthController do
  use DemoWeb, :controller
  def show(conn, _params), do: send_resp(conn, 200, "ok")
end
'''


def test_hlt001_no_health_route(make_project, findings):
    got = findings(make_project({"lib/demo_web/router.ex": router()}), "HLT001")
    assert [(f.rule_id, f.location.path) for f in got] == [("HLT001", "lib/demo_web/router.ex")]
    assert ids(findings(make_project({"lib/demo_web/router.ex": HEALTH}), "HLT001")) == []
    assert ids(findings(make_project({"lib/demo_web/router.ex": None}), "HLT001")) == []  # no router: nothing to judge


def test_hlt001_health_answered_by_an_endpoint_plug(make_project, findings):
    plug = '''
defmodule DemoWeb.Plugs.Status do
  import Plug.Conn
  def init(opts), do: opts
  def call(%Plug.Conn{path_info: ["status"]} = conn, _opts), do: conn |> send_resp(200, "ok") |> halt()
  def call(conn, _opts), do: conn
end
'''
    endpoint = ENDPOINT.replace("  plug Plug.Static", "  plug DemoWeb.Plugs.Status\n  plug Plug.Static")
    project = make_project({"lib/demo_web/router.ex": router(), "lib/demo_web/endpoint.ex": endpoint,
                            "lib/demo_web/plugs/status.ex": plug})
    assert ids(findings(project, "HLT001")) == []


def test_health_paths_a_plug_matches_in_a_guard_through_an_alias(make_project, findings):
    plug = '''
defmodule DemoWeb.Plugs.Alive do
  import Plug.Conn
  @default "/status/alive"
  @paths [@default, "/status/health", "/status/#{:x}"]
  def init(opts), do: opts
  def call(%Plug.Conn{request_path: path} = conn, _) when path in @paths, do: conn |> send_resp(200, "ok") |> halt()
  def call(%{request_path: up} = conn, _) when up == "/up/health", do: conn |> send_resp(200, "ok") |> halt()
  def call(conn, _), do: conn
end
'''
    endpoint = ENDPOINT.replace("  plug Plug.Static", "  alias DemoWeb.Plugs.{Other, Alive}\n  plug(Alive)\n  plug Plug.Static")
    project = make_project({"lib/demo_web/router.ex": router(), "lib/demo_web/endpoint.ex": endpoint,
                            "lib/demo_web/plugs/alive.ex": plug})
    assert project.endpoints[0].plugs[0].module == "DemoWeb.Plugs.Alive"
    assert project.usage.handlers["DemoWeb.Plugs.Alive"].paths == ["/status/alive", "/status/health", "/up/health"]
    assert ids(findings(project, "HLT001")) == []


def test_a_page_named_like_a_probe_is_no_health_path(make_project, findings):
    pages = router('''
  scope "/", DemoWeb do
    get "/live", PageController, :live
    get "/live/ical/:slug", FeedController, :ical
    get "/status", StatusController, :show
  end
''')
    project = make_project({"lib/demo_web/router.ex": pages})
    assert [p.path for p in health_paths(project)] == ["/status"]
    assert ids(findings(project, "HLT004")) == []  # the show's page may query the database
    unsure = pages.replace("StatusController", "PageController")
    assert ids(findings(make_project({"lib/demo_web/router.ex": unsure}), "HLT001")) == ["HLT001"]


@pytest.mark.parametrize(("path", "handler", "health"), [
    ("/health", "DemoWeb.PageController", True), ("/api/healthz", "", True), ("/readyz", "", True),
    ("/live", "DemoWeb.PageController", False), ("/live", "DemoWeb.HealthController", True),
    ("/status/alive", "NervesHubWeb.Plugs.ImAlive", True), ("/up", "DemoWeb.UpController", True),
    ("/up", "DemoWeb.UploadController", False), ("/ping", "", False), ("/about", "DemoWeb.StatusController", False)])
def test_health_path_by_path_and_handler(path, handler, health):
    assert health_path(path, handler) == health


def test_hlt002_health_without_readiness(make_project, findings):
    got = findings(make_project({"lib/demo_web/router.ex": HEALTH}), "HLT002")
    assert [(f.rule_id, f.severity.label) for f in got] == [("HLT002", "info")]
    ready = HEALTH.replace('get "/health", HealthController, :show',
                           'get "/health", HealthController, :show\n    get "/ready", HealthController, :ready')
    assert ids(findings(make_project({"lib/demo_web/router.ex": ready}), "HLT002")) == []


def test_hlt003_health_behind_auth_or_browser_session(make_project, findings):
    behind_auth = router('''
  scope "/", DemoWeb do
    pipe_through :admin
    get "/healthz", HealthController, :show
  end
''')
    got = findings(make_project({"lib/demo_web/router.ex": behind_auth}), "HLT003")
    assert [(f.rule_id, f.severity.label) for f in got] == [("HLT003", "warning")]
    browser = behind_auth.replace("pipe_through :admin", "pipe_through :browser")
    got = findings(make_project({"lib/demo_web/router.ex": browser}), "HLT003")
    assert [(f.rule_id, f.severity.label) for f in got] == [("HLT003", "info")]
    assert ids(findings(make_project({"lib/demo_web/router.ex": HEALTH}), "HLT003")) == []


def test_hlt004_liveness_that_queries_the_database(make_project, findings):
    live = router('''
  scope "/", DemoWeb do
    get "/livez", HealthController, :show
  end
''')
    querying = HEALTH_CONTROLLER.replace('send_resp(conn, 200, "ok")',
                                         'Demo.Repo.query!("SELECT 1") && send_resp(conn, 200, "ok")')
    got = findings(make_project({"lib/demo_web/router.ex": live, "lib/demo_web/controllers/health.ex": querying}),
                   "HLT004")
    assert [(f.rule_id, f.location.path) for f in got] == [("HLT004", "lib/demo_web/controllers/health.ex")]
    assert ids(findings(make_project({"lib/demo_web/router.ex": live,
                                      "lib/demo_web/controllers/health.ex": HEALTH_CONTROLLER}), "HLT004")) == []


FLY_CHECK = '''app = "demo"

[http_service]
  internal_port = 4000

  [[http_service.checks]]
    grace_period = "10s"
    interval = "15s"
    method = "GET"
    timeout = "2s"
    path = "/healthz"
'''


def test_hlt005_fly_checks_a_path_no_route_serves(make_project, findings):
    got = findings(make_project({"lib/demo_web/router.ex": HEALTH, "fly.toml": FLY_CHECK}), "HLT005")
    assert [(f.rule_id, f.location.path, f.severity.label) for f in got] == [("HLT005", "fly.toml", "error")]
    assert "/healthz" in got[0].message
    served = FLY_CHECK.replace("/healthz", "/health")
    assert ids(findings(make_project({"lib/demo_web/router.ex": HEALTH, "fly.toml": served}), "HLT005")) == []


def test_hlt005_dockerfile_healthcheck_path(make_project, findings):
    dockerfile = ("FROM debian:bookworm-slim\nCOPY app /app\n"
                  "HEALTHCHECK CMD curl -fsS http://localhost:4000/status || exit 1\nCMD [\"/app/bin/server\"]\n")
    got = findings(make_project({"lib/demo_web/router.ex": HEALTH, "Dockerfile": dockerfile}), "HLT005")
    assert [(f.rule_id, f.location.path, f.location.line) for f in got] == [("HLT005", "Dockerfile", 3)]


def test_hlt006_force_ssl_redirects_the_checked_path(make_project, findings):
    served = FLY_CHECK.replace("/healthz", "/health")
    got = findings(make_project({"lib/demo_web/router.ex": HEALTH, "fly.toml": served}), "HLT006")
    assert [(f.rule_id, f.location.path) for f in got] == [("HLT006", "fly.toml")]
    prod = GOOD["config/prod.exs"].replace("[rewrite_on: [:x_forwarded_proto]]",
                                           '[rewrite_on: [:x_forwarded_proto], exclude: [paths: ["/health"]]]')
    assert ids(findings(make_project({"lib/demo_web/router.ex": HEALTH, "fly.toml": served, "config/prod.exs": prod}),
                        "HLT006")) == []


K8S = '''apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: demo:latest
          livenessProbe:
            httpGet:
              path: /health
              port: 4000
'''


def test_hlt004_kubernetes_liveness_probe_on_a_querying_health_path(make_project, findings):
    querying = HEALTH_CONTROLLER.replace('send_resp(conn, 200, "ok")',
                                         'Demo.Repo.query!("SELECT 1") && send_resp(conn, 200, "ok")')
    files = {"lib/demo_web/router.ex": HEALTH, "lib/demo_web/controllers/health.ex": querying}
    assert ids(findings(make_project(files), "HLT004")) == []  # /health alone: maybe only readiness
    got = findings(make_project({**files, "k8s/deploy.yaml": K8S}), "HLT004")
    assert ids(got) == ["HLT004"] and "/health" in got[0].message


def test_hlt002_readiness_that_checks_nothing(make_project, findings):
    ready = router('''
  scope "/", DemoWeb do
    get "/health", HealthController, :show
    get "/ready", HealthController, :ready
  end
''')
    files = {"lib/demo_web/router.ex": ready, "lib/demo_web/controllers/health.ex": HEALTH_CONTROLLER}
    got = findings(make_project(files), "HLT002")
    assert ids(got) == ["HLT002"] and "does not query the Repo" in got[0].message

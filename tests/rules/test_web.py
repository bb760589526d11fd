"""WEB rules on HTTPS, origins, CORS, dev tools and the LiveView transports."""

from project_shapes import GOOD, ids

ENDPOINT = GOOD["lib/demo_web/endpoint.ex"]
PROD = GOOD["config/prod.exs"]
PROD_NO_SSL = "\n".join(ln for ln in PROD.splitlines() if "force_ssl" not in ln) + "\n"
ROUTER = '''
defmodule DemoWeb.Router do
  use DemoWeb, :router

  pipeline :browser do
    plug :accepts, ["html"]
    plug :fetch_session
    plug :protect_from_forgery
    plug :put_secure_browser_headers
  end

  pipeline :admin do
    plug DemoWeb.RequireAdmin
  end

  scope "/", DemoWeb do
    pipe_through :browser
    get "/", PageController, :home
  end
'''


def router(extra: str = "") -> str:
    return ROUTER + extra + "end\n"


def test_web001_no_force_ssl_and_quiet_with_plug_ssl(make_project, findings):
    got = findings(make_project({"config/prod.exs": PROD_NO_SSL}), "WEB001")
    assert ids(got) == ["WEB001"] and "DemoWeb.Endpoint" in got[0].message
    with_plug = ENDPOINT.replace("  plug Plug.Static",
                                 "  plug Plug.SSL, rewrite_on: [:x_forwarded_proto]\n  plug Plug.Static")
    assert ids(findings(make_project({"config/prod.exs": PROD_NO_SSL,
                                      "lib/demo_web/endpoint.ex": with_plug}), "WEB001")) == []
    assert ids(findings(make_project(), "WEB001")) == []


def test_web001_force_ssl_only_in_dev_does_not_count(make_project, findings):
    dev = GOOD["config/dev.exs"] + "config :demo, DemoWeb.Endpoint, force_ssl: [hsts: true]\n"
    assert ids(findings(make_project({"config/prod.exs": PROD_NO_SSL, "config/dev.exs": dev}), "WEB001")) == ["WEB001"]


def test_web002_force_ssl_without_rewrite_on(make_project, findings):
    prod = PROD.replace("force_ssl: [rewrite_on: [:x_forwarded_proto]]", "force_ssl: [hsts: true]")
    got = findings(make_project({"config/prod.exs": prod}), "WEB002")
    assert ids(got) == ["WEB002"] and got[0].location.path == "config/prod.exs"
    # TLS terminated by Phoenix itself: no proxy, no loop.
    https = prod + "config :demo, DemoWeb.Endpoint, https: [port: 443, keyfile: \"k\", certfile: \"c\"]\n"
    assert ids(findings(make_project({"config/prod.exs": https}), "WEB002")) == []
    assert ids(findings(make_project(), "WEB002")) == []


def test_web003_hsts_off_or_short(make_project, findings):
    off = PROD.replace("rewrite_on: [:x_forwarded_proto]", "rewrite_on: [:x_forwarded_proto], hsts: false")
    assert ids(findings(make_project({"config/prod.exs": off}), "WEB003")) == ["WEB003"]
    short = PROD.replace("rewrite_on: [:x_forwarded_proto]", "rewrite_on: [:x_forwarded_proto], expires: 86400")
    got = findings(make_project({"config/prod.exs": short}), "WEB003")
    assert ids(got) == ["WEB003"] and "1 days" in got[0].message
    year = PROD.replace("rewrite_on: [:x_forwarded_proto]", "rewrite_on: [:x_forwarded_proto], expires: 31536000")
    assert ids(findings(make_project({"config/prod.exs": year}), "WEB003")) == []


def test_web004_check_origin_false_in_config_exs_reaches_prod(make_project, findings):
    config = GOOD["config/config.exs"].replace('url: [host: "localhost"]',
                                               'url: [host: "localhost"], check_origin: false')
    got = findings(make_project({"config/config.exs": config}), "WEB004")
    assert [(f.rule_id, f.location.path) for f in got] == [("WEB004", "config/config.exs")]
    # Overridden for prod with a real list: quiet.
    prod = PROD + 'config :demo, DemoWeb.Endpoint, check_origin: ["https://shop.example.com"]\n'
    assert ids(findings(make_project({"config/config.exs": config, "config/prod.exs": prod}), "WEB004")) == []
    # Set in dev.exs only: quiet.
    dev = GOOD["config/dev.exs"] + "config :demo, DemoWeb.Endpoint, check_origin: false\n"
    assert ids(findings(make_project({"config/dev.exs": dev}), "WEB004")) == []


def test_web004_env_read_defaulting_to_false_and_socket_option(make_project, findings):
    prod = PROD + ('config :demo, DemoWeb.Endpoint,\n  check_origin: System.get_env("CHECK_ORIGIN", "false") == '
                   '"true"\n')
    got = findings(make_project({"config/prod.exs": prod}), "WEB004")
    assert ids(got) == ["WEB004"] and "CHECK_ORIGIN" in got[0].message
    endpoint = ENDPOINT.replace("websocket: [connect_info:", "websocket: [check_origin: false, connect_info:")
    got = findings(make_project({"lib/demo_web/endpoint.ex": endpoint}), "WEB004")
    assert [(f.rule_id, f.location.path) for f in got] == [("WEB004", "lib/demo_web/endpoint.ex")]


def test_web005_origin_without_scheme(make_project, findings):
    prod = PROD + 'config :demo, DemoWeb.Endpoint, check_origin: ["shop.example.com", "//www.example.com"]\n'
    got = findings(make_project({"config/prod.exs": prod}), "WEB005")
    assert ids(got) == ["WEB005"] and "'shop.example.com'" in got[0].message
    good = PROD + 'config :demo, DemoWeb.Endpoint, check_origin: ["https://shop.example.com"]\n'
    assert ids(findings(make_project({"config/prod.exs": good}), "WEB005")) == []


def test_web006_cors_reflecting_any_origin_with_credentials(make_project, findings):
    endpoint = ENDPOINT.replace("  plug Plug.Session", "  plug CORSPlug, origin: ~r/.*/\n  plug Plug.Session")
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": endpoint}), "WEB006")) == ["WEB006"]
    corsica = ENDPOINT.replace("  plug Plug.Session",
                               '  plug Corsica, origins: "*", allow_credentials: true\n  plug Plug.Session')
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": corsica}), "WEB006")) == ["WEB006"]
    listed = ENDPOINT.replace("  plug Plug.Session",
                              '  plug CORSPlug, origin: ["https://app.example.com"]\n  plug Plug.Session')
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": listed}), "WEB006")) == []
    no_credentials = ENDPOINT.replace("  plug Plug.Session",
                                      "  plug CORSPlug, origin: ~r/.*/, credentials: false\n  plug Plug.Session")
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": no_credentials}), "WEB006")) == []


def test_web007_debug_errors_in_prod(make_project, findings):
    config = GOOD["config/config.exs"] + "config :demo, DemoWeb.Endpoint, debug_errors: true\n"
    got = findings(make_project({"config/config.exs": config}), "WEB007")
    assert ids(got) == ["WEB007"] and "debug_errors" in got[0].message
    dev = GOOD["config/dev.exs"] + "config :demo, DemoWeb.Endpoint, debug_errors: true, code_reloader: true\n"
    assert ids(findings(make_project({"config/dev.exs": dev}), "WEB007")) == []


def test_web008_dashboard_outside_dev_guard(make_project, findings):
    exposed = router('''
  import Phoenix.LiveDashboard.Router
  scope "/" do
    pipe_through :browser
    live_dashboard "/dashboard"
    forward "/mailbox", Plug.Swoosh.MailboxPreview
  end
''')
    got = findings(make_project({"lib/demo_web/router.ex": exposed}), "WEB008")
    assert ids(got) == ["WEB008", "WEB008"]
    guarded = router('''
  if Application.compile_env(:demo, :dev_routes) do
    scope "/dev" do
      pipe_through :browser
      live_dashboard "/dashboard"
    end
  end
  scope "/admin" do
    pipe_through [:browser, :admin]
    live_dashboard "/dashboard"
  end
''')
    assert ids(findings(make_project({"lib/demo_web/router.ex": guarded}), "WEB008")) == []
    # A function plug of the router piped through as if a pipeline, named for what it does.
    function_plug = router('''
  scope "/" do
    pipe_through [:browser, :basic_auth]
    live_dashboard "/dashboard"
  end
  def basic_auth(conn, _opts), do: Plug.BasicAuth.basic_auth(conn, username: "ops", password: "x")
''')
    assert ids(findings(make_project({"lib/demo_web/router.ex": function_plug}), "WEB008")) == []
    unnamed = function_plug.replace(":basic_auth]", ":tracing]").replace("def basic_auth", "def tracing")
    assert ids(findings(make_project({"lib/demo_web/router.ex": unnamed}), "WEB008")) == ["WEB008"]


def test_web009_client_longpoll_without_endpoint_transport(make_project, findings):
    client = 'import {LiveSocket} from "phoenix_live_view"\nlet s = new LiveSocket("/live", Socket, {\n' \
             '  longPollFallbackMs: 2500,\n})\n'
    got = findings(make_project({"assets/js/app.js": client}), "WEB009")
    assert [(f.rule_id, f.location.path, f.location.line) for f in got] == [("WEB009", "assets/js/app.js", 3)]
    endpoint = ENDPOINT.replace("websocket: [connect_info: [session: @session_options]]",
                                "websocket: [connect_info: [session: @session_options]], longpoll: []")
    assert ids(findings(make_project({"assets/js/app.js": client, "lib/demo_web/endpoint.ex": endpoint}),
                        "WEB009")) == []
    plain_client = 'import {LiveSocket} from "phoenix_live_view"\nlet s = new LiveSocket("/live", Socket, {})\n'
    got = findings(make_project({"assets/js/app.js": plain_client, "lib/demo_web/endpoint.ex": endpoint}), "WEB009")
    assert [(f.rule_id, f.severity.label) for f in got] == [("WEB009", "info")]
    assert ids(findings(make_project({"assets/js/app.js": None}), "WEB009")) == []  # no JS client at all


FLY = 'app = "demo-shop"\nprimary_region = "ams"\n\n[http_service]\n  internal_port = 4000\n  force_https = true\n'


def test_web002_is_certain_when_fly_terminates_tls(make_project, findings):
    prod = PROD.replace("force_ssl: [rewrite_on: [:x_forwarded_proto]]", "force_ssl: [hsts: true]")
    got = findings(make_project({"config/prod.exs": prod, "fly.toml": FLY}), "WEB002")
    assert [(f.rule_id, f.confidence.label) for f in got] == [("WEB002", "high")] and "fly.toml" in got[0].message


def test_web018_check_origin_list_missing_the_fly_host(make_project, findings):
    prod = PROD + 'config :demo, DemoWeb.Endpoint, check_origin: ["https://shop.example.com"]\n'
    got = findings(make_project({"config/prod.exs": prod, "fly.toml": FLY}), "WEB018")
    assert ids(got) == ["WEB018"] and "demo-shop.fly.dev" in got[0].message
    covered = PROD + 'config :demo, DemoWeb.Endpoint, check_origin: ["https://shop.example.com", "//*.fly.dev"]\n'
    assert ids(findings(make_project({"config/prod.exs": covered, "fly.toml": FLY}), "WEB018")) == []
    assert ids(findings(make_project({"config/prod.exs": prod, "fly.toml": None}), "WEB018")) == []  # no host named


def test_web018_phx_host_default_is_a_public_host(make_project, findings):
    runtime = GOOD["config/runtime.exs"].replace('|| "example.com"', '|| "shop.example.org"')
    prod = PROD + 'config :demo, DemoWeb.Endpoint, check_origin: ["https://www.example.org"]\n'
    got = findings(make_project({"config/runtime.exs": runtime, "config/prod.exs": prod}), "WEB018")
    assert ids(got) == ["WEB018"] and "shop.example.org" in got[0].message


def test_web001_says_when_fly_redirects_but_sends_no_hsts(make_project, findings):
    got = findings(make_project({"config/prod.exs": PROD_NO_SSL, "fly.toml": FLY}), "WEB001")
    assert ids(got) == ["WEB001"] and "force_https redirects HTTP, but nothing sends HSTS" in got[0].message

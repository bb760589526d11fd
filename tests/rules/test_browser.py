"""WEB rules on the browser session, secure headers, CSP, and on request limits."""

import pytest
from project_shapes import GOOD, ids
from test_web import ENDPOINT, router

from phoenix_ops.rules.limits import _login_path


def session(extra: str) -> str:
    return ENDPOINT.replace('same_site: "Lax"', 'same_site: "Lax",\n    ' + extra)


def test_web010_session_without_same_site_or_with_secure_false(make_project, findings):
    got = findings(make_project({"lib/demo_web/endpoint.ex": session("secure: false")}), "WEB010")
    assert ids(got) == ["WEB010"] and "`secure: false`" in got[0].message and "same_site" not in got[0].message
    no_same_site = ENDPOINT.replace(',\n    same_site: "Lax"', "")
    got = findings(make_project({"lib/demo_web/endpoint.ex": no_same_site}), "WEB010")
    assert ids(got) == ["WEB010"] and "no `same_site`" in got[0].message
    assert ids(findings(make_project(), "WEB010")) == []


def test_web011_signed_only_session_is_info(make_project, findings):
    signed = ENDPOINT.replace('    encryption_salt: "q8Rt5Yu1",\n', "")
    got = findings(make_project({"lib/demo_web/endpoint.ex": signed}), "WEB011")
    assert [(f.rule_id, f.severity.label) for f in got] == [("WEB011", "info")]
    ets = signed.replace("store: :cookie", "store: :ets, table: :sessions")
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": ets}), "WEB011")) == []


def test_web012_browser_pipeline_without_secure_headers(make_project, findings):
    bare = router().replace("    plug :put_secure_browser_headers\n", "")
    got = findings(make_project({"lib/demo_web/router.ex": bare}), "WEB012")
    assert ids(got) == ["WEB012"] and ":browser" in got[0].message
    assert ids(findings(make_project({"lib/demo_web/router.ex": router()}), "WEB012")) == []


def test_web013_csp_missing_is_info_weak_is_warning(make_project, findings):
    got = findings(make_project({"lib/demo_web/router.ex": router()}), "WEB013")
    assert [(f.rule_id, f.severity.label) for f in got] == [("WEB013", "info")]
    weak = router().replace("    plug :put_secure_browser_headers\n",
                            '    plug :put_secure_browser_headers, %{"content-security-policy" => @csp}\n')
    weak = weak.replace("  pipeline :browser", "  @csp \"default-src 'self'; script-src 'self' 'unsafe-inline'\"\n"
                                               "  pipeline :browser")
    got = findings(make_project({"lib/demo_web/router.ex": weak}), "WEB013")
    assert [(f.rule_id, f.severity.label) for f in got] == [("WEB013", "warning")] and "unsafe-inline" in got[0].message
    strict = weak.replace("'unsafe-inline'", "'nonce-abc'")
    assert ids(findings(make_project({"lib/demo_web/router.ex": strict}), "WEB013")) == []
    # A plug of the app's own sets the header: not readable, not reported as missing.
    plug = 'defmodule DemoWeb.CSP do\n  def call(conn, _), do: put_resp_header(conn, "content-security-policy", "x")\n' \
           "end\n"
    assert ids(findings(make_project({"lib/demo_web/router.ex": router(), "lib/demo_web/csp.ex": plug}),
                        "WEB013")) == []


LOGIN = router('''
  scope "/", DemoWeb do
    pipe_through :browser
    post "/users/log_in", UserSessionController, :create
  end
''')


def test_web014_login_route_without_rate_limiting(make_project, findings):
    got = findings(make_project({"lib/demo_web/router.ex": LOGIN}), "WEB014")
    assert [(f.rule_id, f.severity.label) for f in got] == [("WEB014", "warning")] and "/users/log_in, which takes credentials," in got[0].message
    mix = GOOD["mix.exs"].replace('{:bandit, "~> 1.5"}', '{:bandit, "~> 1.5"}, {:hammer, "~> 7.0"}')
    assert ids(findings(make_project({"lib/demo_web/router.ex": LOGIN, "mix.exs": mix}), "WEB014")) == []
    assert ids(findings(make_project({"lib/demo_web/router.ex": router()}), "WEB014")) == []


@pytest.mark.parametrize(("path", "credentials"), [
    ("/users/log_in", True), ("/users/register", True), ("/api/session/renew", True),
    ("/repositories/:id/add-reviewer/:login", False), ("/oauth/login/:provider", False), ("/about", False)])
def test_a_route_takes_credentials_by_its_fixed_segments(path, credentials):
    assert _login_path(path) == credentials


LIMITER = '''
defmodule DemoWeb.Plugs.RateLimit do
  import Plug.Conn
  def call(conn, _opts) do
    key = "login:#{:inet.ntoa(conn.remote_ip)}"
    case Hammer.check_rate(key, 60_000, 10) do
      {:allow, _} -> conn
      {:deny, _} -> conn |> send_resp(429, "") |> halt()
    end
  end
end
'''


def test_web015_limiter_keyed_on_remote_ip_without_forwarded_handling(make_project, findings):
    got = findings(make_project({"lib/demo_web/plugs/rate_limit.ex": LIMITER}), "WEB015")
    assert [(f.rule_id, f.location.path, f.location.line, f.confidence.label) for f in got] == [
        ("WEB015", "lib/demo_web/plugs/rate_limit.ex", 5, "medium")]  # https URL on a plain listener: a proxy
    endpoint = ENDPOINT.replace("  plug Plug.Static", "  plug RemoteIp\n  plug Plug.Static")
    assert ids(findings(make_project({"lib/demo_web/plugs/rate_limit.ex": LIMITER,
                                      "lib/demo_web/endpoint.ex": endpoint}), "WEB015")) == []


def test_web016_parsers_with_a_huge_length(make_project, findings):
    parsers = ENDPOINT.replace("  plug Plug.Session", "  plug Plug.Parsers, parsers: [:json], json_decoder: Jason\n"
                                                      "  plug Plug.Session")
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": parsers}), "WEB016")) == []  # Plug's 8 MB
    huge = parsers.replace("json_decoder: Jason", "json_decoder: Jason, length: 500_000_000")
    got = findings(make_project({"lib/demo_web/endpoint.ex": huge}), "WEB016")
    assert ids(got) == ["WEB016"] and "476 MB" in got[0].message
    sized = parsers.replace("json_decoder: Jason", "json_decoder: Jason, length: 1_000_000")
    assert ids(findings(make_project({"lib/demo_web/endpoint.ex": sized}), "WEB016")) == []


def test_web013_reads_the_literal_parts_of_an_interpolated_policy(make_project, findings):
    built = router().replace("    plug :put_secure_browser_headers\n",
                             '    plug :put_secure_browser_headers, %{"content-security-policy" => @csp}\n')
    built = built.replace("  pipeline :browser", '  @hosts Enum.join(~w(cdn.example.com), " ")\n'
                                                 "  @csp \"default-src 'self' 'unsafe-eval' #{@hosts}\"\n"
                                                 "  pipeline :browser")
    got = findings(make_project({"lib/demo_web/router.ex": built}), "WEB013")
    assert ids(got) == ["WEB013"] and "unsafe-eval" in got[0].message

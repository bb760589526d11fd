"""The probe against real nginx, configured well and badly, in front of the Phoenix stand-in."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from live_servers import OLD_TLS
from standin import CSS_PATH, JS_PATH

from phoenix_ops.findings import Severity

pytestmark = pytest.mark.slow


def by_rule(results) -> dict[str, list]:
    out: dict[str, list] = {}
    for r in results:
        for f in r.findings:
            out.setdefault(f.rule_id, []).append(f)
    return out


def problems(results) -> set[str]:
    """Rule ids of warnings and errors (info findings and the grade left out)."""
    return {f.rule_id for r in results for f in r.findings if f.severity >= Severity.WARNING}


def test_good_deployment_passes_every_check_and_gets_a_plus(lab):
    site = lab.site({"headers": "strong"})
    results = lab.probe(site=site, active=True, burst_path="/login", burst=30)
    assert problems(results) == set()
    r = results[0]
    assert r.grade == "A+" and r.score == 100
    assert r.facts["tls_version"] == "TLSv1.3"
    assert sorted(r.facts["sockets"]) == ["/live/websocket", "/socket/websocket"]
    assert r.facts["health_paths"] == ["/health"] and r.facts["digested_assets"] == 2
    assert set(r.facts["check_seconds"]) == {"redirects", "tls", "headers", "cookies", "cors", "websockets",
                                             "liveview", "assets", "exposure", "health", "limits"}
    assert by_rule(results)["WEB114"][0].message.startswith("put_secure_browser_headers defaults of Phoenix 1.8")
    assert not {"AST103", "WEB115", "HLT100", "WEB111"} & set(by_rule(results))


def test_app_without_nosniff_health_static_etags_or_secure_cookies(lab):
    """A bare app: a page served by a plain plug, no health route, Plug.Static without ETags, and a
    cookie set by put_resp_cookie without `secure: true`."""
    site = lab.site({"headers": "none", "health": False, "robots_etag": False,
                     "cookies": ["locale=en; path=/; HttpOnly; SameSite=Lax"]})
    found = by_rule(lab.probe(site=site))
    assert found["WEB111"][0].message == "X-Content-Type-Options is 'absent', not nosniff"
    assert found["HLT100"][0].message.startswith("none of /health, /healthz") and "--health" in found["HLT100"][0].message
    (etag,) = found["AST103"]
    assert etag.message == "static file has no ETag" and etag.location.url.endswith("/robots.txt")
    (cookie,) = found["WEB115"]
    assert cookie.message == "cookie locale is set without Secure" and cookie.severity is Severity.WARNING
    assert "SEC100" not in found  # the session cookie itself is flagged right


def test_phoenix_17_headers_are_recognised_and_its_missing_csp_reported(lab):
    results = lab.probe(site=lab.site({"headers": "phoenix17"}))
    found = by_rule(results)
    assert "Phoenix 1.7" in found["WEB114"][0].message
    assert "WEB109" in found and "WEB112" not in found  # X-Frame-Options SAMEORIGIN protects


def test_phoenix_18_default_csp_restricts_no_script(lab):
    found = by_rule(lab.probe(site=lab.site()))
    assert "scripts are not restricted" in found["WEB110"][0].message
    assert "WEB112" not in found  # frame-ancestors 'self'


def test_plain_http_served_and_weak_hsts(lab):
    site = lab.site(http_redirect=None, hsts="max-age=600")
    found = by_rule(lab.probe(site=site))
    assert "plain HTTP answers 200" in found["WEB100"][0].message
    assert "under 180 days" in found["WEB104"][0].message
    assert "WEB103" not in found


def test_redirect_to_another_host_and_missing_hsts(lab):
    site = lab.site(http_redirect="https://example.invalid/", hsts=None)
    found = by_rule(lab.probe(site=site))
    assert any("another host" in f.message for f in found["WEB101"])
    assert "WEB103" in found


def test_redirect_that_drops_the_path(lab):
    site = lab.site(http_redirect="https://$host:{https}/")
    found = by_rule(lab.probe(f"https://localhost:{site.https_port}/login", site=site))
    assert found["WEB101"][0].message == "the redirect drops the path: /login goes to /"


def test_duplicate_hsts_headers(lab):
    site = lab.site(extra='add_header Strict-Transport-Security "max-age=600" always;')
    found = by_rule(lab.probe(site=site))
    assert "2 Strict-Transport-Security headers" in found["WEB104"][0].message


@pytest.mark.parametrize("old, name", [("TLSv1", "TLS 1.0"), ("TLSv1.1", "TLS 1.1")])
def test_old_tls_and_weak_ciphers_are_found(lab, old, name):
    site = lab.site(tls=OLD_TLS.replace("TLSv1 ", f"{old} "))
    found = by_rule(lab.probe(site=site))
    assert [f.key for f in found["WEB105"]] == [name]  # nginx offers that one and TLSv1.2
    assert "weak suite" in found["WEB108"][0].message


@pytest.mark.parametrize("cert, expected", [
    ("expired", "certificate has expired"),
    ("wrong_host", "Hostname mismatch"),
    ("no_chain", "unable to get local issuer certificate"),  # the intermediate is not served
])
def test_invalid_certificates_grade_f(lab, cert, expected):
    site = lab.site(cert=getattr(lab.certs, cert))
    results = lab.probe(site=site, insecure=True)
    found = by_rule(results)
    assert expected in found["WEB106"][0].message
    assert results[0].grade == "F"
    # --insecure lets the other checks go on
    assert "WEB103" not in found and results[0].facts["digested_assets"] == 2


def test_untrusted_certificate_without_insecure_is_unreachable_with_reason(lab):
    site = lab.site()
    results = lab.probe(site=site, ca_file=None)
    msg = by_rule(results)["WEB140"][0].message
    assert "TLS certificate rejected" in msg and "unable to get local issuer" in msg


def test_certificate_expiring_in_20_days_is_an_error(lab):
    found = by_rule(lab.probe(site=lab.site(cert=lab.certs.expiring)))
    f = found["WEB107"][0]
    assert f.severity is Severity.ERROR
    assert "expires in 19 days" in f.message or "expires in 20 days" in f.message


def test_session_cookie_flags(lab):
    site = lab.site({"session_flags": "; path=/; SameSite=None"})
    msg = by_rule(lab.probe(site=site))["SEC100"][0].message
    assert msg == "session cookie _demo_key lacks secure, httponly, SameSite=Lax/Strict (is None)"


def test_cors_reflection_with_credentials(lab):
    found = by_rule(lab.probe(site=lab.site({"cors_reflect": True})))
    assert "with Allow-Credentials: true" in found["WEB116"][0].message


def test_foreign_origin_websocket_accepted(lab):
    results = lab.probe(site=lab.site({"check_origin": False}))
    assert len(by_rule(results)["WEB117"]) == 3  # both sockets and the long-poll fallback
    assert results[0].grade == "F"


def test_proxy_that_drops_the_upgrade_is_caught(lab):
    found = by_rule(lab.probe(site=lab.site(pass_upgrade=False)))
    assert {urlsplit(f.location.url).path for f in found["WEB118"]} == {"/live/websocket", "/socket/websocket"}
    assert all("same-origin upgrade answered 400" in f.message for f in found["WEB118"])


def test_socket_that_needs_a_token_is_reported_as_unverifiable_not_broken(lab):
    found = by_rule(lab.probe(site=lab.site({"socket_token": "t0k"})))
    (finding,) = found["WEB118"]
    assert urlsplit(finding.location.url).path == "/socket/websocket"
    assert finding.severity is Severity.WARNING and "wants credentials" in finding.message


def test_idle_websocket_dropped_by_short_proxy_read_timeout(lab):
    site = lab.site(read_timeout="2s")
    assert "WEB119" not in by_rule(lab.probe(site=site))  # the passive probe never waits
    found = by_rule(lab.probe(site=site, ws_idle=3))
    assert "after 3 s idle: connection closed" in found["WEB119"][0].message


def test_idle_websocket_survives_a_long_read_timeout(lab):
    assert "WEB119" not in by_rule(lab.probe(site=lab.site(read_timeout="60s"), ws_idle=3))


def test_missing_digested_asset_from_mixed_releases(lab):
    site = lab.site({"missing_assets": [JS_PATH]})
    found = by_rule(lab.probe(site=site))
    assert [urlsplit(f.location.url).path for f in found["AST100"]] == [JS_PATH]


def test_dev_surfaces_open_metrics_and_debug_404(lab):
    results = lab.probe(site=lab.site({"dev_routes": True, "debug_errors": True, "open_metrics": True}))
    found = by_rule(results)
    assert sorted(urlsplit(f.location.url).path for f in found["WEB120"]) == [
        "/dev/dashboard", "/phoenix/live_reload/frame", "/phoenix/live_reload/socket/websocket"]
    assert [urlsplit(f.location.url).path for f in found["WEB121"]] == ["/metrics"]
    assert "NoRouteError" in found["WEB122"][0].message


def test_force_ssl_without_rewrite_on_loops(lab):
    site = lab.site({"force_ssl": True, "rewrite_on": False})
    results = lab.probe(site=site)
    message = by_rule(results)["WEB102"][0].message
    assert "redirects loop" in message and "force_ssl without rewrite_on" in message
    assert results[0].grade == "F"


def test_force_ssl_with_rewrite_on_works_but_health_only_redirects_over_plain_http(lab):
    site = lab.site({"force_ssl": True, "rewrite_on": True})
    found = by_rule(lab.probe(site=site))
    assert "WEB102" not in found
    assert "over plain HTTP it answers 301" in found["HLT101"][0].message


def test_slow_health_endpoint(lab):
    found = by_rule(lab.probe(site=lab.site({"health_delay": 1.2}), timeout=3))
    assert any("took" in f.message and f.severity is Severity.WARNING for f in found["HLT101"])


def test_no_health_endpoint_when_given_path_fails(lab):
    found = by_rule(lab.probe(site=lab.site(), health_paths=("/ready",)))
    assert "over HTTPS it answers 404" in found["HLT101"][0].message


def test_active_limits_missing(lab):
    site = lab.site(extra="client_max_body_size 0; large_client_header_buffers 4 256k;", limit_req=False)
    found = by_rule(lab.probe(site=site, active=True, max_body=2_000_000, burst=20, burst_path="/login"))
    assert "2000000-byte body answered 200" in found["WEB123"][0].message
    assert {f.message for f in found["WEB124"]} == {"a 64 KB request line answered 200",
                                                    "a 64 KB header answered 200"}
    assert "20 requests to /login got no 429" in found["WEB125"][0].message


def test_two_nodes_with_different_secret_key_base(lab):
    site_a = lab.site({"secret": "a" * 64})
    site_b = lab.site({"secret": "b" * 64})
    site_c = lab.site({"secret": "a" * 64})
    urls = [f"https://127.0.0.1:{s.https_port}/" for s in (site_a, site_b, site_c)]
    results = lab.probe(*urls, host_header="localhost", http_port=site_a.http_port)
    mismatched = [r.target.url for r in results if any(f.rule_id == "SEC101" for f in r.findings)]
    assert mismatched == [urls[1]]
    assert all(r.facts["tls_version"] for r in results)  # SNI kept the name: the certificate verified


def test_api_only_app_gives_no_replay_signal(lab):
    site = lab.site()
    url = f"https://127.0.0.1:{site.https_port}/api-only"
    results = lab.probe(url, url, host_header="localhost", http_port=site.http_port)
    assert all("replay gives no signal" in f.message for r in results for f in r.findings if f.rule_id == "SEC101")
    assert sum(f.rule_id == "SEC101" for r in results for f in r.findings) == 2


def test_resolve_keeps_sni_for_several_nodes(lab):
    site = lab.site()
    url = f"https://app.invalid:{site.https_port}/"
    # two nodes of one host name; the certificate is for localhost, so verification must fail by name
    results = lab.probe(url, resolve=(("app.invalid", site.https_port, "127.0.0.1"),
                                      ("app.invalid", site.https_port, "127.0.0.2")),
                        insecure=True, http_port=site.http_port)
    assert [r.target.addr for r in results] == ["127.0.0.1", "127.0.0.2"]
    for r in results:
        assert "Hostname mismatch" in by_rule([r])["WEB106"][0].message
        assert r.facts["digested_assets"] == 2


def test_uncompressed_and_short_cached_assets(lab):
    site = lab.site({"gzip": False, "asset_cache": "public, max-age=3600"}, extra="gzip off;")
    found = by_rule(lab.probe(site=site))
    assert {urlsplit(f.location.url).path for f in found["AST102"]} == {CSS_PATH, JS_PATH}
    assert all("max-age under one year" in f.message for f in found["AST101"]) and len(found["AST101"]) == 2


@pytest.mark.parametrize("auth", [{"headers": (("authorization", "Bearer s3cret"),)}, {"cookie": "auth=s3cret"}])
def test_pages_behind_login_with_auth_header_or_cookie(lab, auth):
    site = lab.site({"login_token": "s3cret"})
    anonymous = lab.probe(site=site)[0]
    assert anonymous.facts["page_url"].endswith("/users/log_in") and anonymous.facts["status"] == 404
    signed_in = lab.probe(site=site, **auth)[0]
    assert signed_in.facts["status"] == 200 and signed_in.facts["digested_assets"] == 2


def test_dashboard_behind_login_is_judged_without_the_users_credentials(lab):
    guarded = lab.site({"admin_dashboard": True, "login_token": "s3cret"})
    signed_in = by_rule(lab.probe(site=guarded, headers=(("authorization", "Bearer s3cret"),)))
    assert "WEB121" not in signed_in
    open_one = by_rule(lab.probe(site=lab.site({"admin_dashboard": True})))
    assert [urlsplit(f.location.url).path for f in open_one["WEB121"]] == ["/admin/dashboard"]


def test_standin_long_poll_and_liveview_join_answer_as_real_phoenix(lab):
    """Held to tests/live/test_probe_phoenix.py: the long poll's verdict is in its JSON body."""
    (good,) = lab.probe(site=lab.site())
    assert good.facts["longpoll"] is True and good.facts["liveview_joined"]
    found = by_rule(lab.probe(site=lab.site({"check_origin": False})))
    assert {f.key or urlsplit(f.location.url).path for f in found["WEB117"]} == \
        {"longpoll", "/live/websocket", "/socket/websocket"}

"""Bad input and hostile servers: every check ends within its timeout with a clear finding, and
the probe of one target stays within its budget."""

from __future__ import annotations

import time

import httpx
import pytest
from live_servers import Site, free_port

pytestmark = pytest.mark.slow
TIMEOUT = 1.0


def timed_probe(lab, url: str, **kw):
    start = time.monotonic()
    results = lab.probe(url, timeout=TIMEOUT, **kw)
    return results[0], time.monotonic() - start


def messages(result, rule_id: str) -> list[str]:
    return [f.message for f in result.findings if f.rule_id == rule_id]


def test_refused_connection(lab):
    result, took = timed_probe(lab, f"http://127.0.0.1:{free_port()}/")
    assert "cannot connect" in messages(result, "WEB140")[0]
    assert result.grade == "" and messages(result, "WEB149") == ["no grade: the target is unreachable"]
    assert took < 2


def test_unresolvable_host(lab):
    result, took = timed_probe(lab, "https://no-such-host.invalid/")
    assert "cannot connect" in messages(result, "WEB140")[0]
    assert took < 3 * TIMEOUT + 1


@pytest.mark.parametrize("mode, expected", [
    ("silent", "no complete answer within 1 s"),
    ("trickle", "no complete answer within 1 s"),
    ("huge-headers", "not valid HTTP"),
    ("banner", "not valid HTTP"),
])
def test_hostile_http_servers(lab, mode, expected):
    result, took = timed_probe(lab, f"http://127.0.0.1:{lab.hostile(mode)}/")
    assert expected in messages(result, "WEB140")[0]
    assert took < 3 * TIMEOUT + 1


def test_non_http_port_over_https(lab):
    result, took = timed_probe(lab, f"https://127.0.0.1:{lab.hostile('banner')}/")
    assert "TLS handshake failed" in messages(result, "WEB140")[0]
    assert took < 3 * TIMEOUT + 1


@pytest.mark.parametrize("mode, expected", [("loop", "redirects loop after 2 hops"),
                                            ("chain", "redirects loop after 11 hops")])
def test_redirect_loops_and_endless_chains(lab, mode, expected):
    result, took = timed_probe(lab, f"http://127.0.0.1:{lab.hostile(mode)}/")
    assert messages(result, "WEB102")[0].startswith(expected)
    assert result.grade == "F" and took < 3 * TIMEOUT + 1


def test_redirect_to_a_malformed_url(lab):
    result, took = timed_probe(lab, f"http://127.0.0.1:{lab.hostile('bad-location')}/")
    assert "Invalid URL in location header" in messages(result, "WEB140")[0] and took < 2


def test_budget_bounds_a_target_whose_check_waits_too_long(lab):
    """A check still running when the target's budget ends is stopped and reported, not awaited."""
    site = lab.site()
    start = time.monotonic()
    results = lab.probe(site=site, timeout=1.0, budget=1.5, ws_idle=30)
    assert time.monotonic() - start < 3
    stopped = messages(results[0], "WEB141")
    assert stopped == ["the websockets check was stopped: the target's budget ran out"]
    assert results[0].facts["digested_assets"] == 2  # the other checks finished and count


def test_proxy_whose_upstream_is_down_answers_502(lab):
    (site,) = lab.nginx(Site(free_port(), lab.certs.good))
    results = lab.probe(site=site)
    assert messages(results[0], "WEB140") == ["the page answers 502: the app behind the proxy is down or failing"]
    assert results[0].grade == "F"


def test_proxy_that_never_answers(lab):
    site = lab.site()
    result, took = timed_probe(lab, f"https://localhost:{site.https_port}/",
                               proxy=f"http://127.0.0.1:{lab.hostile('silent')}")
    assert "WEB140" in {f.rule_id for f in result.findings} and took < 3 * TIMEOUT + 1


def test_probe_through_a_working_proxy(lab):
    site = lab.site()
    proxy = f"http://127.0.0.1:{lab.hostile('proxy')}"
    results = lab.probe(site=site, proxy=proxy)
    assert {f.rule_id for f in results[0].findings if f.severity.label != "info"} <= {"WEB110"}
    assert sorted(results[0].facts["sockets"]) == ["/live/websocket", "/socket/websocket"]
    assert int(httpx.get(f"{proxy}/tunnels").headers["x-tunnels"]) >= 3  # page, assets, sockets


def test_ipv6_loopback_target_over_plain_http(lab):
    port = lab.standin("::1", host="::1")
    result, _ = timed_probe(lab, f"http://[::1]:{port}/")
    assert result.facts["status"] == 200 and result.facts["digested_assets"] == 2
    assert sorted(result.facts["sockets"]) == ["/live/websocket", "/socket/websocket"]
    assert "plain HTTP answers 200" in messages(result, "WEB100")[0]

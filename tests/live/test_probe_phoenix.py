"""The probe against the real Phoenix release of tests/phoenix_app, behind the real nginx with TLS.
The knobs of config/runtime.exs give each variant; the grades of the phx.new shape and of the
hardened app are asserted here and quoted in the README."""

from __future__ import annotations

import asyncio
import json
import ssl

import httpx
import pytest
import websockets
from live_servers import Site, free_port

from phoenix_ops.live.cookies import ENCRYPTED, SIGNED

pytestmark = pytest.mark.slow
PHX_NEW = {"METRICS": "false"}  # as `mix phx.new` generates it: no Prometheus endpoint
HARDENED = {"HARDEN": "1", "METRICS_TOKEN": "scrape-token"}


def behind_nginx(lab, phoenix, env: dict, **site) -> tuple[Site, object]:
    node = phoenix.start(env)
    for path in ("/", "/counter", "/health"):  # first requests after boot are slow on a busy machine
        httpx.get(node.url + path, timeout=10)
    site.setdefault("cert", lab.certs.good)
    return lab.nginx(Site(node.port, **site))[0], node


def probe(lab, site: Site, path: str = "/counter", **options):
    (result,) = lab.probe(f"https://localhost:{site.https_port}{path}", site=site, timeout=5.0, **options)
    return result


def rules(result, *severities: str) -> set[str]:
    return {f.rule_id for f in result.findings if not severities or f.severity.label in severities}


def test_phx_new_shape_behind_nginx(lab, phoenix):
    site, _ = behind_nginx(lab, phoenix, PHX_NEW)
    result = probe(lab, site)
    facts = result.facts
    assert facts["phoenix_headers"] == "Phoenix 1.7"
    assert facts["session_cookie"] == "_phx_fixture_key" and SIGNED.match(result.session.value)
    assert sorted(facts["sockets"]) == ["/live/websocket", "/socket/websocket"]
    assert facts["liveview_joined"] and facts["longpoll"] is True
    assert facts["digested_assets"] == 5 and facts["health_paths"] == ["/health"]
    # phx.new's session cookie has no Secure flag and there is no CSP beyond Phoenix's defaults.
    assert rules(result, "error", "warning") == {"SEC100", "WEB109"}
    assert (result.grade, result.score) == ("C", 80)


def test_hardened_app_behind_nginx_gets_a_plus(lab, phoenix):
    site, _ = behind_nginx(lab, phoenix, HARDENED, hsts=None)  # the app sends HSTS itself
    result = probe(lab, site)
    assert rules(result, "error", "warning") == set()
    assert result.facts["csp_strong"] and result.facts["hsts_max_age"] == 31536000
    assert (result.grade, result.score) == ("A+", 100)


def test_encrypted_session_cookie_is_recognised(lab, phoenix):
    site, _ = behind_nginx(lab, phoenix, {**PHX_NEW, "SESSION_ENCRYPT": "1"})
    result = probe(lab, site)
    assert ENCRYPTED.match(result.session.value) and result.facts["liveview_joined"]


def test_check_origin_off_is_found_on_both_sockets_and_long_poll(lab, phoenix):
    site, _ = behind_nginx(lab, phoenix, {**PHX_NEW, "CHECK_ORIGIN": "false"})
    result = probe(lab, site)
    found = {f.key or f.location.url for f in result.findings if f.rule_id == "WEB117"}
    assert len(found) == 3 and "longpoll" in found and result.grade == "F"


def test_long_poll_off_and_a_proxy_without_upgrade(lab, phoenix):
    site, _ = behind_nginx(lab, phoenix, {**PHX_NEW, "LONGPOLL": "false"}, pass_upgrade=False)
    result = probe(lab, site)
    assert "longpoll" not in result.facts
    (join,) = [f.message for f in result.findings if f.rule_id == "WEB126"]
    assert join.startswith("the upgrade of /live/websocket")
    assert "WEB118" in rules(result)


def test_channel_join_and_presence_through_the_proxy(lab, phoenix):
    """The fixture's channel behind nginx: what the probe's heartbeat stands for, end to end."""
    site, _ = behind_nginx(lab, phoenix, PHX_NEW)
    context = ssl.create_default_context(cafile=lab.certs.ca_file)

    async def join() -> list:
        uri = f"wss://localhost:{site.https_port}/socket/websocket?vsn=2.0.0"
        async with websockets.connect(uri, ssl=context, origin=f"https://localhost:{site.https_port}") as ws:
            await ws.send(json.dumps(["1", "1", "room:lobby", "phx_join", {"user": "ada"}]))
            got = {}
            while len(got) < 2:  # the reply, then presence_state (a presence_diff may come between)
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if msg[3] in ("phx_reply", "presence_state"):
                    got[msg[3]] = msg[4]
            return got

    got = asyncio.run(join())
    assert got["phx_reply"]["status"] == "ok" and "ada" in got["presence_state"]


def test_active_limits_against_bandit_behind_nginx(lab, phoenix):
    site, _ = behind_nginx(lab, phoenix, PHX_NEW)
    result = probe(lab, site, path="/", active=True, burst=20)
    assert "limits" in result.facts["check_seconds"]
    assert "WEB141" not in rules(result)  # every limit check finished against the real server


def two_nodes(phoenix, first: dict, second: dict) -> int:
    """Two releases on one port of 127.0.0.1 and 127.0.0.2: one public name, two nodes."""
    port = free_port()
    phoenix.start(port=port, **first)
    phoenix.start(ip="127.0.0.2", port=port, **second)
    return port


def probe_nodes(lab, port: int, path: str = "/counter"):  # "/" rewrites its session on every visit
    return lab.probe(f"http://localhost:{port}{path}", timeout=5.0,
                     resolve=(("localhost", port, "127.0.0.1"), ("localhost", port, "127.0.0.2")))


def test_session_replay_across_two_real_nodes(lab, phoenix):
    same = two_nodes(phoenix, {"secret_key_base": "s" * 64}, {"secret_key_base": "s" * 64})
    assert not any(f.rule_id == "SEC101" for r in probe_nodes(lab, same) for f in r.findings)
    differ = two_nodes(phoenix, {"secret_key_base": "s" * 64}, {"secret_key_base": "t" * 64})
    found = [f for r in probe_nodes(lab, differ) for f in r.findings if f.rule_id == "SEC101"]
    assert len(found) == 1 and found[0].location.node == "127.0.0.2"


def test_assets_across_nodes_of_two_builds(lab, phoenix, phoenix_build_v2):
    """A rolling deploy: v1 and v2 behind one name. Each node alone serves its own page's assets;
    each 404s the changed asset the other one's page references."""
    port = two_nodes(phoenix, {"env": PHX_NEW}, {"env": PHX_NEW, "build": phoenix_build_v2})
    results = probe_nodes(lab, port)
    assert not any(f.rule_id == "AST100" for r in results for f in r.findings)
    skew = {(f.location.node, f.key) for r in results for f in r.findings if f.rule_id == "AST104"}
    assert len(skew) == 2 and {node for node, _ in skew} == {"127.0.0.1", "127.0.0.2"}
    assert all(key.startswith("/assets/generation-") for _, key in skew), skew
    same = two_nodes(phoenix, {"env": PHX_NEW}, {"env": PHX_NEW})
    assert not any(f.rule_id == "AST104" for r in probe_nodes(lab, same) for f in r.findings)


def test_active_limits_of_plug_parsers_and_bandit_without_a_proxy(lab, phoenix):
    """Directly against Bandit: Plug.Parsers' 8 MB default refuses the 10 MB body with 413 and Bandit
    refuses the 64 KB request line and header; a Plug.Parsers length above the probe's body lets it in."""
    def limits(env: dict) -> set[str]:
        node = phoenix.start(env)
        (result,) = lab.probe(f"{node.url}/", timeout=5.0, active=True, burst=10, ca_file=None)
        assert "limits" in result.facts["check_seconds"]
        return {f.rule_id for f in result.findings} & {"WEB123", "WEB124", "WEB141"}

    assert limits(PHX_NEW) == set()
    assert limits({**PHX_NEW, "MAX_BODY": "20000000"}) == {"WEB123"}

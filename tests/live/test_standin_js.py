"""The stand-in is held to Phoenix's own JavaScript client (npm `phoenix`), directly and behind nginx,
so the probe and the stand-in cannot share one wrong idea of the V2 frames."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from phoenix_ops.live.liveview import main_view

pytestmark = pytest.mark.slow
CLIENT = Path(__file__).with_name("phoenix_client.js")


def page_session(url: str, ca: str | None = None) -> str:
    """The LiveView session token of the stand-in's page: a join without it is refused, as in Phoenix."""
    view = main_view(httpx.get(url, verify=ssl.create_default_context(cafile=ca) if ca else True).text)
    assert view is not None
    return view.session


def run_client(npm_client: Path, endpoint: str, origin: str, ca: str | None = None, session: str = "") -> dict:
    env = {**os.environ, "NODE_PATH": str(npm_client), "LV_SESSION": session}
    done = subprocess.run(["node", str(CLIENT), endpoint, origin, *([ca] if ca else [])], env=env,
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def assert_channel_works(result: dict) -> None:
    assert result["opened"] and result["joined"] == "ok", result
    assert result["echo"] == {"echo": {"type": "click", "event": "inc", "value": {"n": 1}}}
    assert result["heartbeats"] >= 3  # the client closes the socket if a heartbeat goes unanswered
    # V2 frames: the join reply carries the join ref, heartbeats none
    join = next(f for f in result["frames"] if f[2].startswith("lv:"))
    assert join[0] == join[1] and join[3] == "phx_reply"
    assert all(f[0] is None for f in result["frames"] if f[2] == "phoenix")


def test_phoenix_client_joins_the_standin_directly(lab, npm_client):
    port = lab.standin()
    session = page_session(f"http://127.0.0.1:{port}/")
    assert_channel_works(run_client(npm_client, f"ws://127.0.0.1:{port}/live", "http://localhost", session=session))


def test_phoenix_client_through_nginx_with_tls(lab, npm_client):
    site = lab.site()
    session = page_session(f"https://localhost:{site.https_port}/", lab.certs.ca_file)
    result = run_client(npm_client, f"wss://localhost:{site.https_port}/socket", f"https://localhost:{site.https_port}",
                        lab.certs.ca_file, session)
    assert_channel_works(result)


def test_phoenix_client_is_refused_from_a_foreign_origin(lab, npm_client):
    port = lab.standin()
    result = run_client(npm_client, f"ws://127.0.0.1:{port}/live", "https://evil.invalid")
    assert not result["opened"] and result["errors"] and result["joined"] is None

"""The fixture app is a real Phoenix release that behaves as the other suites expect of it."""

from __future__ import annotations

import re
import tarfile
import time

import httpx
import psycopg
import pytest
from phoenix_fixture import ecto_url

pytestmark = pytest.mark.slow

ASSET = re.compile(r'(?:href|src)="(/assets/([a-z_.]+)-([0-9a-f]{32})\.(?:css|js))\?vsn=d"')


def page_assets(html: str) -> dict[str, str]:
    return {name: path for path, name, _ in ASSET.findall(html)}


def test_web_only_release_serves_session_assets_health_and_metrics(phoenix):
    node = phoenix.start()
    with httpx.Client(base_url=node.url) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert page.cookies["_phx_fixture_key"].startswith("SFMyNTY.")  # signed, not encrypted
        assert page.headers["x-frame-options"] == "SAMEORIGIN"  # put_secure_browser_headers
        assets = page_assets(page.text)
        assert set(assets) == {"app", "generation", "phoenix.min", "phoenix_live_view.min"}
        js = http.get(assets["app"] + "?vsn=d")
        assert js.status_code == 200 and "immutable" in js.headers["cache-control"]
        again = http.get("/")  # the session round-trips: the visit counter went up
        assert 'id="visits">1<' in again.text
        assert http.get("/health").json() == {"status": "ok"}
        assert http.get("/health/ready").json()["status"] == "ok"
        assert "phoenix_endpoint_stop_count" in http.get("/metrics").text
        assert http.get("/live/longpoll").status_code != 404  # phx.new mounts the fallback


def test_knobs_change_session_longpoll_and_hardening(phoenix):
    node = phoenix.start({"SESSION_ENCRYPT": "1", "LONGPOLL": "false", "HARDEN": "1", "METRICS_TOKEN": "t0k"})
    with httpx.Client(base_url=node.url) as http:
        plain = http.get("/")
        assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
        page = http.get("/", headers={"x-forwarded-proto": "https"})
        assert page.cookies["_phx_fixture_key"].startswith("XCP.")  # Plug.Crypto's encrypted form
        assert "secure" in page.headers["set-cookie"].lower()
        assert "max-age" in page.headers["strict-transport-security"]
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert http.get("/live/longpoll").status_code == 404
        assert http.get("/health").status_code == 200  # health answers plain HTTP for probes
        https = {"x-forwarded-proto": "https"}
        assert http.get("/metrics", headers=https).status_code == 401
        assert http.get("/metrics", headers={**https, "authorization": "Bearer t0k"}).status_code == 200


def test_metrics_can_be_left_out_as_phx_new_does(phoenix):
    node = phoenix.start({"METRICS": "false"})
    assert node.get("/metrics")[0] == 404


def test_database_release_migrates_and_runs_an_oban_job(phoenix, pg_database):
    node = phoenix.start(database=ecto_url(pg_database), migrate=True)
    with httpx.Client(base_url=node.url) as http:
        assert http.get("/health/ready").json()["status"] == "ok"
        job = http.post("/api/jobs", json={"args": {"hello": "world"}}).json()
    deadline = time.monotonic() + 30
    with psycopg.connect(pg_database) as conn:
        while (state := conn.execute("SELECT state FROM oban_jobs WHERE id = %s", (job["id"],)).fetchone()[0]) \
                != "completed" and time.monotonic() < deadline:
            time.sleep(0.2)
        assert state == "completed"
        versions = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
    assert versions == {20240101000000, 20240101000100}


def test_distributed_node_answers_rpc(phoenix):
    node = phoenix.start(name="solo")
    assert node.rpc("IO.puts(node())").strip() == "solo@127.0.0.1"


def test_second_version_adds_a_migration_and_changes_an_asset(phoenix, phoenix_build, phoenix_build_v2):
    assert phoenix_build_v2.version == "0.2.0"
    with tarfile.open(phoenix_build_v2.tarball) as tar:
        names = tar.getnames()
    assert any(n.endswith("20240301000000_add_note_to_items.exs") for n in names)
    old, new = phoenix.start(), phoenix.start(build=phoenix_build_v2)
    old_assets, new_assets = (page_assets(httpx.get(n.url + "/").text) for n in (old, new))
    assert old_assets["generation"] != new_assets["generation"]
    assert old_assets["app"] == new_assets["app"]
    assert httpx.get(new.url + old_assets["generation"]).status_code == 404

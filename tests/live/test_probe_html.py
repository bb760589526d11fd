"""The probe's HTML report against real nginx, rendered by Chromium and read from its DOM."""

from __future__ import annotations

import json

import pytest
from cli_run import invoke
from report_pages import assert_good_page, look

pytestmark = pytest.mark.slow


def test_probe_report_in_a_browser(lab, browser, tmp_path):
    good, bad = lab.site({"headers": "strong"}), lab.site({"dev_routes": True, "headers": "none", "health": False})
    urls = [f"https://localhost:{good.https_port}/", f"https://localhost:{bad.https_port}/"]
    common = [*urls, "--ca-file", lab.certs.ca_file, "--timeout", "3", "--http-port", str(good.http_port)]
    report = tmp_path / "probe.html"
    doc = json.loads(invoke(["probe", *common, "--format", "json", "--html", str(report)]).stdout)
    page = look(browser, report, "probe")
    assert_good_page(page, report)
    dom = page.desktop
    assert dom["grade"] == doc["grade"] == "F" and dom["title"] == "phoenix-ops probe · 2 targets"
    shown = [f for f in doc["findings"] if f["rule_id"] != "WEB149"]  # the grade is the card, not a finding
    assert sum(dom["counts"].values()) == len(shown) and dom["counts"]["error"] == doc["summary"]["error"]
    checks = dict(dom["checks"])
    assert checks["WEB120"] == "failed" and checks["HLT100"] == "failed" and checks["WEB100"] == "passed"
    assert checks["WEB123"] == "not run" and checks["WEB119"] == "not run"  # only with --active, --ws-idle
    assert "WEB149" not in checks and "rule-WEB120" in dom["rule_pages"]
    in_json = {r["id"]: r["status"] for area in doc["checklist"].values() for r in area["rules"]}
    assert in_json.pop("WEB149") == "noted" and in_json == checks  # one checklist: the grade is the card there
    labels = dict(zip(dom["labels"], dom["values"]))
    assert labels["TLS version"] == "TLSv1.3" and labels["Strict Content-Security-Policy"] in ("yes", "no")

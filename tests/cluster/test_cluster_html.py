"""The cluster's HTML report against real nodes: the picture inline, the node table, the checklist."""

from __future__ import annotations

import json

import pytest
from beam_nodes import LOOPBACK
from report_pages import assert_good_page, look
from typer.testing import CliRunner

from phoenix_ops.catalog import catalog
from phoenix_ops.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()


def test_cluster_report_in_a_browser(zoo, cookie_file, browser, tmp_path):
    common = ["cluster", "--hosts", LOOPBACK, "--epmd-port", str(zoo.beam.epmd_port), "--cookie-file",
              str(cookie_file), "--timeout", "1"]
    report = tmp_path / "cluster.html"
    assert runner.invoke(app, [*common, "--format", "html", "-o", str(report)]).exit_code == 1
    doc = json.loads(runner.invoke(app, [*common, "--format", "json"]).stdout)
    page = look(browser, report, "cluster")
    assert_good_page(page, report)
    dom = page.desktop
    assert dom["counts"] == doc["summary"] and dom["verdict"].startswith("Not ready")
    members = [n for n in doc["cluster"]["nodes"] if n["facts"] and not n["hidden"]]
    assert dom["svg_nodes"] >= len(members) and dom["svg_nodes"] <= len(doc["cluster"]["nodes"])
    (nodes,) = dom["tables"]
    assert nodes["head"][:2] == ["node", "state"] and nodes["rows"] == len(doc["cluster"]["nodes"])
    assert {rule for rule, _ in dom["checks"]} == catalog("cluster").ids()
    assert dict(dom["checks"])["CLU150"] == "failed"  # the split
    assert dict(zip(dom["labels"], dom["values"]))["Partitions"] == "2"

"""The cluster's HTML report against real nodes: the picture inline, the node table, the checklist."""

from __future__ import annotations

import pytest
from beam_nodes import LOOPBACK
from cli_run import invoke
from report_pages import assert_good_page, look

from phoenix_ops.catalog import catalog

pytestmark = pytest.mark.slow


def test_cluster_report_in_a_browser(zoo, cookie_file, browser, tmp_path):
    common = ["cluster", "--hosts", LOOPBACK, "--epmd-port", str(zoo.beam.epmd_port), "--cookie-file",
              str(cookie_file), "--timeout", "1"]
    report = tmp_path / "cluster.html"
    result = invoke([*common, "--format", "html", "-o", str(report)])
    assert result.exit_code == 1, result.output
    page = look(browser, report, "cluster")
    assert_good_page(page, report)
    dom = page.desktop
    assert dom["verdict"].startswith("Not ready") and dom["counts"]["error"] > 0
    facts = dict(zip(dom["labels"], dom["values"]))
    assert facts["Partitions"] == "2" and facts["Cluster members"] == "5"
    (nodes,) = dom["tables"]
    assert nodes["head"][:2] == ["node", "state"] and nodes["rows"] == int(facts["Nodes found"])
    assert dom["svg_nodes"] == nodes["rows"]  # members in their rings, the others in the row below
    assert {rule for rule, _ in dom["checks"]} == catalog("cluster").ids()
    assert dict(dom["checks"])["CLU150"] == "failed"  # the split
    assert dict(dom["checks"])["CLU165"] == "not applicable"  # no --expect given

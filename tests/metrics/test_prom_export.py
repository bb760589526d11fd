"""--prom-file: findings as Prometheus text for the textfile collector, written atomically, with a
zero for every rule that found nothing so alerts resolve."""

from __future__ import annotations

import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families
from test_metrics_rules import PROMEX, tmp_scrape

from phoenix_ops.catalog import catalog
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.report.prom import render_prom, write_atomic
from phoenix_ops.rule import rule

CHECK = rule("OBS149", "example-check", Severity.WARNING, Confidence.HIGH, kind="metrics", title="An example",
             why="An example rule, for this test of the export only; it is not in the catalog.",
             fix="Nothing to fix here: the rule exists for this test.")


def samples(text: str) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_counts_by_rule_and_severity_with_zeros_and_no_suppressed():
    found = [CHECK.finding("a", Location(url="u")), CHECK.finding("b", Location(url="u"), severity=Severity.ERROR),
             CHECK.finding("c", Location(url="u"))]
    found[2].suppressed = "baseline"
    got = samples(render_prom(found, "metrics", {"OBS149": CHECK}, now=1700000000))
    labels = (("command", "metrics"), ("rule", "OBS149"), ("rule_name", "example-check"))
    assert got[("phoenix_ops_findings", (*labels, ("severity", "error")))] == 1
    assert got[("phoenix_ops_findings", (*labels, ("severity", "warning")))] == 1
    assert got[("phoenix_ops_last_run_timestamp_seconds", (("command", "metrics"),))] == 1700000000
    quiet = samples(render_prom([], "metrics", {"OBS149": CHECK}))
    assert quiet[("phoenix_ops_findings", (*labels, ("severity", "warning")))] == 0


def test_written_atomically_and_readable(tmp_path):
    path = tmp_path / "phoenix_ops.prom"
    path.write_text("old\n")
    write_atomic(path, "new\n")
    assert path.read_text() == "new\n" and oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["phoenix_ops.prom"]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "phoenix_ops.cli", *args], capture_output=True, text=True,
                          timeout=60)


def test_metrics_exports_every_rule(serve, tmp_path):
    path = tmp_path / "metrics.prom"
    done = cli("metrics", serve(PROMEX), "--interval", "0", "-q", "--prom-file", str(path))
    assert done.returncode == 1, done.stderr
    got = samples(path.read_text())
    rules = {dict(k[1])["rule"]: v for k, v in got.items() if k[0] == "phoenix_ops_findings"}
    assert set(rules) == catalog("metrics").ids()
    assert rules["OBS100"] == 2 and rules["OBS102"] == 1 and rules["OBS108"] == 0
    assert cli("metrics", serve(tmp_scrape()), "--interval", "0", "--prom-file", str(path)).returncode == 0
    assert not any(v for k, v in samples(path.read_text()).items() if k[0] == "phoenix_ops_findings")


def test_a_prom_file_in_a_missing_directory_is_refused_before_any_work(tmp_path):
    done = cli("metrics", "http://127.0.0.1:1/metrics", "--prom-file", str(tmp_path / "nope" / "x.prom"))
    assert done.returncode == 2 and "--prom-file" in done.stderr and "no directory" in done.stderr

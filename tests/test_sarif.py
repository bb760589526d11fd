import fcntl
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest

from phoenix_ops.catalog import catalog
from phoenix_ops.findings import BASELINE_REASON as BASELINE
from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.report.sarif import FINGERPRINT_KEY, render_sarif

REPO = Path(__file__).resolve().parents[1]
NPM_PREFIX = REPO / ".cache" / "npm"  # git-ignored; the schema is never committed
PACKAGE = "@microsoft/sarif-multitool-linux@5.7.0"
SCHEMA = NPM_PREFIX / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "sarif-2.1.0.json"


def _install_schema() -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is needed to install the official SARIF schema, and it is not on PATH")
    proc = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(NPM_PREFIX), PACKAGE],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not SCHEMA.is_file():
        pytest.fail(f"`npm install {PACKAGE}` failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


@pytest.fixture(scope="session")
def sarif_validator():
    """The official SARIF 2.1.0 schema; xdist workers take turns installing it under a file lock."""
    NPM_PREFIX.mkdir(parents=True, exist_ok=True)
    with open(NPM_PREFIX / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not SCHEMA.is_file():
            _install_schema()
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def test_schema_install_fails_loudly_instead_of_skipping(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.fail.Exception, match="npm is needed"):
        _install_schema()
    monkeypatch.setattr(shutil, "which", lambda name: "/usr/bin/false")
    with pytest.raises(pytest.fail.Exception, match="failed"):
        _install_schema()


def f(rule_id, location, severity=Severity.ERROR, confidence=Confidence.HIGH, message="a fact", suppressed=None,
      key="k"):
    out = Finding(rule_id, "some-name", severity, confidence, message, hint="the fix", location=location, key=key)
    out.suppressed = suppressed
    return out


FINDINGS = [
    f("SEC001", Location(path="config/prod.exs", line=7, column=3)),
    f("REL005", Location(path="config/config.exs", line=4), Severity.WARNING, Confidence.MEDIUM),
    f("OPS001", Location(path="lib/my app/odd #name.ex"), Severity.INFO, Confidence.LOW),
    f("WEB101", Location(url="https://shop.example.com/"), message="no HSTS header"),
    f("CLU150", Location(node="shop@10.0.0.2"), Severity.WARNING, message="EPMD is reachable"),
    f("SEC002", Location(path="config/runtime.exs", line=2), suppressed="rotated nightly"),
    f("SEC001", Location(path="config/dev.exs", line=9), suppressed=BASELINE),
    f("ZZZ001", Location(path="lib/shop.ex", line=1)),  # an id no rule can have: never in the catalog
]


def sarif(findings=FINDINGS) -> dict:
    return json.loads(render_sarif(findings, catalog()))


def test_output_is_valid_against_the_official_schema(sarif_validator):
    errors = sorted(sarif_validator.iter_errors(sarif()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_the_schema_does_reject_broken_sarif(sarif_validator):
    doc = sarif()
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    doc["runs"][0]["results"][1]["suppressions"] = [{"kind": "inComment"}]
    assert len(list(sarif_validator.iter_errors(doc))) == 2


def test_an_empty_run_is_valid_too(sarif_validator):
    doc = sarif([])
    sarif_validator.validate(doc)
    assert doc["runs"][0]["results"] == [] and doc["runs"][0]["tool"]["driver"]["rules"] == []


def test_github_every_rule_id_is_described_and_indexed():
    run = sarif()["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert sorted(r["id"] for r in rules) == sorted({x.rule_id for x in FINDINGS})
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_github_static_locations_are_relative_uris_under_srcroot():
    static = [r for r in sarif()["runs"][0]["results"] if "physicalLocation" in r["locations"][0]]
    assert len(static) == 6
    for result in static:
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not urlparse(uri).scheme and not uri.startswith("/")
        if "region" in physical:
            assert physical["region"]["startLine"] >= 1
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in static}
    assert "lib/my%20app/odd%20%23name.ex" in uris


def test_line_and_column_are_kept():
    first = sarif()["runs"][0]["results"][0]
    assert first["ruleId"] == "REL005"  # results come in the order of the text report
    sec = next(r for r in sarif()["runs"][0]["results"] if r["ruleId"] == "SEC001" and "suppressions" not in r)
    assert sec["locations"][0]["physicalLocation"]["region"] == {"startLine": 7, "startColumn": 3}


def test_github_partial_fingerprints_do_not_change_when_lines_move():
    def fingerprint(line):
        doc = sarif([f("SEC001", Location(path="config/prod.exs", line=line))])
        return doc["runs"][0]["results"][0]["partialFingerprints"][FINGERPRINT_KEY]

    assert fingerprint(7) == fingerprint(70)
    assert fingerprint(7) == FINDINGS[0].fingerprint


def test_live_findings_have_no_file_path():
    live = {r["ruleId"]: r for r in sarif()["runs"][0]["results"] if r["ruleId"] in ("WEB101", "CLU150")}
    for result in live.values():
        assert "physicalLocation" not in result["locations"][0]
    assert live["WEB101"]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "https://shop.example.com/"
    assert live["WEB101"]["properties"]["url"] == "https://shop.example.com/"
    assert live["CLU150"]["properties"]["node"] == "shop@10.0.0.2"
    assert "artifactLocation" not in json.dumps(live)


def test_levels_and_suppressions():
    results = sarif()["runs"][0]["results"]
    levels = {(r["ruleId"], r["level"]) for r in results}
    assert {("SEC001", "error"), ("REL005", "warning"), ("OPS001", "note")} <= levels
    suppressed = {r["ruleId"]: r["suppressions"] for r in results if "suppressions" in r}
    assert suppressed == {"SEC002": [{"kind": "inSource", "justification": "rotated nightly"}],
                          "SEC001": [{"kind": "external", "justification": "baseline"}]}


def test_rules_carry_their_explain_page_precision_and_security_severity():
    rules = {r["id"]: r for r in sarif()["runs"][0]["tool"]["driver"]["rules"]}
    known = catalog()
    sec = rules["SEC001"]
    assert sec["shortDescription"]["text"] == known["SEC001"].title
    assert sec["fullDescription"]["text"] == known["SEC001"].why
    assert known["SEC001"].fix in sec["help"]["text"] and "## How to fix" in sec["help"]["markdown"]
    assert sec["defaultConfiguration"]["level"] == "error"
    assert "security" in sec["properties"]["tags"]
    assert 7.0 <= float(sec["properties"]["security-severity"]) <= 10.0
    assert sec["properties"]["precision"] == known["SEC001"].confidence.label
    assert "security-severity" not in rules["REL005"]["properties"]
    # A rule missing from the catalog still gets an entry.
    assert rules["ZZZ001"]["shortDescription"]["text"] == "some-name"


def test_driver_identifies_the_tool():
    from phoenix_ops import __version__

    driver = sarif()["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("phoenix-ops", __version__)
    assert urlparse(driver["informationUri"]).scheme == "https"

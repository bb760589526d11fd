"""SARIF 2.1.0 output, shaped for GitHub code scanning.

Static findings point at a repository-relative file under %SRCROOT%. Live findings (a URL, a BEAM
node) have no file: they carry a logical location and properties instead, so code scanning never
receives a path that does not exist in the repository.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from phoenix_ops import __version__
from phoenix_ops.findings import (
    BASELINE_REASON,
    Confidence,
    Finding,
    Location,
    Severity,
)
from phoenix_ops.rule import AREAS, Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/phoenix-ops/"
FINGERPRINT_KEY = "phoenixOps/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
PRECISION = {Confidence.HIGH: "high", Confidence.MEDIUM: "medium", Confidence.LOW: "low"}
# Areas whose findings are security weaknesses: GitHub ranks those by `security-severity`.
SECURITY_AREAS = {"SEC", "WEB"}
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.5", Severity.INFO: "2.0"}


def render_sarif(findings: Sequence[Finding], known: Mapping[str, Rule], root: str = "") -> str:
    """`root` is where the project sits inside its repository ("elixir/"): SARIF paths start at the repository."""
    return _log([sarif_run(findings, known, root)])


def sarif_log(runs: Sequence[tuple[Sequence[Finding], Mapping]], known: Mapping[str, Rule]) -> str:
    """One run per (findings, project summary); the project (its `repo_prefix` roots the paths)
    goes in the run's properties, so a reader knows which project was audited."""
    return _log([sarif_run(findings, known, project.get("repo_prefix", ""), {"project": dict(project)} if project else None)
                 for findings, project in runs])


def _log(runs: list[dict]) -> str:
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": runs}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def sarif_run(findings: Sequence[Finding], known: Mapping[str, Rule], root: str = "",
              properties: dict | None = None) -> dict:
    ordered = sorted(findings, key=Finding.sort_key)
    first = {f.rule_id: f for f in reversed(ordered)}  # each rule's first finding
    rule_ids = sorted(first)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    rules = [_rule(known[r]) if r in known else _unregistered_rule(first[r]) for r in rule_ids]
    run = {
        "tool": {"driver": {"name": "phoenix-ops", "version": __version__, "semanticVersion": __version__,
                            "informationUri": INFORMATION_URI, "rules": rules}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule_id], root) for f in ordered],
    }
    if properties:
        run["properties"] = properties
    return run


def _rule(rule: Rule) -> dict:
    tags = ["phoenix-ops", rule.kind, AREAS[rule.area]]
    props: dict = {"precision": PRECISION[rule.confidence]}
    if rule.raised:
        props["raised"] = rule.raised
    if rule.area in SECURITY_AREAS:
        tags.append("security")
        props["security-severity"] = SECURITY_SEVERITY[rule.severity]
    props["tags"] = tags
    page = f"{rule.title}\n\nWhy it matters\n\n{rule.why}\n\nHow to fix\n\n{rule.fix}"
    markdown = f"**{rule.title}**\n\n## Why it matters\n\n{rule.why}\n\n## How to fix\n\n{rule.fix}"
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why},
        "help": {"text": page, "markdown": markdown},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": props,
    }


def _unregistered_rule(f: Finding) -> dict:
    """A finding whose rule is not in the catalog still needs a rule entry for GitHub."""
    return {
        "id": f.rule_id,
        "name": f.name,
        "shortDescription": {"text": f.name},
        "defaultConfiguration": {"level": LEVELS[f.severity]},
        "properties": {"precision": PRECISION[f.confidence], "tags": ["phoenix-ops"]},
    }


def _result(f: Finding, rule_index: int, root: str = "") -> dict:
    out: dict = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": f.message},
        "locations": [_location(f.location, root)],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": {"name": f.name, "confidence": f.confidence.label, "severity": f.severity.label,
                       **({"hint": f.hint} if f.hint else {}), **_live_properties(f.location)},
    }
    if f.suppressed:
        kind = "external" if f.suppressed == BASELINE_REASON else "inSource"
        out["suppressions"] = [{"kind": kind, "justification": f.suppressed}]
    return out


def _location(loc: Location, root: str = "") -> dict:
    if loc.path:
        physical: dict = {"artifactLocation": {"uri": quote(root + loc.path, safe="/"), "uriBaseId": "%SRCROOT%"}}
        if loc.line and loc.line >= 1:
            physical["region"] = {"startLine": loc.line, **({"startColumn": loc.column} if loc.column else {})}
        return {"physicalLocation": physical}
    subject = loc.url or loc.node
    if subject:
        return {"logicalLocations": [{"name": subject, "fullyQualifiedName": subject, "kind": "resource"}]}
    return {"logicalLocations": [{"name": "project", "kind": "module"}]}


def _live_properties(loc: Location) -> dict:
    if loc.path:
        return {}
    return {k: v for k, v in (("url", loc.url), ("node", loc.node)) if v}

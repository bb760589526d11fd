"""JSON output with a versioned schema, for machines."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from phoenix_ops import __version__
from phoenix_ops.findings import Finding
from phoenix_ops.report.checklist import SKIP_FACTS, Area, checklist_of
from phoenix_ops.rule import Rule

SCHEMA_VERSION = 1


def render_json(findings: Sequence[Finding], *, tool: str, extra: dict | None = None,
                rules: Mapping[str, Rule] | None = None) -> str:
    return json.dumps(json_document(findings, tool=tool, extra=extra, rules=rules), indent=2) + "\n"


def json_document(findings: Sequence[Finding], *, tool: str, extra: dict | None = None,
                  rules: Mapping[str, Rule] | None = None) -> dict:
    """The report as a dict; `rules` describes each rule that appears (id -> name, title, severity).
    The summary counts what may set the exit code: not the suppressed, not information (a grade).
    When the command says which rules did not run or had nothing to judge (`not_run`, `not_applicable`,
    `not_determined` in `extra`), a checklist gives every rule's status by area, with why."""
    shown = [f for f in findings if not f.suppressed]
    rules = rules or {}
    counted = [f for f in shown if not (f.rule_id in rules and rules[f.rule_id].informational)]
    facts = dict(extra or {})
    outcomes = {key: facts.pop(key) for key in SKIP_FACTS if key in facts}
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "phoenix-ops", "version": __version__, "command": tool},
        **facts,
        **({"checklist": checklist_json(checklist_of(findings, rules, outcomes))} if outcomes else {}),
        "findings": [f.to_dict() for f in shown],
        "suppressed": [dict(f.to_dict(), reason=f.suppressed) for f in findings if f.suppressed],
        "summary": {s: sum(1 for f in counted if f.severity.label == s) for s in ("error", "warning", "info")},
        "rules": {r.id: describe_rule(r) for r in (rules[i] for i in sorted({f.rule_id for f in findings})
                                                   if i in rules)},
    }


def checklist_json(areas: Sequence[Area]) -> dict:
    """{area: {label, counts, rules: [{id, name, status, findings?, reason?}]}}"""
    def row(r) -> dict:
        return {"id": r.id, "name": r.name, "status": r.outcome, **({"findings": r.count} if r.count else {}),
                **({"reason": r.reason} if r.reason else {})}
    return {a.code: {"label": a.label, "counts": a.tally(), "rules": [row(r) for r in a.rows]} for a in areas}


def describe_rule(r: Rule) -> dict:
    out = {"name": r.name, "kind": r.kind, "severity": r.severity.label, "confidence": r.confidence.label,
           "title": r.title}
    if r.raised:
        out["raised"] = r.raised
    if r.informational:
        out["informational"] = True
    return out

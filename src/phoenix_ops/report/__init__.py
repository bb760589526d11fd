"""Reporters: each renders a list of Findings for a person or a machine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from phoenix_ops.findings import Finding
from phoenix_ops.rule import Rule

FORMATS = ("text", "json", "sarif", "html")


def render(findings: Sequence[Finding], fmt: str, *, tool: str = "check", color: bool = False,
           extra: dict | None = None, rules: Mapping[str, Rule] | None = None, base: str = "") -> str:
    """Render findings in one of FORMATS. `extra` carries per-command facts (summary, target);
    `rules` the catalog of the command's kinds (SARIF, JSON and HTML describe each rule that
    appears); `base` the project root as seen from the current directory (text paths start there).
    Text ends with the checklist's line per area when `extra` says which rules did not run or apply,
    and with `extra["hint"]` after the totals."""
    rules = rules or {}
    if fmt == "json":
        from phoenix_ops.report.json import render_json
        return render_json(findings, tool=tool, extra=extra, rules=rules)
    if fmt == "sarif":
        from phoenix_ops.report.sarif import sarif_log
        return sarif_log([(findings, (extra or {}).get("project") or {})], rules)
    if fmt == "text":
        from phoenix_ops.report.text import render_text
        return render_text(findings, color=color, base=base, checklist=_checklist(findings, rules, extra or {}),
                           note=(extra or {}).get("hint", ""))
    if fmt == "html":
        from phoenix_ops.report.html import render_html
        return render_html(findings, tool=tool, facts=extra, rules=rules)
    raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")


def render_each(reports: Sequence[tuple[Sequence[Finding], dict, str, str]], fmt: str, *, tool: str,
                color: bool = False, rules: Mapping[str, Rule] | None = None) -> str:
    """Several reports (findings, extra, base, heading) in one output: text blocks under their
    headings, a JSON document listing each report, a SARIF log with one run each."""
    import json
    rules = rules or {}
    if fmt == "text":
        from phoenix_ops.report.text import render_text
        return "\n".join(f"{heading}\n" + render_text(findings, color=color, base=base, note=extra.get("hint", ""),
                                                      checklist=_checklist(findings, rules, extra))
                         for findings, extra, base, heading in reports)
    if fmt == "json":
        from phoenix_ops.report.json import SCHEMA_VERSION, json_document
        docs = [json_document(findings, tool=tool, extra=extra, rules=rules) for findings, extra, _, _ in reports]
        return json.dumps({"schema_version": SCHEMA_VERSION, "reports": docs}, indent=2) + "\n"
    if fmt == "sarif":
        from phoenix_ops.report.sarif import sarif_log
        return sarif_log([(findings, (extra or {}).get("project") or {}) for findings, extra, _, _ in reports], rules)
    raise ValueError(f"format {fmt!r} holds one report")


def _checklist(findings: Sequence[Finding], rules: Mapping[str, Rule], extra: Mapping) -> list:
    """The checklist of a report whose facts say which rules did not run or apply; none otherwise."""
    from phoenix_ops.report.checklist import SKIP_FACTS, checklist_of
    return checklist_of(findings, rules, extra) if set(SKIP_FACTS) & set(extra) else []

"""Reporters: each renders a list of Findings for a person or a machine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from phoenix_ops.findings import Finding
from phoenix_ops.rule import Rule

FORMATS = ("text", "json", "sarif", "html")


def render(findings: Sequence[Finding], fmt: str, *, tool: str = "check", color: bool = False,
           extra: dict | None = None, rules: Mapping[str, Rule] | None = None) -> str:
    """Render findings in one of FORMATS; `extra` carries per-command facts (summary, target), `rules`
    the rules that ran: SARIF describes each, HTML lists them as what was checked and embeds their pages
    (report/html.py names the facts an HTML page shows in their own place)."""
    if fmt == "json":
        from phoenix_ops.report.json import render_json
        return render_json(findings, tool=tool, extra=extra)
    if fmt == "sarif":
        from phoenix_ops.report.sarif import render_sarif
        return render_sarif(findings, rules or {}, root=(extra or {}).get("project", {}).get("repo_prefix", ""))
    if fmt == "text":
        from phoenix_ops.report.text import render_text
        return render_text(findings, color=color)
    if fmt == "html":
        from phoenix_ops.report.html import render_html
        return render_html(findings, tool=tool, facts=extra, rules=rules)
    raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")

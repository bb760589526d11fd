"""Human text output: one block per finding, coloured on a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_ops.findings import Finding, Severity

_COLORS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_DIM, _BOLD, _RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"


def render_text(findings: Sequence[Finding], *, color: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    shown = sorted((f for f in findings if not f.suppressed), key=Finding.sort_key)
    lines = []
    for f in shown:
        head = f"{f.location}: {paint(_COLORS[f.severity], f.severity.label)} " \
               f"{paint(_BOLD, f.rule_id)} [{f.name}] {f.message}"
        if f.confidence.label != "high":
            head += paint(_DIM, f" ({f.confidence.label} confidence)")
        lines.append(head)
        if f.hint:
            lines.append(paint(_DIM, f"    fix: {f.hint}"))
    counts = {s: sum(1 for f in shown if f.severity is s) for s in Severity}
    hidden = len(findings) - len(shown)
    summary = ", ".join(f"{counts[s]} {s.label}{'s' if counts[s] != 1 else ''}"
                        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    if hidden:
        summary += f"; {hidden} suppressed"
    lines.append(("" if not shown else "\n") + (summary if shown or hidden else "no findings"))
    return "\n".join(lines) + "\n"

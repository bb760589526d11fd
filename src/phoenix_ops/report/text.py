"""Human text output: one line per finding, coloured on a terminal.

A fix shared by several findings of one rule (45 missing variables, one remedy) is printed once,
after the findings, with the list of what it applies to.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Sequence

from phoenix_ops.findings import Finding, Location, Severity
from phoenix_ops.report.checklist import NOT_RUN, Area

_COLORS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}
_DIM, _BOLD, _RESET = "\x1b[2m", "\x1b[1m", "\x1b[0m"
_SUBJECTS_SHOWN = 12


def render_text(findings: Sequence[Finding], *, color: bool = False, base: str = "",
                tables: Sequence[tuple[str, Sequence[dict]]] = (), checklist: Sequence[Area] = (),
                note: str = "") -> str:
    """`base` is prefixed to file paths so they open from the current directory; `tables` are
    (title, rows) of facts a command prints after the findings; `checklist` what was checked, one
    line per area above the totals ("CLU: 1 failed, 3 passed, 4 not applicable"), but for an area
    whose rules were all left out (--select); `note` a hint after the totals on a setting that would
    help, as ruff's on --fix."""
    paint = _painter(color)
    shown = sorted((f for f in findings if not f.suppressed), key=Finding.sort_key)
    shared = _shared_hints(shown)
    lines = []
    for f in shown:
        head = f"{where(f.location, base)}: {paint(_COLORS[f.severity], f.severity.label)} " \
               f"{paint(_BOLD, f.rule_id)} [{f.name}] {f.message}"
        if f.confidence.label != "high":
            head += paint(_DIM, f" ({f.confidence.label} confidence)")
        lines.append(head)
        if f.hint and (f.rule_id, f.hint) not in shared:
            lines.append(paint(_DIM, f"    fix: {f.hint}"))
    for (rule_id, hint), group in shared.items():
        subjects = list(dict.fromkeys(_subject(f, base) for f in group))
        listed = ", ".join(subjects[:_SUBJECTS_SHOWN])
        if len(subjects) > _SUBJECTS_SHOWN:
            listed += f" and {len(subjects) - _SUBJECTS_SHOWN} more"
        lines.append(f"\n{paint(_BOLD, rule_id)} ({len(group)} findings: {listed})")
        lines.append(paint(_DIM, f"    fix: {hint}"))
    for title, rows in tables:
        lines += ["", paint(_BOLD, title), *table(rows)]
    checked = checklist_lines(checklist, color=color)
    if checked:
        lines += [*([""] if lines else []), *checked]
    lines.append(("\n" if lines else "") + summary_line(findings))
    if note:
        lines.append(f"hint: {note}")
    return "\n".join(lines) + "\n"


def checklist_lines(checklist: Sequence[Area], *, color: bool = False) -> list[str]:
    """A line per area of the checklist, but for an area whose rules were all left out (--select)."""
    return [area_line(a, _painter(color)) for a in checklist if a.worst != NOT_RUN]


def _painter(color: bool):
    """paint(code, text): the text in that terminal colour, or as it is without colour."""
    return lambda code, text: f"{code}{text}{_RESET}" if color else text


def area_line(area: Area, paint) -> str:
    """'CLU: 1 failed, 3 passed, 4 not applicable': an area of the checklist, worst outcome first."""
    return f"{paint(_BOLD, area.code)}: " + ", ".join(f"{n} {outcome}" for outcome, n in area.tally().items())


def table(rows: Sequence[dict]) -> list[str]:
    """Rows of equal keys as aligned columns under a header."""
    if not rows:
        return []
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    def line(values: dict) -> str:
        return "  ".join(str(values.get(k, "")).ljust(widths[k]) for k in keys).rstrip()
    return [line({k: k for k in keys}), *(line(r) for r in rows)]


def summary_line(findings: Sequence[Finding]) -> str:
    """'1 error, 2 warnings, 0 infos; 3 suppressed', or 'no findings'."""
    shown = [f for f in findings if not f.suppressed]
    if not findings:
        return "no findings"
    counts = {s: sum(1 for f in shown if f.severity is s) for s in Severity}
    line = ", ".join(f"{counts[s]} {s.label}{'s' if counts[s] != 1 else ''}"
                     for s in (Severity.ERROR, Severity.WARNING, Severity.INFO))
    hidden = len(findings) - len(shown)
    return f"{line}; {hidden} suppressed" if hidden else line


def where(loc: Location, base: str = "") -> str:
    """A location as text, its file path starting at `base`."""
    if loc.path and base and not posixpath.isabs(loc.path):
        return str(Location(posixpath.normpath(posixpath.join(base, loc.path)), loc.line, loc.column))
    return str(loc)


def _shared_hints(findings: Sequence[Finding]) -> dict[tuple[str, str], list[Finding]]:
    """(rule id, hint) -> findings, for hints given to more than one finding of a rule."""
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.hint:
            groups[(f.rule_id, f.hint)].append(f)
    return {k: v for k, v in groups.items() if len(v) > 1}


def _subject(f: Finding, base: str) -> str:
    return f.key or where(f.location, base)

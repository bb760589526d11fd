"""A self-contained HTML report of Findings that a person reads in a browser; any command can use it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from itertools import groupby
from urllib.parse import urlsplit

from phoenix_ops import __version__
from phoenix_ops.findings import Finding, Location, Severity

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:64rem;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.6rem;margin:0 0 .3rem} h2{font-size:1.15rem;margin:2rem 0 .5rem;word-break:break-all}
.meta{color:#666} .grade{display:inline-block;font-size:2rem;font-weight:700;padding:.2rem .8rem;
border-radius:.5rem;color:#fff;background:#777;margin-right:1rem;vertical-align:middle}
.grade.small{font-size:1rem;padding:.1rem .5rem;margin-right:.6rem}
.g-A,.g-Ap{background:#1a7f37}.g-B{background:#4d8c1f}.g-C{background:#b08800}.g-D{background:#c4561d}.g-F{background:#cf222e}
.counts span{margin-right:1rem} table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top;font-size:.9rem}
.finding{border-left:4px solid #999;padding:.4rem .8rem;margin:.5rem 0;background:#fafafa}
.error{border-color:#cf222e}.warning{border-color:#b08800}.info{border-color:#0969da}
.sev{font-weight:600;text-transform:uppercase;font-size:.75rem;margin-right:.4rem}
.error .sev{color:#cf222e}.warning .sev{color:#9a6700}.info .sev{color:#0969da}
code{font-size:.85rem} .hint{color:#555;font-size:.9rem;margin-top:.2rem} .where{color:#666;font-size:.8rem}
"""


def section_of(loc: Location) -> str:
    """Findings are shown per site (scheme://host) for URLs, per file for paths, per node otherwise."""
    if loc.url:
        parts = urlsplit(loc.url)
        scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)  # a site's sockets join it
        site = f"{scheme}://{parts.netloc}" if parts.netloc else loc.url
        return f"{site} via {loc.node}" if loc.node else site
    return loc.path or loc.node or "general"


def _value(v: object) -> str:
    if isinstance(v, Mapping):
        return _table(v)
    if isinstance(v, (list, tuple)):
        return escape(", ".join(map(str, v)))
    return escape("" if v is None else str(v))


def _table(data: Mapping) -> str:
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{_value(v)}</td></tr>" for k, v in data.items())
    return f"<table>{rows}</table>"


def _finding(f: Finding) -> str:
    conf = "" if f.confidence.label == "high" else f" <span class=where>({f.confidence.label} confidence)</span>"
    hint = f"<div class=hint>Fix: {escape(f.hint)}</div>" if f.hint else ""
    where = str(f.location)
    return (f'<div class="finding {f.severity.label}"><span class=sev>{f.severity.label}</span>'
            f"<code>{escape(f.rule_id)}</code> {escape(f.name)}{conf}<div>{escape(f.message)}</div>{hint}"
            f"<div class=where>{escape(where)}</div></div>")


def _badge(grade: str | None, css: str = "grade") -> str:
    return f'<span class="{css} g-{escape(grade.replace("+", "p"))}">{escape(grade)}</span>' if grade else ""


def render_html(findings: Sequence[Finding], *, title: str | None = None, grade: str | None = None,
                summary: Mapping | None = None, section_grades: Mapping[str, str] | None = None) -> str:
    """`section_grades` puts a grade beside a section's heading (section names from section_of)."""
    title = title or "phoenix-ops report"
    shown = [f for f in findings if not f.suppressed]
    counts = {s: sum(1 for f in shown if f.severity is s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)}
    count_line = "".join(f"<span>{n} {s.label}{'s' if n != 1 else ''}</span>" for s, n in counts.items())
    hidden = len(findings) - len(shown)
    if hidden:
        count_line += f"<span>{hidden} suppressed</span>"
    def section(f: Finding) -> str:
        return section_of(f.location)

    grades = section_grades or {}
    ordered = sorted(shown, key=lambda f: (section(f), -f.severity, f.rule_id, str(f.location), f.message))
    sections = "".join(
        f"<h2>{_badge(grades.get(name), 'grade small')}{escape(name)}</h2>" + "".join(_finding(f) for f in items)
        for name, items in groupby(ordered, key=section))
    body = sections or "<p>No findings.</p>"
    details = f"<h2>Summary</h2>{_table(summary)}" if summary else ""
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_badge(grade)}{escape(title)}</h1>"
            f"<p class=meta>phoenix-ops {escape(__version__)}</p><p class=counts>{count_line}</p>"
            f"{details}{body}</body></html>\n")

"""A self-contained HTML report of Findings that a person reads in a browser, or sends to a colleague.

One page, no network: CSS inline, no fonts or scripts fetched. It shows the verdict (a grade card when
the command grades), what was checked (a checklist per area, from the rules handed in), the findings
by file / site / node with each rule's page one click away in the same file, and the facts the
command handed over. Facts a page understands beyond plain `key: value` ones:

    project        the project's summary (check, env check)
    grade          a letter for the whole report; `section_grades` one per findings section (probe);
                   `grade_rule` the rule whose findings state those grades: shown as the grades only
    targets        per-target facts, each with its grade and score (probe)
    not_run        {rule id: why it did not run}: shown as such in the checklist
    not_applicable {rule id: why}: rules whose subject is absent (no Oban dependency, no socket to judge)
    not_determined {rule id: why}: rules whose subject the files cannot tell (set by code not read)
    tables         [{"title", "columns", "rows", "note"}]: data tables (the env contract, cluster nodes)
    picture        an SVG drawn by phoenix-ops itself (the cluster), embedded as is
    headline       a line under the title when the page has no verdict to give (the env contract)
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from phoenix_ops import __version__
from phoenix_ops.findings import Finding, Location, Severity
from phoenix_ops.report import facts as fact_text
from phoenix_ops.report.checklist import OUTCOMES, SKIP_FACTS, as_rules, checklist_of
from phoenix_ops.rule import AREAS, KINDS, Rule

# Facts shown in their own part of the page, not in the "about" table.
_PLACED = ("project", "grade", "section_grades", "grade_rule", "targets", *SKIP_FACTS, "tables", "picture", "headline")
_LEVELS = (Severity.ERROR, Severity.WARNING, Severity.INFO)
_SHOWN = 3  # findings of one rule shown before the rest are folded away


def section_of(loc: Location) -> str:
    """Findings are shown per site (scheme://host) for URLs, per file for paths, per node otherwise."""
    if loc.url:
        parts = urlsplit(loc.url)
        scheme = {"wss": "https", "ws": "http"}.get(parts.scheme, parts.scheme)  # a site's sockets join it
        site = f"{scheme}://{parts.netloc}" if parts.netloc else loc.url
        return f"{site} via {loc.node}" if loc.node else site
    return loc.path or loc.node or "general"


@functools.cache
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["prose"] = _prose
    env.filters["code"] = _code
    env.filters["plural"] = _plural
    env.globals["grade_class"] = _grade_class
    return env


def _code(text: str):
    """Escaped text with `backticks` shown as code."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def _prose(text: str):
    """A rule page's text: blank lines part paragraphs, `backticks` mark code; everything escaped."""
    from markupsafe import Markup

    paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
    return Markup("".join(f"<p>{_code(p)}</p>" for p in paragraphs))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 or word == "info" else f"{n} {word}s"


def _grade_class(grade: str | None) -> str:
    return "g-" + grade.replace("+", "p") if grade else "g-none"


def _verdict(counts: Mapping[str, int], ran_rules: bool) -> tuple[str, str]:
    """(css class, sentence) for the header."""
    errors, warnings, infos = counts["error"], counts["warning"], counts["info"]
    if errors:
        more = f" and {_plural(warnings, 'warning')}" if warnings else ""
        return "bad", f"Not ready: {_plural(errors, 'error')}{more} to fix"
    if warnings:
        return "warn", f"Needs attention: {_plural(warnings, 'warning')}"
    done = "Every check passed" if ran_rules else "No problems found"
    return "ok", done + (f"; {_plural(infos, 'note')} for information" if infos else "")


def _subject(facts: Mapping) -> str:
    project = facts.get("project")
    if isinstance(project, Mapping) and (project.get("app") or project.get("root")):
        name = project.get("app") or Path(str(project["root"])).name
        env = facts.get("env") or project.get("env")
        return f"{name} · {env}" if env else str(name)
    targets = facts.get("targets")
    if isinstance(targets, Mapping) and targets:
        return next(iter(targets)) if len(targets) == 1 else f"{len(targets)} targets"
    if "nodes" in facts:
        return f"BEAM cluster · {_plural(int(facts['nodes']), 'node')}"
    return ""


def _rule_page(rule: Rule | None, rule_id: str, name: str, seen: set[str]) -> dict:
    if rule is None:  # a finding of a rule the command did not hand in: its name is all we know
        return {"id": rule_id, "name": name, "title": "", "meta": [], "why": "", "fix": "", "raised": ""}
    meta = [f"{rule.area}: {AREAS[rule.area]}", f"kind: {rule.kind} ({KINDS[rule.kind][0]})",
            f"default severity: {rule.severity.label}", f"confidence: {rule.confidence.label}"]
    other = sorted(seen - {rule.severity.label})
    raised = f"Reported here as {', '.join(other)}." if other else ""
    return {"id": rule.id, "name": rule.name, "title": rule.title, "meta": meta, "why": rule.why, "fix": rule.fix,
            "raised": raised}


def _targets(facts: Mapping) -> list[dict]:
    targets = facts.get("targets")
    if not isinstance(targets, Mapping):
        return []
    return [{"label": label, "grade": t.get("grade"), "score": t.get("score"),
             "rows": fact_text.rows(t, skip=("grade", "score"))} for label, t in targets.items()]


def _tables(facts: Mapping) -> list[dict]:
    return [{"title": t.get("title", ""), "note": t.get("note", ""), "columns": list(t.get("columns", ())),
             "rows": [[fact_text.text(c) for c in row] for row in t.get("rows", ())]}
            for t in facts.get("tables") or ()]


def render_html(findings: Sequence[Finding], *, tool: str = "check", facts: Mapping | None = None,
                rules: Mapping[str, Rule] | Iterable[Rule] | None = None) -> str:
    """`rules` are the rules that ran (or were meant to): the checklist and the rule pages."""
    from markupsafe import Markup

    facts = dict(facts or {})
    known = as_rules(rules)
    graded_by = facts.get("grade_rule")
    if graded_by:
        findings = [f for f in findings if f.rule_id != graded_by]
        known.pop(graded_by, None)
    shown = [f for f in findings if not f.suppressed]
    hidden = [f for f in findings if f.suppressed]
    counts = {s.label: sum(1 for f in shown if f.severity is s) for s in _LEVELS}

    grades = facts.get("section_grades") or {}
    sections = _sections(shown, known, grades)
    first = {g["id"]: g["shown"][0][0] for section in sections for g in section["groups"]}
    checklist = checklist_of(findings, known, facts) if known else []

    seen: dict[str, set[str]] = {}
    for f in findings:
        seen.setdefault(f.rule_id, set()).add(f.severity.label)
    names = {f.rule_id: f.name for f in findings}
    pages = [_rule_page(known.get(rid), rid, names.get(rid, ""), seen.get(rid, set()))
             for rid in sorted(set(known) | set(seen))]

    project = facts.get("project")
    about = fact_text.rows(project) if isinstance(project, Mapping) else []
    about += fact_text.rows({k: v for k, v in facts.items() if k not in _PLACED})
    headline = str(facts.get("headline", ""))  # a page that judges nothing (the env contract) says this instead
    verdict = None if headline and not (known or findings) else _verdict(counts, bool(known))
    page = _environment().get_template("report.html.j2").render(
        title=f"phoenix-ops {tool}", tool=tool, version=__version__, subject=_subject(facts),
        headline=headline, verdict=verdict, counts=counts, suppressed=len(hidden),
        grade=facts.get("grade"), targets=_targets(facts), about=about, tables=_tables(facts),
        picture=Markup(facts["picture"]) if facts.get("picture") else "",
        sections=sections, hidden=sorted(hidden, key=_order), checklist=checklist, first=first,
        checked=_checked(checklist), pages=pages, has_findings=verdict is not None)
    return page.rstrip() + "\n"


def _checked(areas: list) -> str:
    """The checklist in one line for the header: "Checked 40 rules: 3 failed, 35 passed, 2 not run"."""
    tally: dict[str, int] = {}
    for area in areas:
        for outcome, n in area.tally().items():
            tally[outcome] = tally.get(outcome, 0) + n
    if not tally:
        return ""
    parts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(tally.items(), key=lambda i: OUTCOMES.index(i[0])))
    return f"Checked {_plural(sum(tally.values()), 'rule')}: {parts}"


def _sections(shown: Sequence[Finding], rules: Mapping[str, Rule], grades: Mapping[str, str]) -> list[dict]:
    """Findings of files by area, of live checks by site or node, then by rule, worst rule first: each
    rule's first few findings shown, the rest folded, and a fix shared by all of them said once."""
    by_site = bool(grades) or any(f.location.url or (f.location.node and not f.location.path) for f in shown)
    buckets: dict[str, dict[str, list[Finding]]] = {}
    for f in shown:
        name = section_of(f.location) if by_site else f.rule_id[:3]
        buckets.setdefault(name, {}).setdefault(f.rule_id, []).append(f)
    areas = list(AREAS)
    names = sorted(buckets, key=None if by_site else lambda c: (areas.index(c) if c in areas else len(areas), c))
    anchors = (f"f-{n}" for n in itertools.count(1))
    sections = []
    for name in names:
        groups = []
        for rule_id, items in sorted(buckets[name].items(), key=lambda kv: (-max(f.severity for f in kv[1]), kv[0])):
            items.sort(key=lambda f: (-f.severity, *f.sort_key()))
            cards = [(next(anchors), f) for f in items]
            hints = {f.hint for f in items}
            rule = rules.get(rule_id)
            groups.append({"id": rule_id, "name": items[0].name, "title": rule.title if rule else "",
                           "count": len(items), "hint": hints.pop() if len(items) > 1 and len(hints) == 1 else "",
                           "shown": cards[:_SHOWN], "rest": cards[_SHOWN:]})
        label = name if by_site else f"{name} · {AREAS.get(name, name)}"
        sections.append({"name": label, "grade": grades.get(name), "groups": groups,
                         "count": sum(g["count"] for g in groups)})
    return sections


def _order(f: Finding) -> tuple:
    return (section_of(f.location), -f.severity, f.rule_id, str(f.location), f.message)

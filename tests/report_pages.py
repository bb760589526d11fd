"""Look at an HTML report the way a person does: in Chromium, on a desktop and on a phone.

`look()` screenshots the page at 1280 px and at 390 px into tests/.artifacts/html/ (kept out of git,
overwritten by each run) and returns what the rendered DOM shows, so tests assert on the page as the
browser laid it out, not on the HTML string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from browser import Browser

ARTIFACTS = Path(__file__).resolve().parent / ".artifacts" / "html"
WIDTHS = {"desktop": (1280, 900, False), "phone": (390, 844, True)}

# What the rendered page shows, read in the browser.
_DOM = """(() => {
  const all = (sel) => [...document.querySelectorAll(sel)];
  const text = (sel) => all(sel).map(e => e.innerText.trim());
  const wide = all('body *').filter(e => e.getBoundingClientRect().right > innerWidth + 1)
    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
  return {
    title: document.title,
    verdict: document.querySelector('#verdict')?.innerText ?? null,
    grade: document.querySelector('.grade-card')?.dataset.grade ?? null,
    counts: Object.fromEntries(all('.counts .count').map(e => [e.dataset.severity, +e.dataset.count])),
    findings: all('#findings .group article.finding').map(e => [e.dataset.rule, e.dataset.severity]),
    checks: all('.check').map(e => [e.dataset.rule, e.dataset.outcome]),
    rule_pages: all('article.rule').map(e => e.id),
    open_rule_pages: all('details.rule-page[open]').length,
    dangling: all('a[href^="#"]').map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id)),
    rule_links: all('a.rule-link').length,
    unlinked: all('#findings article.finding').filter(e => !e.closest('.rule-group')
      ?.querySelector(`.rule-head a.rule-link[href="#rule-${e.dataset.rule}"]`)).map(e => e.id),
    sections: all('#findings .where-head > span:not(.badge):not(.group-count)').map(e => e.innerText.trim()),
    group_heads: Object.fromEntries(all('.rule-group').map(g => [g.dataset.rule, g.querySelector('.rule-head').textContent.replace(/\\s+/g, ' ').trim()])),
    group_hints: Object.fromEntries(all('.rule-group').map(g => [g.dataset.rule, g.querySelector(':scope > .hint')?.innerText ?? ''])),
    more: Object.fromEntries(all('.rule-group > details.more').map(d => [d.parentElement.dataset.rule, d.querySelector('summary').innerText.trim()])),
    groups: all('#findings .rule-group').map(g => ({rule: g.dataset.rule, count: +g.dataset.count,
      cards: g.querySelectorAll('article.finding').length,
      visible: [...g.querySelectorAll('article.finding')].filter(e => e.checkVisibility()).length,
      folded: g.querySelector(':scope > details.more:not([open])')?.querySelectorAll('article.finding').length ?? 0})),
    labels: text('.facts dt'),
    values: text('.facts dd'),
    tables: all('table.data').map(t => ({head: [...t.tHead.rows[0].cells].map(c => c.innerText),
                                          rows: t.tBodies[0].rows.length})),
    svg_nodes: all('#picture svg g.node').length,
    scroll_width: document.documentElement.scrollWidth,
    inner_width: innerWidth,
    wide: wide.slice(0, 10),
    scripts: all('script').length,
  };
})()"""

# Click the first link to a rule page, as a reader does: the closed page must open and show itself.
_FOLLOW = """(async () => {
  const link = document.querySelector('#findings a.rule-link') || document.querySelector('.check a.rule-link');
  if (!link) return null;
  const id = link.getAttribute('href').slice(1);
  link.click();
  await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
  const target = document.getElementById(id), page = target.closest('details');
  const box = target.getBoundingClientRect(), head = page.querySelector('summary').getBoundingClientRect();
  return {id, open: page.open, summary_top: head.top, top: box.top, height: box.height, inner_height: innerHeight};
})()"""


@dataclass
class Page:
    desktop: dict
    phone: dict
    requests: list[str]
    shots: list[Path]


def look(browser: Browser, report: Path, kind: str) -> Page:
    """Open `report` at both widths, screenshot each, and read the DOM of each."""
    seen, shots, requests = {}, [], []
    for name, (width, height, mobile) in WIDTHS.items():
        browser.open(report, width, height, mobile=mobile)
        seen[name] = browser.eval(_DOM)
        seen[name]["followed"] = browser.eval(_FOLLOW)
        requests += browser.requests()
        shots.append(browser.screenshot(ARTIFACTS / f"{kind}-{width}.png"))
    (ARTIFACTS / f"{kind}.html").write_text(report.read_text())
    return Page(seen["desktop"], seen["phone"], requests, shots)


def assert_good_page(page: Page, report: Path) -> None:
    """What every report must be: self-contained, no dangling anchors, no Python values, no sideways
    scrolling on a phone, every finding linked to its rule page."""
    assert page.requests == [report.resolve().as_uri()] * 2, page.requests  # nothing but the file itself
    for dom in (page.desktop, page.phone):
        assert dom["scripts"] == 0
        assert dom["dangling"] == [], dom["dangling"]
        assert dom["scroll_width"] <= dom["inner_width"], (dom["inner_width"], dom["wide"])
        assert not [label for label in dom["labels"] if re.search(r"\b[a-z]+_[a-z_]+\b", label)], dom["labels"]
        assert not [v for v in dom["values"] if re.search(r"\b(True|False|None)\b|[{}\[\]]", v)], dom["values"]
        assert set(dom["counts"]) >= {"error", "warning", "info"} or dom["verdict"] is None
        for severity in ("error", "warning", "info"):
            assert dom["counts"].get(severity, 0) == sum(1 for _, s in dom["findings"] if s == severity)
        assert {rule for rule, _ in dom["findings"]} <= {p.removeprefix("rule-") for p in dom["rule_pages"]}
        assert dom["unlinked"] == [], dom["unlinked"]  # each finding under its rule's head, linked to its page
        for group in dom["groups"]:  # a rule's first few findings shown, the rest folded and counted
            assert group["cards"] == group["count"] == group["visible"] + group["folded"], group
            assert group["visible"] == min(group["count"], 3), group
        assert dom["open_rule_pages"] == 0  # rule pages are closed until asked for
        followed = dom["followed"]
        if followed is not None:  # the rule page a link points at opens, its summary line in view
            assert followed["open"] and followed["height"] > 0, followed
            assert followed["summary_top"] < followed["top"] and 0 <= followed["top"] < followed["inner_height"], followed


def counts_of(json_report: str) -> dict[str, int]:
    return json.loads(json_report)["summary"]

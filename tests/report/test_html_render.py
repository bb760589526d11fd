"""The HTML page's parts, from the renderer alone: checklist outcomes, rule pages, facts in words."""

from __future__ import annotations

from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.report import render
from phoenix_ops.report.checklist import build_checklist
from phoenix_ops.report.facts import rows
from phoenix_ops.rule import rule

PAGE = dict(title="A thing is <wrong>", why="It matters because `<script>` runs. " * 3, fix="Do `x = 1`.\n\nThen rest.")
FAILS = rule("WEB001", "web-fails", Severity.WARNING, Confidence.HIGH, **PAGE)
NOTES = rule("WEB002", "web-notes", Severity.INFO, Confidence.HIGH, **PAGE)
HIDDEN = rule("SEC001", "sec-hidden", Severity.ERROR, Confidence.HIGH, **PAGE)
QUIET = rule("SEC002", "sec-quiet", Severity.ERROR, Confidence.HIGH, **PAGE)
SKIPPED = rule("REL001", "rel-skipped", Severity.ERROR, Confidence.HIGH, **PAGE)
RULES = [FAILS, NOTES, HIDDEN, QUIET, SKIPPED]


def findings() -> list[Finding]:
    hidden = HIDDEN.finding("a secret-looking thing", Location(path="config/prod.exs", line=2))
    hidden.suppressed = "a public sandbox key"
    return [FAILS.finding("<b>bold</b> claim", Location(path="lib/a.ex", line=1), severity=Severity.ERROR),
            NOTES.finding("for information", Location(url="https://a.example/")), hidden]


def test_each_rule_gets_its_outcome_by_area():
    areas = build_checklist(findings(), {r.id: r for r in RULES}, {"REL001": "not selected by --select"},
                            {"SEC002": "no such subject", "WEB001": "a finding wins"})
    assert [a.code for a in areas] == ["REL", "SEC", "WEB"]
    outcomes = {row.id: (row.outcome, row.severity, row.reason) for a in areas for row in a.rows}
    assert outcomes == {"REL001": ("not run", "", "not selected by --select"), "SEC001": ("suppressed", "", ""),
                        "SEC002": ("not applicable", "", "no such subject"), "WEB001": ("failed", "error", ""),
                        "WEB002": ("noted", "info", "")}
    assert areas[2].tally() == {"failed": 1, "noted": 1} and areas[2].worst == "failed"


def test_a_subject_the_files_cannot_tell_is_not_determined_not_absent():
    areas = build_checklist([], {r.id: r for r in RULES}, {}, {"SEC002": "no such subject"},
                            {"REL001": "set by code the audit does not read"})
    rows = {row.id: (row.outcome, row.reason) for a in areas for row in a.rows}
    assert rows["REL001"] == ("not determined", "set by code the audit does not read")
    assert rows["SEC002"] == ("not applicable", "no such subject")
    page = render([], "html", tool="check", rules=RULES, extra={"not_determined": {"REL001": "set by code"}})
    assert 'data-rule="REL001" data-outcome="not determined"' in page and "set by code" in page


def test_page_escapes_everything_and_links_findings_to_embedded_rule_pages():
    page = render(findings(), "html", tool="check", rules=RULES, extra={"not_run": {"REL001": "not selected"}})
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt; claim" in page
    assert "<script>" not in page and "<code>&lt;script&gt;</code>" in page and "<code>x = 1</code>" in page
    assert "A thing is &lt;wrong&gt;" in page and "<p>Then rest.</p>" in page
    for r in RULES:
        assert f'id="rule-{r.id}"' in page
    assert 'href="#rule-WEB001"' in page and "Reported here as error." in page  # raised above its default
    assert "Checked 5 rules: 1 failed, 1 noted, 1 suppressed, 1 passed, 1 not run" in page
    assert "Not ready: 1 error to fix" in page and "1 suppressed" in page and "a public sandbox key" in page
    assert "<script" not in page.replace("&lt;script", "") and "http://" not in page and "https://a.example" in page


def test_grade_rule_is_the_card_and_not_a_finding():
    grade = NOTES.finding("grade A (95/100)", Location(url="https://a.example/"))
    page = render([grade], "html", tool="probe", rules=[NOTES],
                  extra={"grade": "A", "grade_rule": NOTES.id, "targets": {"https://a.example/": {"grade": "A"}}})
    assert 'data-grade="A"' in page and "grade A (95/100)" not in page and 'id="rule-WEB002"' not in page


def test_facts_are_words_not_python_values():
    said = dict(rows({"umbrella": False, "apps": [], "repo_prefix": "", "phoenix": None, "csp_strong": True,
                      "hsts_max_age": 31536000, "check_seconds": {"tls": 0.2, "health": 1.25},
                      "disabled_rules": {}, "release_mode": "release", "some_new_fact": ["a", "b"]}))
    assert said == {"Umbrella project": "no", "Phoenix version": "unknown", "Strict Content-Security-Policy": "yes",
                    "HSTS max-age": "365 days", "Checks finished": "2 (slowest: health, 1.25 s)",
                    "Rules disabled by .phoenix-ops.toml": "none", "Deployed as": "a Mix release",
                    "Some new fact": "a, b"}


def test_a_page_that_judges_nothing_gives_no_verdict():
    page = render([], "html", tool="env", extra={"headline": "3 variables", "tables": [
        {"title": "Env contract", "columns": ["Variable", "Default"], "rows": [["PORT", None]]}]})
    assert "3 variables" in page and 'id="verdict"' not in page and 'id="findings"' not in page
    assert '<td data-label="Default">unknown</td>' in page


def test_run_mode_reads_as_words_with_its_evidence():
    from phoenix_ops.report.facts import rows
    given = {"run_mode": {"mode": "mix", "evidence": ["Procfile:1 web: mix phx.server"]}}
    assert rows(given) == [("Runs in production as", "mix phx.server (no release) (Procfile:1 web: mix phx.server)")]
    unknown = rows({"run_mode": {"mode": "unknown", "evidence": []}})[0][1]
    assert unknown.startswith("unknown: no file shows it")
    unclear = rows({"run_mode": {"mode": "unknown", "evidence": [], "unclear": ["fly.toml:5 experimental.cmd = a"]}})
    assert unclear[0][1].startswith("unknown: fly.toml:5 experimental.cmd = a starts something the audit cannot follow")

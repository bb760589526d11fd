"""The probe's pure parts: header, cookie and cache parsing, grading, targets, rule pages, HTML."""

from __future__ import annotations

import httpx
import pytest

from phoenix_ops.catalog import catalog
from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.live.assets import cache_problem
from phoenix_ops.live.command import ProbeRun, not_run, summary
from phoenix_ops.live.context import Context
from phoenix_ops.live.cookies import check_cookies, parse_set_cookie
from phoenix_ops.live.grade import grade, worst_of
from phoenix_ops.live.headers import (
    check_headers,
    csp_problems,
    hsts_max_age,
    parse_csp,
    phoenix_generation,
)
from phoenix_ops.live.http import Reply
from phoenix_ops.live.probe import checks
from phoenix_ops.live.target import (
    ProbeOptions,
    ProbeUsageError,
    Target,
    TargetResult,
    build_targets,
    parse_header,
    parse_resolve,
)
from phoenix_ops.report.html import render_html
from phoenix_ops.rule import standings


@pytest.mark.parametrize("policy, problems", [
    ("default-src 'self'", []),
    ("script-src 'self' 'unsafe-inline' 'nonce-r4nd0m'", []),
    ("script-src 'self' 'unsafe-inline'", ["script-src allows 'unsafe-inline' without a nonce or hash"]),
    ("default-src 'self' 'unsafe-eval' https:", ["default-src allows 'unsafe-eval'",
                                                 "default-src allows broad sources https:"]),
    ("default-src *; script-src 'self'", []),  # script-src wins over default-src
    ("base-uri 'self'; frame-ancestors 'self';", ["no script-src or default-src: scripts are not restricted"]),
])
def test_csp_judgement(policy, problems):
    assert csp_problems(parse_csp(policy)) == problems


def test_hsts_max_age_parsing():
    assert hsts_max_age('max-age="31536000"; includeSubDomains') == 31536000
    assert hsts_max_age("includeSubDomains") is None


@pytest.mark.parametrize("headers, generation", [
    ({"x-frame-options": "SAMEORIGIN", "x-xss-protection": "1; mode=block", "x-content-type-options": "nosniff",
      "x-download-options": "noopen", "x-permitted-cross-domain-policies": "none",
      "cross-origin-window-policy": "deny"}, "Phoenix 1.6 or earlier"),
    ({"referrer-policy": "strict-origin-when-cross-origin", "x-content-type-options": "nosniff",
      "x-permitted-cross-domain-policies": "none", "content-security-policy": "default-src 'self'"},
     "Phoenix 1.8 or later (with its own CSP)"),
    ({"x-content-type-options": "nosniff"}, None),
])
def test_phoenix_generation(headers, generation):
    assert phoenix_generation(httpx.Headers(headers)) == generation


def test_session_cookie_recognised_by_name_or_value_shape():
    by_name = parse_set_cookie("_shop_key=abc; path=/; HttpOnly")
    signed = parse_set_cookie("sid=SFMyNTY.g3QAAAABbQ.Xk2-_a; path=/")
    encrypted = parse_set_cookie("s=QTEyOEdDTQ.aa.bb.cc.dd; Secure")
    xchacha = parse_set_cookie("s=XCP.hlDkYX9dLUE0lLrOsTpiYHmUDrXs6SKmM6K3Sx_oyCYK2yMGLfD; Secure")  # Plug.Crypto 2
    plain = parse_set_cookie("theme=dark; Secure")
    assert by_name.is_session and signed.is_session and encrypted.is_session and xchacha.is_session
    assert not plain.is_session
    assert by_name.attrs == {"path": "/", "httponly": ""}
    assert parse_set_cookie("garbage") is None


@pytest.mark.parametrize("value, problem", [
    ("public, max-age=31536000, immutable", None),
    ("public, immutable", None),
    ("public, max-age=3600", "has a max-age under one year"),
    ("private, max-age=31536000", "forbids shared caching"),
    ("max-age=31536000", "is not public"),
    ("", "no Cache-Control"),
])
def test_digested_asset_cache_control(value, problem):
    found = cache_problem(value)
    assert (found is None) if problem is None else (problem in found)


def finding(rule, severity=None) -> Finding:
    return rule.finding("m", Location(url="https://x/"), severity=severity)


def test_grade_scheme():
    assert grade([], {"hsts_max_age": 31536000, "csp_strong": True}) == ("A+", 100)
    assert grade([], {}) == ("A", 100)
    assert grade([finding(catalog()["WEB110"]), finding(catalog()["WEB110"]), finding(catalog()["WEB111"])], {}) == ("A", 90)
    assert grade([finding(catalog()["WEB103"])], {}) == ("C", 85)  # any error caps at C
    assert grade([finding(catalog()["WEB106"])], {}) == ("F", 85)
    assert grade([finding(catalog()["WEB113"]), finding(catalog()["WEB149"])], {}) == ("A", 100)  # info costs nothing
    assert worst_of("A+", "B", "A") == "B"


def test_targets_from_urls_resolve_and_host_header():
    opts = ProbeOptions(resolve=(parse_resolve("app.example:443:127.0.0.2"), parse_resolve("app.example:443:[::1]")))
    targets = build_targets(["app.example", "http://other.example:8080/x"], opts)
    assert [(t.url, t.addr, t.name) for t in targets] == [
        ("https://app.example/", "127.0.0.2", "app.example"), ("https://app.example/", "::1", "app.example"),
        ("http://other.example:8080/x", None, "other.example")]
    hosted = build_targets(["https://127.0.0.1:8443/"], ProbeOptions(host_header="shop.example"))
    assert hosted[0].name == "shop.example" and hosted[0].port == 8443


@pytest.mark.parametrize("bad", ["ftp://x/", "https://"])
def test_bad_urls(bad):
    with pytest.raises(ProbeUsageError):
        build_targets([bad], ProbeOptions())


def test_bad_resolve_and_header():
    with pytest.raises(ProbeUsageError):
        parse_resolve("host:notaport:1.2.3.4")
    with pytest.raises(ProbeUsageError):
        parse_header("no colon")
    assert parse_header("Authorization: Bearer x") == ("authorization", "Bearer x")


def test_every_probe_rule_has_a_page_with_pass_criteria():
    probe_rules = list(catalog("probe"))
    assert len(probe_rules) >= 35
    for r in probe_rules:
        assert r.area in ("WEB", "AST", "HLT", "SEC") and 100 <= int(r.id[3:]) <= 149, r.id
        assert r.title and len(r.why) > 80 and ("Pass" in r.fix or r.id in (catalog()["WEB114"].id, catalog()["WEB149"].id)), r.id


def test_html_report_escapes_and_groups_by_site():
    findings = [
        Finding("WEB109", "csp-missing", Severity.WARNING, Confidence.HIGH, "<script>alert(1)</script>",
                location=Location(url="https://a.example/page")),
        Finding("WEB117", "ws", Severity.ERROR, Confidence.MEDIUM, "upgraded",
                location=Location(url="wss://a.example/live")),
        Finding("SEC001", "s", Severity.INFO, Confidence.HIGH, "static one",
                location=Location(path="config/prod.exs", line=3)),
    ]
    facts = {"targets": {"https://a.example/ <b>": {"grade": "B", "score": 85}}, "grade": "A+"}
    page = render_html(findings, tool="probe", facts=facts)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'data-grade="A+"' in page and "g-Ap" in page and "https://a.example/ &lt;b&gt;" in page
    assert page.count("<span>https://a.example</span></h3>") == 1 and "wss://a.example/live" in page
    assert "<span>config/prod.exs</span></h3>" in page and "config/prod.exs:3" in page
    assert 'data-severity="error" data-count="1"' in page and 'data-severity="warning" data-count="1"' in page
    assert "medium confidence" in page
    assert render_html([]).count("No findings") == 1


def page_context(headers: list[tuple[str, str]], *, chain_before: list[Reply] = ()) -> Context:
    url = "https://shop.example/"
    page = Reply(url, 200, httpx.Headers(headers), b"<html></html>", 0.01)
    return Context(Target(url, "shop.example"), ProbeOptions(), http=None, chain=[*chain_before, page])


def header_findings(headers: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in check_headers(page_context(headers)):
        out.setdefault(f.rule_id, []).append(f.message)
    return out


def test_report_only_csp_unsafe_referrer_and_open_framing():
    found = header_findings([("strict-transport-security", "max-age=31536000"),
                             ("content-security-policy-report-only", "default-src 'self'"),
                             ("referrer-policy", "no-referrer, unsafe-url"), ("x-content-type-options", "nosniff")])
    assert found["WEB109"] == ["only a Report-Only policy, which is not enforced"]
    assert found["WEB113"] == ["Referrer-Policy 'unsafe-url' sends full URLs to other sites"]
    assert found["WEB112"] == ["no CSP frame-ancestors and X-Frame-Options is absent"]
    assert "WEB103" not in found and "WEB104" not in found


def test_frame_ancestors_star_and_hsts_below_a_year():
    found = header_findings([("strict-transport-security", "max-age=16000000"),
                             ("content-security-policy", "default-src 'self'; frame-ancestors *"),
                             ("x-content-type-options", "nosniff"), ("referrer-policy", "same-origin")])
    assert found == {"WEB104": ["HSTS max-age is 185 days; one year is recommended"],
                     "WEB112": ["CSP frame-ancestors allows any site (*)"]}


def test_cookies_set_on_the_way_to_the_page_count():
    login = Reply("https://shop.example/", 302, httpx.Headers(
        [("location", "/users/log_in"), ("set-cookie", "_shop_key=SFMyNTY.abc.def; path=/; HttpOnly")]), b"", 0.01)
    ctx = page_context([("set-cookie", "theme=dark; path=/; Secure")], chain_before=[login])
    messages = sorted(f.message for f in check_cookies(ctx))
    assert messages == ["session cookie _shop_key lacks secure, SameSite=Lax/Strict (is absent)"]


def test_summary_keeps_a_target_given_twice():
    t = Target("https://x.example/", "x.example")
    results = [TargetResult(t, grade="A", score=95), TargetResult(t, grade="F", score=10)]
    assert {k: v["grade"] for k, v in summary(results).items()} == {"https://x.example/": "A",
                                                                    "https://x.example/ #2": "F"}


def test_checklist_says_which_probe_rules_could_not_run_or_had_nothing_to_judge():
    def result(url: str, **facts) -> TargetResult:
        return TargetResult(Target(url, "a.example"), facts=facts)

    every_check = {"check_seconds": dict.fromkeys(name for name, _, _ in checks(ProbeOptions(active=True)))}
    answered = [result("https://a.example/", page_url="https://a.example/", **every_check)]
    skipped = not_run(answered, ProbeOptions())
    assert skipped["WEB123"] == "only with --active" and skipped["WEB119"] == "only with --ws-idle"
    assert "several nodes" in skipped["SEC101"] and "WEB100" not in skipped
    assert not_run(answered, ProbeOptions(active=True, ws_idle=1.0)).keys() == {"SEC101", "AST104"}
    down = not_run([result("https://a.example/")], ProbeOptions(active=True))
    assert set(down.values()) == {"no target answered"} and "WEB140" not in down and "WEB100" in down
    # A check that completed on no target (out of time, or a redirect loop first) judged none of its rules.
    looped = not_run([result("https://a.example/", page_url="https://a.example/")], ProbeOptions(active=True))
    assert looped["WEB109"] == "the headers check did not complete" and looped["HLT100"].startswith("the health")
    assert "WEB140" not in looped and "WEB141" not in looped
    answered = [result("https://a.example/", page_url="https://a.example/")]
    rules = catalog("probe")
    assert standings(rules, answered)["not_determined"] == {
        **dict.fromkeys(["WEB105", "WEB106", "WEB107", "WEB108"], "no TLS handshake completed"),
        "WEB104": "the headers check did not finish", "WEB110": "the headers check did not finish",
        "SEC100": "the cookies check did not finish", "WEB115": "the cookies check did not finish",
        "HLT101": "the health check did not finish", "WEB101": "the redirects check did not finish",
        **dict.fromkeys(["AST100", "AST101", "AST102", "AST103"], "the assets check did not finish")}
    finished = {"check_seconds": dict.fromkeys(["redirects", "tls", "headers", "cookies", "assets", "health"], 0.1)}
    bare = [result("https://a.example/", page_url="https://a.example/", tls_version="TLSv1.3", **finished)]
    assert set(standings(rules, bare)["not_applicable"]) == {"WEB117", "WEB118", "WEB119", "WEB126", "WEB104",
                                                             "WEB110", "SEC100", "AST100", "AST101", "AST102",
                                                             "HLT101", "WEB101", "WEB115", "AST103"}
    plain = result("http://a.example/", page_url="http://a.example/", **finished)
    assert standings(rules, [plain])["not_applicable"]["WEB107"] == "the page is served over plain HTTP: no TLS to judge"
    live = result("https://a.example/", page_url="https://a.example/", sockets=["/live/websocket"], liveview="phx-F1",
                  tls_version="TLSv1.3", hsts_max_age=31536000, csp_strong=True, session_cookie="_shop_key",
                  digested_assets=3, health_paths=["/health"], https_redirect=1, cookies=1, plain_static=2,
                  **finished)
    assert standings(rules, [*bare, live]) == {"not_applicable": {}, "not_determined": {}}  # one target has them


def test_text_ends_with_the_checklist_of_every_target_as_other_live_commands_do():
    rules = catalog("probe")

    def result(url: str, *findings: Finding) -> TargetResult:
        grade_finding = rules["WEB149"].finding("grade A", Location(url=url))
        done = {name: 0.1 for name, _, _ in checks(ProbeOptions())}
        return TargetResult(Target(url, "a.example"), [*findings, grade_finding], "A", 95,
                            {"page_url": url, "check_seconds": done})

    hsts = rules["WEB103"].finding("no Strict-Transport-Security", Location(url="https://a.example/"))
    one = ProbeRun([result("https://a.example/", hsts)], ProbeOptions()).text(False)
    head, checklist, totals = one.split("\n\n")
    assert head.startswith("== https://a.example/: grade A (95/100)\nhttps://a.example/: error WEB103")
    lines = checklist.splitlines()
    assert [line.split(":")[0] for line in lines] == ["SEC", "WEB", "AST", "HLT"]  # areas in the usual order
    assert lines[1].startswith("WEB: 1 failed, ") and lines[1].endswith(" not run") and "noted" not in checklist
    assert totals == "1 error, 0 warnings, 0 infos\n"  # the grade is the heading, not a finding counted
    two = ProbeRun([result("https://a.example/", hsts), result("https://b.example/")], ProbeOptions()).text(False)
    assert two.count("\nWEB: 1 failed, ") == 1 and two.endswith("\n\n== 2 targets: 1 error, 0 warnings, 0 infos\n")
    assert two.index("== https://b.example/") < two.index("\nWEB: 1 failed") < two.index("== 2 targets")

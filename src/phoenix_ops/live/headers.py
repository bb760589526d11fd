"""Checks 2 and 4: HSTS and the browser security headers of the page, with Phoenix's default sets."""

from __future__ import annotations

import re

import httpx

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import HTTPS, Context, on_page
from phoenix_ops.rule import rule

HSTS_MISSING = rule(
    "WEB103", "hsts-missing", Severity.ERROR, Confidence.HIGH, kind="probe", subject=HTTPS,
    title="HTTPS answers carry no Strict-Transport-Security header",
    why="""
    Without HSTS every visit starts over plain HTTP and can be downgraded by anyone on the path
    (public Wi-Fi, a hostile network) before the redirect happens.
    """,
    fix="""
    `force_ssl: [hsts: true]` in the endpoint config (Plug.SSL sends `max-age=31536000`), or
    `add_header Strict-Transport-Security "max-age=31536000" always;` at the proxy.

    Pass: exactly one Strict-Transport-Security header on the HTTPS page.
    Fail: none.
    """,
)

HSTS_WEAK = rule(
    "WEB104", "hsts-weak", Severity.WARNING, Confidence.HIGH, kind="probe",
    subject=HTTPS & on_page("no Strict-Transport-Security header (WEB103)", "headers",
                            lambda facts: "hsts_max_age" in facts),
    title="HSTS is sent twice, malformed or with a short max-age",
    why="""
    Two HSTS headers (proxy and app both adding one) are invalid and browsers may ignore both. A
    max-age under 180 days is too short to protect returning visitors and is refused by the preload
    list; one year is the usual recommendation.
    """,
    fix="""
    Set HSTS in one place only, with `max-age=31536000` (one year).

    Pass: one header, max-age >= 15552000 (180 days); below 31536000 (one year) is noted as info.
    Fail: several headers, no parsable max-age, or max-age under 180 days (max-age=0 switches HSTS off).
    """,
)

CSP_MISSING = rule(
    "WEB109", "csp-missing", Severity.WARNING, Confidence.HIGH, kind="probe",
    title="The page has no Content-Security-Policy",
    why="""
    A CSP is the second line of defence against XSS: injected markup cannot load or run script from
    elsewhere. Phoenix 1.8's put_secure_browser_headers sends only `base-uri 'self'; frame-ancestors
    'self';`, which stops clickjacking but not script injection.
    """,
    fix="""
    `plug :put_secure_browser_headers, %{"content-security-policy" => "default-src 'self'; ..."}`
    in the browser pipeline (LiveView needs `connect-src 'self'` for its socket; add the wss:// host
    when the socket is on another host).

    Pass: a Content-Security-Policy header (a Report-Only header alone does not count).
    Fail: none.
    """,
)

CSP_WEAK = rule(
    "WEB110", "csp-weak", Severity.WARNING, Confidence.HIGH, kind="probe",
    subject=on_page("no Content-Security-Policy (WEB109)", "headers", lambda facts: "csp_strong" in facts),
    title="The Content-Security-Policy does not restrict scripts",
    why="""
    `'unsafe-inline'` in script-src lets injected `<script>` run, `'unsafe-eval'` allows eval, and a
    wildcard, `https:` or `data:` source allows script from anywhere. A policy with no script-src and
    no default-src restricts no script at all.
    """,
    fix="""
    Use nonces or hashes for inline script (then browsers ignore 'unsafe-inline'), drop
    'unsafe-eval', and list hosts instead of schemes.

    Pass: script-src (or default-src) present; no 'unsafe-inline' unless a nonce or hash is present;
    no 'unsafe-eval'; no `*`, `http:`, `https:` or `data:` source.
    Fail: any of those.
    """,
)

NOSNIFF = rule(
    "WEB111", "nosniff-missing", Severity.WARNING, Confidence.HIGH, kind="probe",
    title="X-Content-Type-Options: nosniff is missing",
    why="""
    Without it browsers guess content types, so an uploaded text file can run as script or style.
    Every Phoenix generation's put_secure_browser_headers sends it: its absence usually means the
    browser pipeline is bypassed (a page served by a plain plug or by the proxy).
    """,
    fix="""
    Keep `plug :put_secure_browser_headers` in the pipeline that serves the page, or
    `add_header X-Content-Type-Options nosniff always;` at the proxy.

    Pass: the header's value is `nosniff`. Fail: absent or another value.
    """,
)

CLICKJACKING = rule(
    "WEB112", "clickjacking-unprotected", Severity.WARNING, Confidence.HIGH, kind="probe",
    title="Nothing stops other sites from framing the page",
    why="""
    A page that can be framed can be overlaid by an invisible attacker page that steers clicks
    (clickjacking): LiveView actions are one click away.
    """,
    fix="""
    CSP `frame-ancestors 'self'` (Phoenix 1.8 default) or `X-Frame-Options: SAMEORIGIN` (up to 1.7).

    Pass: CSP frame-ancestors without `*`, or X-Frame-Options DENY/SAMEORIGIN.
    Fail: neither, or `frame-ancestors *`.
    """,
)

REFERRER = rule(
    "WEB113", "referrer-policy-unsafe", Severity.INFO, Confidence.HIGH, kind="probe",
    title="Referrer-Policy is missing or leaks full URLs to other sites",
    why="""
    Full URLs (with tokens in query strings, reset links, search terms) leak to every third-party
    host the page links to or loads from under `unsafe-url` or `no-referrer-when-downgrade`.
    Browsers default to strict-origin-when-cross-origin, so a missing header is only informational.
    """,
    fix="""
    `referrer-policy: strict-origin-when-cross-origin` (Phoenix 1.7+ default) or stricter.

    Pass: no-referrer, same-origin, strict-origin, strict-origin-when-cross-origin or origin.
    Info: header absent. Warning: unsafe-url, no-referrer-when-downgrade, origin-when-cross-origin.
    """,
)

PHOENIX_HEADERS = rule(
    "WEB114", "phoenix-header-set", Severity.INFO, Confidence.MEDIUM, kind="probe",
    title="Phoenix's default browser headers recognised (generation noted)",
    why="""
    The header set put_secure_browser_headers sends tells which Phoenix generation serves the page,
    which decides what else to expect: up to 1.6 it sends x-xss-protection and
    cross-origin-window-policy; 1.7 adds referrer-policy and drops them; 1.8 replaces
    x-frame-options with a CSP `base-uri 'self'; frame-ancestors 'self';`.
    """,
    fix="""
    Nothing to fix: this is information. A page without the set is worth a look (see WEB111).

    Reported when every header of one generation's default set is present with its default value.
    """,
)


HSTS_MIN = 180 * 86400
HSTS_GOOD = 365 * 86400

# put_secure_browser_headers' defaults, as Phoenix's controller.ex sets them per generation, most
# specific first (1.8's set without its CSP is a subset of 1.7's). Apps often pass their own CSP,
# which replaces the default, so the CSP value is not compared.
PHOENIX_HEADER_SETS = {
    "Phoenix 1.6 or earlier": {
        "x-frame-options": "SAMEORIGIN",
        "x-xss-protection": "1; mode=block",
        "x-content-type-options": "nosniff",
        "x-download-options": "noopen",
        "x-permitted-cross-domain-policies": "none",
        "cross-origin-window-policy": "deny",
    },
    "Phoenix 1.7": {
        "referrer-policy": "strict-origin-when-cross-origin",
        "x-content-type-options": "nosniff",
        "x-download-options": "noopen",
        "x-frame-options": "SAMEORIGIN",
        "x-permitted-cross-domain-policies": "none",
    },
    "Phoenix 1.8 or later": {
        "referrer-policy": "strict-origin-when-cross-origin",
        "content-security-policy": "base-uri 'self'; frame-ancestors 'self';",
        "x-content-type-options": "nosniff",
        "x-permitted-cross-domain-policies": "none",
    },
}

SAFE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin", "origin"}
BROAD_SOURCES = {"*", "http:", "https:", "data:"}


def parse_csp(value: str) -> dict[str, list[str]]:
    """Directive -> sources; the first occurrence of a directive wins, as in browsers."""
    out: dict[str, list[str]] = {}
    for part in value.split(";"):
        words = part.split()
        if words and words[0].lower() not in out:
            out[words[0].lower()] = words[1:]
    return out


def csp_problems(policy: dict[str, list[str]]) -> list[str]:
    """Why a policy fails to restrict scripts; empty when it does."""
    directive = "script-src" if "script-src" in policy else "default-src" if "default-src" in policy else None
    if directive is None:
        return ["no script-src or default-src: scripts are not restricted"]
    sources = [s.lower() for s in policy[directive]]
    problems = []
    has_nonce = any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in sources)
    if "'unsafe-inline'" in sources and not has_nonce:
        problems.append(f"{directive} allows 'unsafe-inline' without a nonce or hash")
    if "'unsafe-eval'" in sources:
        problems.append(f"{directive} allows 'unsafe-eval'")
    broad = sorted(BROAD_SOURCES.intersection(sources))
    if broad:
        problems.append(f"{directive} allows broad sources {' '.join(broad)}")
    return problems


def hsts_max_age(value: str) -> int | None:
    m = re.search(r"max-age\s*=\s*\"?(\d+)\"?", value, re.I)
    return int(m.group(1)) if m else None


def phoenix_generation(headers: httpx.Headers) -> str | None:
    for generation, expected in PHOENIX_HEADER_SETS.items():
        if all(headers.get(k, "").strip() == v or (k == "content-security-policy" and k in headers)
               for k, v in expected.items()):
            custom = "content-security-policy" in expected and headers[
                "content-security-policy"].strip() != expected["content-security-policy"]
            return generation + (" (with its own CSP)" if custom else "")
    return None


def check_hsts(ctx: Context) -> list[Finding]:
    page = ctx.page
    if not page.url.startswith("https://"):
        return []  # HSTS over plain HTTP is ignored by browsers; WEB100 covers the missing redirect
    values = page.headers.get_list("strict-transport-security")
    if not values:
        return [HSTS_MISSING.finding("no Strict-Transport-Security header on the HTTPS page", ctx.at())]
    if len(values) > 1:
        return [HSTS_WEAK.finding(f"{len(values)} Strict-Transport-Security headers (app and proxy both "
                                    f"add one?): {' | '.join(values)}", ctx.at(), key="duplicate")]
    age = hsts_max_age(values[0])
    ctx.facts["hsts_max_age"] = age
    if age is None:
        return [HSTS_WEAK.finding(f"HSTS without a max-age: {values[0]!r}", ctx.at(), key="max-age")]
    if age < HSTS_MIN:
        span = f"{age // 86400} days" if age >= 86400 else f"{age} s"
        return [HSTS_WEAK.finding(f"HSTS max-age is {span}, under 180 days", ctx.at(), key="max-age")]
    if age < HSTS_GOOD:
        return [HSTS_WEAK.finding(f"HSTS max-age is {age // 86400} days; one year is recommended",
                                    ctx.at(), key="max-age", severity=Severity.INFO)]
    return []


def check_headers(ctx: Context) -> list[Finding]:
    h, at = ctx.page.headers, ctx.at()
    out = check_hsts(ctx)
    policies = [parse_csp(v) for v in h.get_list("content-security-policy")]
    if not policies:
        report_only = "content-security-policy-report-only" in h
        out.append(CSP_MISSING.finding("only a Report-Only policy, which is not enforced" if report_only
                                         else "no Content-Security-Policy header", at))
    else:
        # Browsers enforce every policy: scripts are restricted when any one policy restricts them.
        problems = [csp_problems(p) for p in policies]
        if all(problems):
            out.extend(CSP_WEAK.finding(p, at, key=p.split(" ")[0]) for p in problems[0])
        ctx.facts["csp_strong"] = not all(problems)
    if h.get("x-content-type-options", "").strip().lower() != "nosniff":
        out.append(NOSNIFF.finding(
            f"X-Content-Type-Options is {h.get('x-content-type-options', 'absent')!r}, not nosniff", at))
    ancestors = [p["frame-ancestors"] for p in policies if "frame-ancestors" in p]
    xfo = h.get("x-frame-options", "").strip().upper()
    if any("*" in a for a in ancestors):
        out.append(CLICKJACKING.finding("CSP frame-ancestors allows any site (*)", at))
    elif not ancestors and xfo not in ("DENY", "SAMEORIGIN"):
        out.append(CLICKJACKING.finding(
            f"no CSP frame-ancestors and X-Frame-Options is {xfo or 'absent'}", at))
    out.extend(_referrer(ctx))
    generation = phoenix_generation(h)
    if generation:
        ctx.facts["phoenix_headers"] = generation
        out.append(PHOENIX_HEADERS.finding(
            f"put_secure_browser_headers defaults of {generation} recognised", at, hint=""))
    return out


def _referrer(ctx: Context) -> list[Finding]:
    raw = ctx.page.headers.get("referrer-policy")
    if raw is None:
        return [REFERRER.finding("no Referrer-Policy header (browsers default to "
                                   "strict-origin-when-cross-origin)", ctx.at())]
    # A list is allowed: the last value the browser knows wins.
    value = [v.strip().lower() for v in raw.split(",") if v.strip()][-1:] or [""]
    if value[0] in SAFE_REFERRER:
        return []
    return [REFERRER.finding(f"Referrer-Policy {value[0]!r} sends full URLs to other sites", ctx.at(),
                               severity=Severity.WARNING)]

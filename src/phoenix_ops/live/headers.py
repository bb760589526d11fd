"""Checks 2 and 4: HSTS and the browser security headers of the page, with Phoenix's default sets."""

from __future__ import annotations

import re

import httpx

from phoenix_ops.findings import Finding, Severity
from phoenix_ops.live import rules as R
from phoenix_ops.live.context import Context

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
        return [R.HSTS_MISSING.finding("no Strict-Transport-Security header on the HTTPS page", ctx.at())]
    if len(values) > 1:
        return [R.HSTS_WEAK.finding(f"{len(values)} Strict-Transport-Security headers (app and proxy both "
                                    f"add one?): {' | '.join(values)}", ctx.at(), key="duplicate")]
    age = hsts_max_age(values[0])
    ctx.facts["hsts_max_age"] = age
    if age is None:
        return [R.HSTS_WEAK.finding(f"HSTS without a max-age: {values[0]!r}", ctx.at(), key="max-age")]
    if age < HSTS_MIN:
        span = f"{age // 86400} days" if age >= 86400 else f"{age} s"
        return [R.HSTS_WEAK.finding(f"HSTS max-age is {span}, under 180 days", ctx.at(), key="max-age")]
    if age < HSTS_GOOD:
        return [R.HSTS_WEAK.finding(f"HSTS max-age is {age // 86400} days; one year is recommended",
                                    ctx.at(), key="max-age", severity=Severity.INFO)]
    return []


def check_headers(ctx: Context) -> list[Finding]:
    h, at = ctx.page.headers, ctx.at()
    out = check_hsts(ctx)
    policies = [parse_csp(v) for v in h.get_list("content-security-policy")]
    if not policies:
        report_only = "content-security-policy-report-only" in h
        out.append(R.CSP_MISSING.finding("only a Report-Only policy, which is not enforced" if report_only
                                         else "no Content-Security-Policy header", at))
    else:
        # Browsers enforce every policy: scripts are restricted when any one policy restricts them.
        problems = [csp_problems(p) for p in policies]
        if all(problems):
            out.extend(R.CSP_WEAK.finding(p, at, key=p.split(" ")[0]) for p in problems[0])
        ctx.facts["csp_strong"] = not all(problems)
    if h.get("x-content-type-options", "").strip().lower() != "nosniff":
        out.append(R.NOSNIFF.finding(
            f"X-Content-Type-Options is {h.get('x-content-type-options', 'absent')!r}, not nosniff", at))
    ancestors = [p["frame-ancestors"] for p in policies if "frame-ancestors" in p]
    xfo = h.get("x-frame-options", "").strip().upper()
    if any("*" in a for a in ancestors):
        out.append(R.CLICKJACKING.finding("CSP frame-ancestors allows any site (*)", at))
    elif not ancestors and xfo not in ("DENY", "SAMEORIGIN"):
        out.append(R.CLICKJACKING.finding(
            f"no CSP frame-ancestors and X-Frame-Options is {xfo or 'absent'}", at))
    out.extend(_referrer(ctx))
    generation = phoenix_generation(h)
    if generation:
        ctx.facts["phoenix_headers"] = generation
        out.append(R.PHOENIX_HEADERS.finding(
            f"put_secure_browser_headers defaults of {generation} recognised", at, hint=""))
    return out


def _referrer(ctx: Context) -> list[Finding]:
    raw = ctx.page.headers.get("referrer-policy")
    if raw is None:
        return [R.REFERRER.finding("no Referrer-Policy header (browsers default to "
                                   "strict-origin-when-cross-origin)", ctx.at())]
    # A list is allowed: the last value the browser knows wins.
    value = [v.strip().lower() for v in raw.split(",") if v.strip()][-1:] or [""]
    if value[0] in SAFE_REFERRER:
        return []
    return [R.REFERRER.finding(f"Referrer-Policy {value[0]!r} sends full URLs to other sites", ctx.at(),
                               severity=Severity.WARNING)]

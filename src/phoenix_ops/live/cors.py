"""Check 6: a CORS preflight from a foreign origin must not be reflected with credentials allowed."""

from __future__ import annotations

import asyncio

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import Context
from phoenix_ops.live.http import ProbeError
from phoenix_ops.rule import rule

CORS_REFLECTED = rule(
    "WEB116", "cors-credentials-reflected", Severity.ERROR, Confidence.HIGH, kind="probe",
    title="CORS reflects any origin together with Access-Control-Allow-Credentials: true",
    why="""
    Any website can then make the visitor's browser call the API with their cookies and read the
    answer: account data and CSRF tokens leak to every page the user visits.
    """,
    fix="""
    List the allowed origins explicitly in the CORS plug (`origin: ["https://app.example.com"]`),
    and allow credentials only for them.

    Pass: a preflight from a foreign origin is not answered with that origin (or `*`) together with
    `Access-Control-Allow-Credentials: true`. Fail: it is.
    """,
)


FOREIGN_ORIGIN = "https://phoenix-ops-probe.invalid"
PATHS = ("", "/api")  # the page itself, and where JSON APIs usually live


async def _preflight(ctx: Context, url: str) -> Finding | None:
    try:
        reply = await ctx.http.request("OPTIONS", url, headers={
            "origin": FOREIGN_ORIGIN, "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, authorization"})
    except ProbeError:
        return None  # reachability is judged on the page itself
    allowed = reply.headers.get("access-control-allow-origin", "").strip()
    credentials = reply.headers.get("access-control-allow-credentials", "").strip().lower() == "true"
    if credentials and allowed in (FOREIGN_ORIGIN, "*"):
        return CORS_REFLECTED.finding(
            f"preflight from {FOREIGN_ORIGIN} answered Allow-Origin: {allowed} with Allow-Credentials: true",
            ctx.at(url))
    return None


async def check_cors(ctx: Context) -> list[Finding]:
    urls = dict.fromkeys(ctx.url(p) if p else ctx.page.url for p in PATHS)
    found = await asyncio.gather(*(_preflight(ctx, u) for u in urls))
    return [f for f in found if f]

"""Check 11: given or discovered health/readiness paths answer 200 fast, over HTTPS and directly over
plain HTTP, the way a platform's health checker calls them from inside the network."""

from __future__ import annotations

import asyncio

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live import rules as R
from phoenix_ops.live.context import Context
from phoenix_ops.live.http import ProbeError, Reply
from phoenix_ops.live.redirects import http_url

USUAL_PATHS = ("/health", "/healthz", "/ready", "/readyz", "/livez", "/_health", "/api/health", "/status")
FAST = 1.0  # seconds


async def _get(ctx: Context, url: str) -> Reply | str:
    try:
        return await ctx.http.get(url, max_body=4096)
    except ProbeError as exc:
        return str(exc)


def _judge(ctx: Context, url: str, reply: Reply | str, over: str) -> Finding | None:
    if isinstance(reply, str):
        return R.HEALTH_BAD.finding(f"{over}: {reply}", ctx.at(url), key=url)
    if reply.is_redirect:
        return R.HEALTH_BAD.finding(f"{over} it answers {reply.status} to {reply.location}: a health checker "
                                    "that does not follow redirects marks the node dead", ctx.at(url), key=url)
    if reply.status != 200:
        return R.HEALTH_BAD.finding(f"{over} it answers {reply.status}", ctx.at(url), key=url)
    if reply.elapsed > FAST:
        return R.HEALTH_BAD.finding(f"{over} it took {reply.elapsed:.2f} s (over {FAST:g} s)", ctx.at(url),
                                    key=url, severity=Severity.WARNING)
    return None


async def check_health(ctx: Context) -> list[Finding]:
    given = bool(ctx.opts.health_paths)
    paths = ctx.opts.health_paths or USUAL_PATHS
    secure = await asyncio.gather(*(_get(ctx, ctx.url(p)) for p in paths))
    if given:
        live = list(paths)
    else:
        live = [p for p, r in zip(paths, secure, strict=True) if isinstance(r, Reply) and r.status == 200]
        if not live:
            return [R.HEALTH_MISSING.finding(f"none of {', '.join(USUAL_PATHS)} answers 200 (pass yours "
                                             "with --health)", ctx.at())]
    ctx.facts["health_paths"] = live
    out = [_judge(ctx, ctx.url(p), r, "over HTTPS")
           for p, r in zip(paths, secure, strict=True) if p in live and ctx.page.url.startswith("https:")]
    plain_urls = [http_url(ctx, p) for p in live]
    plain = await asyncio.gather(*(_get(ctx, u) for u in plain_urls))
    for url, reply in zip(plain_urls, plain, strict=True):
        found = _judge(ctx, url, reply, "over plain HTTP")
        if found and isinstance(reply, str):  # from outside the platform plain HTTP may be closed
            found.severity, found.confidence = Severity.WARNING, Confidence.LOW
        out.append(found)
    return [f for f in out if f]

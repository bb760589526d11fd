"""Check 11: given or discovered health/readiness paths answer 200 fast, over HTTPS and directly over
plain HTTP, the way a platform's health checker calls them from inside the network."""

from __future__ import annotations

import asyncio

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import Context, on_page
from phoenix_ops.live.http import ProbeError, Reply
from phoenix_ops.live.redirects import http_url
from phoenix_ops.rule import rule

HEALTH_MISSING = rule(
    "HLT100", "health-endpoint-missing", Severity.WARNING, Confidence.MEDIUM, kind="probe",
    title="No health or readiness endpoint answers",
    why="""
    Load balancers and orchestrators need a cheap path that says "ready": without one they probe `/`
    (a full page render with a database query) or do TCP checks that pass while the app is broken.
    """,
    fix="""
    Add a plug before the router answering 200 on /health (and /ready when readiness differs), or
    pass the existing path with --health.

    Pass: one of the given or usual paths (/health, /healthz, /ready, /readyz, /livez, /_health,
    /api/health, /status) answers 200 over HTTPS. Fail: none does.
    """,
)

HEALTH_BAD = rule(
    "HLT101", "health-endpoint-unhealthy", Severity.ERROR, Confidence.HIGH, kind="probe",
    subject=on_page("no health endpoint answered (HLT100)", "health", lambda facts: "health_paths" in facts),
    title="The health endpoint is slow, failing, or only reachable through a redirect",
    why="""
    Platforms probe health over plain HTTP inside the network. With `force_ssl` the check gets a
    301 and the node is marked dead (or the redirect is followed to the public URL and checks the
    load balancer, not the node). A slow health answer makes checks time out under load.
    """,
    fix="""
    Phoenix runs force_ssl's Plug.SSL before any endpoint plug, so either exclude the host name or
    address the checker uses (`force_ssl: [rewrite_on: [:x_forwarded_proto], exclude: [...]]` takes
    a list of hosts, or `{mod, fun, args}` called with the host; "localhost" is excluded by default),
    or redirect to HTTPS at the proxy and drop force_ssl. Keep the health plug free of heavy work.

    Pass: 200 within 1 second, both over HTTPS and directly over plain HTTP (--http-port).
    Fail: another status, a redirect over plain HTTP, or slower than 1 second (warning) twice in a
    row (one slow answer is asked again, as the probe's own concurrent checks can delay one).
    """,
)


USUAL_PATHS = ("/health", "/healthz", "/ready", "/readyz", "/livez", "/_health", "/api/health", "/status")
FAST = 1.0  # seconds


async def _get(ctx: Context, url: str) -> Reply | str:
    try:
        return await ctx.http.get(url, max_body=4096)
    except ProbeError as exc:
        return str(exc)


def _judge(ctx: Context, url: str, reply: Reply | str, over: str) -> Finding | None:
    if isinstance(reply, str):
        return HEALTH_BAD.finding(f"{over}: {reply}", ctx.at(url), key=url)
    if reply.is_redirect:
        return HEALTH_BAD.finding(f"{over} it answers {reply.status} to {reply.location}: a health checker "
                                    "that does not follow redirects marks the node dead", ctx.at(url), key=url)
    if reply.status != 200:
        return HEALTH_BAD.finding(f"{over} it answers {reply.status}", ctx.at(url), key=url)
    if reply.elapsed > FAST:
        return HEALTH_BAD.finding(f"{over} it took {reply.elapsed:.2f} s (over {FAST:g} s)", ctx.at(url),
                                    key=url, severity=Severity.WARNING)
    return None


async def _settled(ctx: Context, url: str, reply: Reply | str) -> Reply | str:
    """A slow answer is asked for once more and the faster one kept: a slow health plug is slow
    every time, while the probe's own concurrent checks (TLS handshakes, sockets) delay one reply."""
    if isinstance(reply, str) or reply.elapsed <= FAST or reply.status != 200:
        return reply
    again = await _get(ctx, url)
    return again if isinstance(again, Reply) and again.status == 200 and again.elapsed < reply.elapsed else reply


async def _ask(ctx: Context, urls: list[str]) -> list[Reply | str]:
    first = await asyncio.gather(*(_get(ctx, u) for u in urls))
    return list(await asyncio.gather(*(_settled(ctx, u, r) for u, r in zip(urls, first, strict=True))))


async def check_health(ctx: Context) -> list[Finding]:
    given = bool(ctx.opts.health_paths)
    paths = ctx.opts.health_paths or USUAL_PATHS
    secure = await _ask(ctx, [ctx.url(p) for p in paths])
    if given:
        live = list(paths)
    else:
        live = [p for p, r in zip(paths, secure, strict=True) if isinstance(r, Reply) and r.status == 200]
        if not live:
            return [HEALTH_MISSING.finding(f"none of {', '.join(USUAL_PATHS)} answers 200 (pass yours "
                                             "with --health)", ctx.at())]
    ctx.facts["health_paths"] = live
    out = [_judge(ctx, ctx.url(p), r, "over HTTPS")
           for p, r in zip(paths, secure, strict=True) if p in live and ctx.page.url.startswith("https:")]
    plain_urls = [http_url(ctx, p) for p in live]
    plain = await _ask(ctx, plain_urls)
    for url, reply in zip(plain_urls, plain, strict=True):
        found = _judge(ctx, url, reply, "over plain HTTP")
        if found and isinstance(reply, str):  # from outside the platform plain HTTP may be closed
            found.severity, found.confidence = Severity.WARNING, Confidence.LOW
        out.append(found)
    return [f for f in out if f]

"""Check 1: plain HTTP redirects to HTTPS on the same host in one hop, and nothing loops."""

from __future__ import annotations

from urllib.parse import urlsplit

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live import rules as R
from phoenix_ops.live.context import Context
from phoenix_ops.live.http import ProbeError, Reply, chain_loops
from phoenix_ops.live.target import authority


def http_url(ctx: Context, path: str = "/") -> str:
    """Where plain HTTP for the target's host is served: the target itself, or --http-port (80)."""
    t = ctx.target
    if t.scheme == "http":
        return f"http://{urlsplit(t.url).netloc}{path}"
    port = ctx.opts.http_port or 80
    return f"http://{authority(t.host, None if port == 80 else port)}{path}"


def loop_finding(ctx: Context, chain: list[Reply]) -> Finding | None:
    if not chain_loops(chain):
        return None
    hops = " -> ".join(f"{r.url} ({r.status})" for r in chain[:4])
    # HTTPS redirected to HTTPS again: the app thinks the request was plain HTTP.
    cause = " (force_ssl without rewrite_on behind a TLS proxy?)" if all(
        r.url.startswith("https:") and r.location.startswith("https:") for r in chain) else ""
    return R.REDIRECT_LOOP.finding(f"redirects loop after {len(chain)} hops: {hops}"
                                   f"{' ...' if len(chain) > 4 else ''}{cause}", ctx.at(chain[0].url))


def _is_https(url: str | None) -> bool:
    return bool(url) and url.startswith("https://")


async def check_redirects(ctx: Context) -> list[Finding]:
    path = urlsplit(ctx.target.url).path or "/"
    start = http_url(ctx, path)
    if ctx.target.scheme == "http":
        chain = ctx.chain
    else:
        try:
            chain = await ctx.http.follow(start, stop=_is_https)  # the HTTPS side is judged on its own
        except ProbeError as exc:
            return [R.HTTPS_REDIRECT.finding(
                f"plain HTTP at {start} does not answer ({exc}): visitors typing the bare host get an error",
                ctx.at(start), severity=Severity.WARNING, confidence=Confidence.MEDIUM)]
    looped = loop_finding(ctx, chain)
    if looped:
        return [looped]
    if not chain[0].is_redirect:
        return [R.HTTPS_REDIRECT.finding(f"plain HTTP answers {chain[0].status} instead of redirecting to HTTPS",
                                         ctx.at(start))]
    hops = []
    for reply in chain:
        if not reply.is_redirect:
            break
        hops.append(reply)
        if _is_https(reply.location):
            break
    if not _is_https(hops[-1].location):
        return [R.HTTPS_REDIRECT.finding(f"plain HTTP redirects to {hops[0].location}, never to HTTPS",
                                         ctx.at(start))]
    out = []
    target = urlsplit(hops[-1].location)
    if len(hops) > 1:
        out.append(R.REDIRECT_HOPS.finding(f"HTTPS is reached after {len(hops)} redirects, not one", ctx.at(start)))
    if target.hostname not in (ctx.target.name, ctx.target.host):
        out.append(R.REDIRECT_HOPS.finding(f"plain HTTP redirects to another host: {target.hostname}",
                                           ctx.at(start), key="host"))
    elif (target.path or "/") != path:
        out.append(R.REDIRECT_HOPS.finding(f"the redirect drops the path: {path} goes to {target.path or '/'}",
                                           ctx.at(start), key="path"))
    return out

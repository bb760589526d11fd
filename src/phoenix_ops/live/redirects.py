"""Check 1: plain HTTP redirects to HTTPS on the same host in one hop, and nothing loops."""

from __future__ import annotations

from urllib.parse import urlsplit

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import Context, on_page
from phoenix_ops.live.http import ProbeError, Reply, chain_loops
from phoenix_ops.live.target import authority
from phoenix_ops.rule import rule

HTTPS_REDIRECT = rule(
    "WEB100", "http-not-redirected", Severity.ERROR, Confidence.HIGH, kind="probe",
    title="Plain HTTP does not redirect to HTTPS",
    why="""
    Users type the bare host name: the first request goes over plain HTTP. Unless it is answered by a
    redirect to HTTPS, the page (and any cookie without Secure) travels in clear text, and HSTS can
    never be learned.
    """,
    fix="""
    Redirect at the proxy, or in Phoenix with `force_ssl: [hsts: true]` on the endpoint (behind a
    TLS-terminating proxy add `rewrite_on: [:x_forwarded_proto]`).

    Pass: `http://HOST/PATH` answers 301, 302, 307 or 308 to `https://HOST/PATH`.
    Fail: a 2xx page over HTTP, or a redirect to another plain HTTP URL.
    """,
)

REDIRECT_HOPS = rule(
    "WEB101", "https-redirect-indirect", Severity.WARNING, Confidence.HIGH, kind="probe",
    subject=on_page("plain HTTP does not redirect to HTTPS (WEB100)", "redirects",
                    lambda facts: "https_redirect" in facts),
    title="The HTTPS redirect takes more than one hop, changes host or drops the path",
    why="""
    HSTS preload lists and browsers expect `http://host/` to go straight to `https://host/`. A chain
    of hops costs a round trip each, and a redirect to another host (www, an apex) or to `/` breaks
    deep links and HSTS for the original host.
    """,
    fix="""
    Redirect once, to the same host and path: `return 301 https://$host$request_uri;` in nginx, or
    Phoenix's `force_ssl` with the endpoint's `url: [host: ...]` matching the public host.

    Pass: one hop to `https://` on the same host keeping the path.
    Fail: two or more hops, another host, or a different path.
    """,
)

REDIRECT_LOOP = rule(
    "WEB102", "redirect-loop", Severity.ERROR, Confidence.HIGH, kind="probe",
    title="Requests loop through redirects",
    why="""
    The classic cause is `force_ssl` behind a TLS-terminating proxy without `rewrite_on:
    [:x_forwarded_proto]`: Phoenix sees plain HTTP from the proxy and redirects the already-HTTPS
    request to itself forever. The site is down for every browser.
    """,
    fix="""
    Add `rewrite_on: [:x_forwarded_proto]` to `force_ssl` and make the proxy send
    `X-Forwarded-Proto: https` (nginx: `proxy_set_header X-Forwarded-Proto $scheme;`).

    Pass: the redirect chain ends on a non-redirect answer within 10 hops without revisiting a URL.
    Fail: a URL is visited twice, or more than 10 hops.
    """,
)


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
    return REDIRECT_LOOP.finding(f"redirects loop after {len(chain)} hops: {hops}"
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
            return [HTTPS_REDIRECT.finding(
                f"plain HTTP at {start} does not answer ({exc}): visitors typing the bare host get an error",
                ctx.at(start), severity=Severity.WARNING, confidence=Confidence.MEDIUM)]
    looped = loop_finding(ctx, chain)
    if looped:
        return [looped]
    if not chain[0].is_redirect:
        return [HTTPS_REDIRECT.finding(f"plain HTTP answers {chain[0].status} instead of redirecting to HTTPS",
                                         ctx.at(start))]
    hops = []
    for reply in chain:
        if not reply.is_redirect:
            break
        hops.append(reply)
        if _is_https(reply.location):
            break
    if not _is_https(hops[-1].location):
        return [HTTPS_REDIRECT.finding(f"plain HTTP redirects to {hops[0].location}, never to HTTPS",
                                         ctx.at(start))]
    ctx.facts["https_redirect"] = len(hops)
    out = []
    target = urlsplit(hops[-1].location)
    if len(hops) > 1:
        out.append(REDIRECT_HOPS.finding(f"HTTPS is reached after {len(hops)} redirects, not one", ctx.at(start)))
    if target.hostname not in (ctx.target.name, ctx.target.host):
        out.append(REDIRECT_HOPS.finding(f"plain HTTP redirects to another host: {target.hostname}",
                                           ctx.at(start), key="host"))
    elif (target.path or "/") != path:
        out.append(REDIRECT_HOPS.finding(f"the redirect drops the path: {path} goes to {target.path or '/'}",
                                           ctx.at(start), key="path"))
    return out

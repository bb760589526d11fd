"""Check 8: digested assets are served and cached long-term, text assets compressed, and plain
static files revalidate with ETag / 304."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urljoin, urlsplit

from phoenix_ops.findings import Finding
from phoenix_ops.live import rules as R
from phoenix_ops.live.context import Context
from phoenix_ops.live.http import ProbeError

DIGESTED = re.compile(r"""(?:src|href)\s*=\s*["']([^"'<>]+\?vsn=d)["']""", re.I)
ONE_YEAR = 31536000
PLAIN_STATIC = ("/robots.txt", "/favicon.ico")
COMPRESSIBLE = (".js", ".css", ".svg", ".json", ".map")


def digested_urls(ctx: Context) -> list[str]:
    found = dict.fromkeys(urljoin(ctx.page.url, m) for m in DIGESTED.findall(ctx.page.text))
    return list(found)[: ctx.opts.max_assets]


def cache_problem(cache_control: str) -> str | None:
    parts = {p.strip().split("=")[0].lower(): p.strip() for p in cache_control.split(",") if p.strip()}
    if not parts:
        return "no Cache-Control"
    if {"private", "no-cache", "no-store"} & parts.keys():
        return f"Cache-Control {cache_control!r} forbids shared caching"
    if "public" not in parts:
        return f"Cache-Control {cache_control!r} is not public"
    age = re.search(r"max-age\s*=\s*(\d+)", cache_control)
    if "immutable" not in parts and (not age or int(age.group(1)) < ONE_YEAR):
        return f"Cache-Control {cache_control!r} has a max-age under one year"
    return None


async def _digested(ctx: Context, url: str) -> list[Finding]:
    try:
        reply = await ctx.http.get(url, headers={"accept-encoding": "gzip, br"}, max_body=1)
    except ProbeError as exc:
        return [R.INCOMPLETE.finding(f"asset {url}: {exc}", ctx.at(url), key="asset")]
    if reply.status != 200:
        return [R.ASSET_MISSING.finding(f"digested asset answers {reply.status} (mixed releases behind "
                                        "the load balancer, or assets not digested?)", ctx.at(url))]
    out = []
    problem = cache_problem(reply.headers.get("cache-control", ""))
    if problem:
        out.append(R.ASSET_CACHE.finding(problem, ctx.at(url)))
    if urlsplit(url).path.endswith(COMPRESSIBLE):
        encoding = reply.headers.get("content-encoding", "").lower()
        vary = reply.headers.get("vary", "").lower()
        if encoding not in ("gzip", "br", "zstd", "deflate"):
            out.append(R.ASSET_COMPRESSION.finding("sent uncompressed to a client accepting gzip and br",
                                                   ctx.at(url), key="encoding"))
        elif "accept-encoding" not in vary and "*" not in vary:
            out.append(R.ASSET_COMPRESSION.finding(f"compressed ({encoding}) without Vary: Accept-Encoding",
                                                   ctx.at(url), key="vary"))
    return out


async def _plain(ctx: Context, path: str) -> list[Finding]:
    url = ctx.url(path)
    try:
        first = await ctx.http.get(url, max_body=1)
        if first.status != 200:
            return []
        etag = first.headers.get("etag")
        if not etag:
            return [R.STATIC_ETAG.finding("static file has no ETag", ctx.at(url))]
        again = await ctx.http.get(url, headers={"if-none-match": etag}, max_body=1)
    except ProbeError:
        return []  # an optional file; the page check judges reachability
    if again.status != 304:
        return [R.STATIC_ETAG.finding(f"If-None-Match with its own ETag answers {again.status}, not 304",
                                      ctx.at(url))]
    return []


async def check_assets(ctx: Context) -> list[Finding]:
    urls = digested_urls(ctx)
    ctx.facts["digested_assets"] = len(urls)
    jobs = [_digested(ctx, u) for u in urls] + [_plain(ctx, p) for p in PLAIN_STATIC]
    return [f for found in await asyncio.gather(*jobs) for f in found]

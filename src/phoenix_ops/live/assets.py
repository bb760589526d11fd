"""Check 8: digested assets are served and cached long-term, text assets compressed, and plain
static files revalidate with ETag / 304."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urljoin, urlsplit

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import INCOMPLETE, Context, on_page
from phoenix_ops.live.http import ProbeError
from phoenix_ops.patterns import lazy
from phoenix_ops.rule import rule

DIGESTED = on_page("the page references no digested asset", "assets", lambda facts: bool(facts.get("digested_assets")))

ASSET_MISSING = rule(
    "AST100", "digested-asset-missing", Severity.ERROR, Confidence.HIGH, kind="probe", subject=DIGESTED,
    title="A digested asset referenced by the page is not served",
    why="""
    A page that names `app-3f2a.js?vsn=d` which then answers 404 is usually a load balancer mixing two
    releases (the page from the new, the asset request to the old node) or a release built without
    `mix assets.deploy`. Users get an unstyled page or a dead LiveView.
    """,
    fix="""
    Run `mix assets.deploy` (which runs phx.digest) in the release build, and drain old nodes before
    routing to new ones (or keep old digests available during rollout).

    Pass: every `?vsn=d` URL of the page answers 200. Fail: any other status.
    """,
)

ASSET_CACHE = rule(
    "AST101", "asset-cache-headers", Severity.WARNING, Confidence.HIGH, kind="probe", subject=DIGESTED,
    title="Digested assets are not cached long-term",
    why="""
    Digested names change with content, so they can be cached forever: without a long public
    max-age every page view revalidates every asset.
    """,
    fix="""
    Plug.Static does this for `?vsn=d` requests when `cache_control_for_vsn_requests` is left at its
    default; at a proxy: `expires max; add_header Cache-Control "public, immutable";`.

    Pass: Cache-Control with `public` and max-age >= 31536000 (or immutable).
    Fail: missing, private, no-cache/no-store, or a shorter max-age.
    """,
)

ASSET_COMPRESSION = rule(
    "AST102", "asset-compression", Severity.WARNING, Confidence.MEDIUM, kind="probe", subject=DIGESTED,
    title="Text assets are sent uncompressed or without Vary: Accept-Encoding",
    why="""
    JavaScript and CSS shrink 3 to 5 times with gzip or brotli. Without `Vary: Accept-Encoding` a
    shared cache may hand a compressed body to a client that cannot read it.
    """,
    fix="""
    `plug Plug.Static, gzip: true` (phx.digest writes .gz files) or `gzip on; gzip_types
    text/css application/javascript; gzip_vary on;` at the proxy.

    Pass: JS and CSS assets answer with Content-Encoding gzip, br or zstd to a client that accepts
    them, and carry Vary: Accept-Encoding. Fail: either missing.
    """,
)

STATIC_ETAG = rule(
    "AST103", "static-revalidation", Severity.INFO, Confidence.MEDIUM, kind="probe",
    subject=on_page("neither /robots.txt nor /favicon.ico is served", "assets",
                    lambda facts: bool(facts.get("plain_static"))),
    title="A non-digested static file cannot be revalidated (no ETag or no 304)",
    why="""
    Files like /robots.txt and /favicon.ico are fetched often; without ETag and 304 answers every
    fetch transfers the full body.
    """,
    fix="""
    Plug.Static sends ETags by default (`etag_generation`); at nginx `etag on;` (the default).

    Pass: the file has an ETag and a request with If-None-Match answers 304.
    Fail: no ETag, or the conditional request answers 200 again.
    """,
)


DIGESTED = lazy(r"""(?:src|href)\s*=\s*["']([^"'<>]+\?vsn=d)["']""", re.I)
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
        return [INCOMPLETE.finding(f"asset {url}: {exc}", ctx.at(url), key="asset")]
    if reply.status != 200:
        return [ASSET_MISSING.finding(f"digested asset answers {reply.status} (mixed releases behind "
                                        "the load balancer, or assets not digested?)", ctx.at(url))]
    out = []
    problem = cache_problem(reply.headers.get("cache-control", ""))
    if problem:
        out.append(ASSET_CACHE.finding(problem, ctx.at(url)))
    if urlsplit(url).path.endswith(COMPRESSIBLE):
        encoding = reply.headers.get("content-encoding", "").lower()
        vary = reply.headers.get("vary", "").lower()
        if encoding not in ("gzip", "br", "zstd", "deflate"):
            out.append(ASSET_COMPRESSION.finding("sent uncompressed to a client accepting gzip and br",
                                                   ctx.at(url), key="encoding"))
        elif "accept-encoding" not in vary and "*" not in vary:
            out.append(ASSET_COMPRESSION.finding(f"compressed ({encoding}) without Vary: Accept-Encoding",
                                                   ctx.at(url), key="vary"))
    return out


async def _plain(ctx: Context, path: str) -> list[Finding]:
    url = ctx.url(path)
    try:
        first = await ctx.http.get(url, max_body=1)
        if first.status != 200:
            return []
        ctx.facts["plain_static"] = ctx.facts.get("plain_static", 0) + 1
        etag = first.headers.get("etag")
        if not etag:
            return [STATIC_ETAG.finding("static file has no ETag", ctx.at(url))]
        again = await ctx.http.get(url, headers={"if-none-match": etag}, max_body=1)
    except ProbeError:
        return []  # an optional file; the page check judges reachability
    if again.status != 304:
        return [STATIC_ETAG.finding(f"If-None-Match with its own ETag answers {again.status}, not 304",
                                      ctx.at(url))]
    return []


async def check_assets(ctx: Context) -> list[Finding]:
    urls = digested_urls(ctx)
    ctx.facts["digested_assets"] = len(urls)
    jobs = [_digested(ctx, u) for u in urls] + [_plain(ctx, p) for p in PLAIN_STATIC]
    return [f for found in await asyncio.gather(*jobs) for f in found]

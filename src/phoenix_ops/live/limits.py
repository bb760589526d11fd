"""Check 10 (--active only): oversized bodies, request lines and headers are refused, and a burst is
rate limited. Bounded in request count and time; raw sockets, because a server that refuses early
closes the connection while a normal client is still writing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.parse import urlsplit

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import INCOMPLETE, Context
from phoenix_ops.live.http import ProbeError
from phoenix_ops.live.target import authority
from phoenix_ops.rule import rule

BODY_LIMIT = rule(
    "WEB123", "body-limit-missing", Severity.WARNING, Confidence.MEDIUM, kind="probe",
    title="An oversized request body is accepted",
    why="""
    Without a body limit one client can fill memory or disk: Plug.Parsers reads up to 8 MB by
    default, and proxies default to 1 MB.
    """,
    fix="""
    nginx `client_max_body_size 8m;`, and `length:` on Plug.Parsers for the endpoints that need it.

    Active only (--active). Pass: a body of --max-body bytes is refused with 413 (or the connection
    is closed before it is read). Fail: a 2xx/3xx/404 answer after reading it.
    """,
)

HEADER_LIMIT = rule(
    "WEB124", "header-limit-missing", Severity.WARNING, Confidence.MEDIUM, kind="probe",
    title="An oversized request line or header is accepted",
    why="""
    Huge request lines and headers cost memory in every hop; servers should refuse them early with
    414, 431 or 400.
    """,
    fix="""
    nginx `large_client_header_buffers 4 8k;`; Cowboy's `max_header_value_length`, Bandit's
    `max_request_line_length`/`max_header_length`.

    Active only. Pass: a 64 KB request line answers 414/400 and a 64 KB header 431/400/413 (or the
    connection is closed). Fail: a normal answer.
    """,
)

RATE_LIMIT = rule(
    "WEB125", "rate-limit-missing", Severity.INFO, Confidence.LOW, kind="probe",
    title="A burst of requests is never answered 429",
    why="""
    Login, sign-up and password-reset paths attract credential stuffing; a rate limit (PlugAttack,
    Hammer, the proxy's limit_req) answers 429 before the app does real work.
    """,
    fix="""
    Add a limit on the path (`limit_req zone=login burst=5;` in nginx, or a plug).

    Active only, bounded: at most --burst requests within 10 seconds to --burst-path.
    Pass: some answer is 429. Fail (info): none is.
    """,
)


HUGE = 64 * 1024
BURST_SECONDS = 10.0
BURST_PARALLEL = 8


async def _write(writer: asyncio.StreamWriter, head: bytes, body_size: int) -> None:
    writer.write(head)
    await writer.drain()
    chunk = bytes(64 * 1024)
    while body_size > 0:
        writer.write(chunk[: min(body_size, len(chunk))])
        body_size -= len(chunk)
        await writer.drain()


async def raw_status(ctx: Context, head: bytes, body_size: int = 0) -> int | None:
    """Send `head` (+ body_size zero bytes) and return the answer's status; None when the server
    closed the connection without one."""
    page = urlsplit(ctx.page.url)
    port = page.port or (443 if page.scheme == "https" else 80)
    tls = {"ssl": ctx.opts.ssl_context, "server_hostname": ctx.target.name} if page.scheme == "https" else {}
    timeout = ctx.opts.timeout * 2
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(ctx.target.addr or ctx.target.host, port, **tls)
    except (OSError, TimeoutError) as exc:
        raise ProbeError(f"cannot connect: {exc or type(exc).__name__}") from exc
    sender = asyncio.create_task(_write(writer, head, body_size))
    try:
        async with asyncio.timeout(timeout):
            line = await reader.readline()
    except TimeoutError:
        raise ProbeError(f"no answer within {timeout:g} s") from None
    except OSError:
        line = b""
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit() else None


def _head(ctx: Context, method: str, target: str, extra: str = "") -> bytes:
    host = authority(ctx.target.name, urlsplit(ctx.page.url).port)
    headers = "".join(f"{k}: {v}\r\n" for k, v in ctx.opts.request_headers().items())
    return f"{method} {target} HTTP/1.1\r\nhost: {host}\r\n{headers}{extra}connection: close\r\n\r\n".encode("latin-1")


async def _limit(ctx: Context, rule, what: str, refused: set[int], head: bytes, body: int = 0) -> list[Finding]:
    try:
        status = await raw_status(ctx, head, body)
    except ProbeError as exc:
        return [INCOMPLETE.finding(f"{what}: {exc}", ctx.at(), key=rule.id)]
    if status is None or status in refused:
        return []
    return [rule.finding(f"{what} answered {status}", ctx.at())]


async def _burst(ctx: Context) -> list[Finding]:
    url = ctx.url(ctx.opts.burst_path)
    statuses: list[int] = []
    deadline = time.monotonic() + BURST_SECONDS
    count = iter(range(ctx.opts.burst))

    async def worker() -> None:
        for _ in count:
            if time.monotonic() > deadline or 429 in statuses:
                return
            try:
                statuses.append((await ctx.http.get(url, max_body=1)).status)
            except ProbeError:
                statuses.append(0)

    await asyncio.gather(*(worker() for _ in range(BURST_PARALLEL)))
    if 429 in statuses:
        return []
    codes = ", ".join(f"{s or 'error'} x{statuses.count(s)}" for s in sorted(set(statuses)))
    return [RATE_LIMIT.finding(f"{len(statuses)} requests to {ctx.opts.burst_path} got no 429 ({codes})",
                                 ctx.at(url))]


async def check_limits(ctx: Context) -> list[Finding]:
    path = urlsplit(ctx.page.url).path or "/"
    jobs = [
        _limit(ctx, BODY_LIMIT, f"a {ctx.opts.max_body}-byte body", {413},
               # A form body: Plug.Parsers (pass: ["*/*"]) leaves other types unread, so only a type it
               # parses meets its length limit; an unread body races the router's 404 instead.
               _head(ctx, "POST", path, f"content-type: application/x-www-form-urlencoded\r\n"
                                        f"content-length: {ctx.opts.max_body}\r\n"), ctx.opts.max_body),
        _limit(ctx, HEADER_LIMIT, "a 64 KB request line", {400, 414, 431},
               _head(ctx, "GET", f"{path}?{'a' * HUGE}")),
        _limit(ctx, HEADER_LIMIT, "a 64 KB header", {400, 413, 431, 494},
               _head(ctx, "GET", path, f"x-phoenix-ops-probe: {'a' * HUGE}\r\n")),
    ]
    found = await asyncio.gather(*jobs)
    return [f for group in found for f in group] + await _burst(ctx)

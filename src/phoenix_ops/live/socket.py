"""Check 7: the Phoenix sockets refuse foreign origins, upgrade for the page's own origin, answer a
V2 heartbeat, and (with --ws-idle) survive the proxy's idle timeout."""

from __future__ import annotations

import asyncio
import itertools
import json
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import Context
from phoenix_ops.live.http import ProbeError
from phoenix_ops.live.target import authority
from phoenix_ops.rule import Subject, rule

# What the socket checks judge, read from each target's facts (a TargetResult).
SOCKET = Subject("no Phoenix socket answers at /live/websocket or /socket/websocket",
                 lambda result: bool(result.facts.get("sockets")))

WS_FOREIGN_ORIGIN = rule(
    "WEB117", "websocket-foreign-origin", Severity.ERROR, Confidence.HIGH, kind="probe", subject=SOCKET,
    title="A Phoenix socket accepts connections from a foreign Origin",
    why="""
    Cross-site WebSocket hijacking: a page on any site opens the LiveView or channel socket with the
    visitor's cookies and acts as them. Phoenix refuses foreign origins with 403 unless
    `check_origin: false` (or a too-broad list) is configured.
    """,
    fix="""
    Keep `check_origin` on in prod: the endpoint's `url: [host: ...]` must be the public host, or list
    the origins: `check_origin: ["https://app.example.com"]`.

    Pass: the upgrade of /live/websocket and /socket/websocket with `Origin: https://evil.invalid`
    answers 403. Fail: it upgrades (101). Sockets answering 404 are not mounted and are skipped.
    """,
)

WS_BROKEN = rule(
    "WEB118", "websocket-broken", Severity.ERROR, Confidence.HIGH, kind="probe", subject=SOCKET,
    title="A same-origin Phoenix socket does not upgrade or does not answer a heartbeat",
    why="""
    When the proxy does not pass the upgrade (missing `Upgrade`/`Connection` headers in nginx, an
    HTTP/1.0 upstream), LiveView falls back to long polling or reconnects forever, and channels stop.
    """,
    fix="""
    nginx: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header
    Connection "upgrade";` on the socket locations.

    Pass: a same-origin upgrade answers 101 and a V2 heartbeat `[null,"1","phoenix","heartbeat",{}]`
    is answered with `phx_reply` status ok for the same ref.
    Fail: any other status, a closed connection, or no reply within --timeout. When both the foreign
    and the same origin get 403, the socket may simply want a token (connect/3 returned :error):
    that is a low-confidence warning, since neither this check nor WEB117 could be verified.
    """,
)

WS_IDLE = rule(
    "WEB119", "websocket-idle-drop", Severity.WARNING, Confidence.HIGH, kind="probe", subject=SOCKET,
    title="The WebSocket is dropped while idle (proxy read timeout)",
    why="""
    The Phoenix JavaScript client sends a heartbeat every 30 seconds. A proxy whose read timeout is
    shorter (nginx's proxy_read_timeout defaults to 60 s, but platforms often set less) cuts every
    quiet LiveView, which then reconnects and re-mounts, losing form state.
    """,
    fix="""
    Raise the proxy's idle timeout above the heartbeat interval (nginx: `proxy_read_timeout 120s;`
    on the socket locations).

    Opt-in with --ws-idle SECONDS. Pass: after SECONDS of silence the socket still answers a
    heartbeat. Fail: it was closed during the wait.
    """,
)


SOCKETS = ("/live/websocket?vsn=2.0.0", "/socket/websocket?vsn=2.0.0")
FOREIGN_ORIGIN = "https://phoenix-ops-probe.invalid"


class SocketRefused(Exception):
    def __init__(self, status: int | None, reason: str):
        super().__init__(reason)
        self.status = status


def _endpoint(ctx: Context, path: str) -> tuple[str, str, dict]:
    """The ws(s) URI on the public name, the page's own Origin, and where to connect."""
    page = urlsplit(ctx.page.url)
    port = page.port or (443 if page.scheme == "https" else 80)
    default = (page.scheme, port) in (("https", 443), ("http", 80))
    on_target = page.hostname in (ctx.target.host, ctx.target.name)  # else the page moved to another host
    name = ctx.target.name if on_target else page.hostname
    netloc = authority(name, None if default else port)
    ws_scheme = "wss" if page.scheme == "https" else "ws"
    kwargs: dict = {"proxy": ctx.opts.proxy}
    if page.scheme == "https":
        kwargs.update(ssl=ctx.opts.ssl_context, server_hostname=name)
    if on_target and not ctx.opts.proxy:
        kwargs.update(host=ctx.target.addr or ctx.target.host, port=port)
    return f"{ws_scheme}://{netloc}{path}", f"{page.scheme}://{netloc}", kwargs


def refusal(exc: BaseException) -> str:
    """What went wrong with an upgrade, in words (websockets' own texts name its exception classes)."""
    if isinstance(exc, websockets.InvalidMessage):
        return "got no valid HTTP answer (the connection closed or sent something that is not HTTP)"
    if isinstance(exc, TimeoutError):
        return "got no answer in time"
    if isinstance(exc, websockets.InvalidHandshake):
        return f"was not a valid WebSocket handshake ({exc})"
    if isinstance(exc, websockets.ConnectionClosed):
        return "was closed before the handshake ended"
    if isinstance(exc, OSError):
        return f"could not connect ({exc.strerror or exc})"
    return f"failed ({exc})" if str(exc) else f"failed ({type(exc).__name__})"


async def open_socket(ctx: Context, path: str, origin: str | None = None,
                      headers: dict[str, str] | None = None) -> ClientConnection:
    uri, own_origin, kwargs = _endpoint(ctx, path)
    try:
        return await connect(uri, origin=origin or own_origin,
                             additional_headers={**ctx.opts.request_headers(), **(headers or {})},
                             open_timeout=ctx.opts.timeout, ping_interval=None, close_timeout=1,
                             max_size=1 << 20, **kwargs)
    except websockets.InvalidStatus as exc:
        raise SocketRefused(exc.response.status_code, f"answered {exc.response.status_code}") from exc
    except (OSError, TimeoutError, websockets.WebSocketException) as exc:
        raise SocketRefused(None, refusal(exc)) from exc


async def heartbeat(ws: ClientConnection, ref: str, timeout: float) -> str | None:
    """Send a V2 heartbeat; None when answered ok, else what went wrong."""
    try:
        await ws.send(json.dumps([None, ref, "phoenix", "heartbeat", {}]))
        async with asyncio.timeout(timeout):
            while True:
                msg = json.loads(await ws.recv())
                if isinstance(msg, list) and len(msg) == 5 and msg[1] == ref:
                    ok = msg[2:4] == ["phoenix", "phx_reply"] and (msg[4] or {}).get("status") == "ok"
                    return None if ok else f"heartbeat answered {json.dumps(msg)[:200]}"
    except TimeoutError:
        return f"no heartbeat reply within {timeout:g} s"
    except websockets.ConnectionClosed as exc:
        return f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
    except (ValueError, AttributeError) as exc:
        return f"heartbeat reply is not a Phoenix V2 message ({exc})"


async def _check_socket(ctx: Context, path: str) -> list[Finding]:
    uri, _, _ = _endpoint(ctx, path)
    where = ctx.at(uri)
    try:
        ws = await open_socket(ctx, path, FOREIGN_ORIGIN)
    except SocketRefused as exc:
        if exc.status == 404:
            return []  # not mounted here
        foreign_refused = exc
    else:
        await ws.close()
        return [WS_FOREIGN_ORIGIN.finding(f"upgraded a connection from Origin {FOREIGN_ORIGIN}", where)]
    try:
        ws = await open_socket(ctx, path)
    except SocketRefused as exc:
        if exc.status == foreign_refused.status == 403:
            # connect/3 returning :error (a token is required) also answers 403: neither check can tell.
            return [WS_BROKEN.finding(
                "every origin is refused with 403: the socket wants credentials (pass --cookie or --header) "
                "or check_origin does not list the public host; the origin check could not be verified",
                where, severity=Severity.WARNING, confidence=Confidence.LOW)]
        if exc.status == foreign_refused.status:
            return [WS_BROKEN.finding(f"for every origin, the upgrade {exc}", where)]
        return [WS_BROKEN.finding(f"the same-origin upgrade {exc}", where)]
    ctx.facts.setdefault("sockets", []).append(path.split("?")[0])
    refs = (str(n) for n in itertools.count(1))
    async with ws:
        problem = await heartbeat(ws, next(refs), ctx.opts.timeout)
        if problem:
            return [WS_BROKEN.finding(problem, where)]
        if ctx.opts.ws_idle:
            await asyncio.sleep(ctx.opts.ws_idle)
            problem = await heartbeat(ws, next(refs), ctx.opts.timeout)
            if problem:
                return [WS_IDLE.finding(f"after {ctx.opts.ws_idle:g} s idle: {problem}", where)]
    return []


LONGPOLL = "/live/longpoll?vsn=2.0.0"


async def _check_longpoll(ctx: Context) -> list[Finding]:
    """LiveView's long-poll fallback checks the Origin too, but answers in its JSON body: HTTP 200
    with {"status": 403} for a foreign one, {"status": 410, "token": ...} (a new session) otherwise."""
    url = ctx.url(LONGPOLL)
    try:
        reply = await ctx.http.get(url, headers={"origin": FOREIGN_ORIGIN})
        body = json.loads(reply.text) if reply.status == 200 else None
    except (ProbeError, ValueError):
        return []  # unreachable, or not Phoenix's long poll: the sockets' own checks speak
    if not isinstance(body, dict) or "status" not in body:
        return []
    ctx.facts["longpoll"] = True
    if "token" not in body:
        return []
    return [WS_FOREIGN_ORIGIN.finding(f"the long-poll fallback opened a session for Origin {FOREIGN_ORIGIN}",
                                      ctx.at(url), key="longpoll")]


async def check_sockets(ctx: Context) -> list[Finding]:
    results = await asyncio.gather(*(_check_socket(ctx, p) for p in SOCKETS), _check_longpoll(ctx))
    return [f for found in results for f in found]

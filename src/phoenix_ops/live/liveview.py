"""A LiveView on the page joins over its socket, as the browser would: the page's CSRF token on the
socket URL, its session cookie, and the `data-phx-session`/`data-phx-static` tokens in the join."""

from __future__ import annotations

import asyncio
import html
import json
import re
from urllib.parse import quote

import websockets

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import Context
from phoenix_ops.live.cookies import session_cookie
from phoenix_ops.live.socket import SocketRefused, open_socket
from phoenix_ops.patterns import lazy
from phoenix_ops.record import record
from phoenix_ops.rule import Subject, rule

LIVEVIEW_JOIN = rule(
    "WEB126", "liveview-join-fails", Severity.ERROR, Confidence.HIGH, kind="probe",
    subject=Subject("no probed page is a LiveView (data-phx-main)", lambda result: bool(result.facts.get("liveview"))),
    title="The page's LiveView does not join over its socket",
    why="""
    A LiveView page is first rendered as plain HTML; it only becomes live when the browser joins
    `lv:<id>` over /live/websocket with the page's CSRF token and signed session. When that join is
    refused (a secret_key_base or signing salt that differs from the node that rendered the page, a
    session cookie the socket cannot read, a proxy that strips the upgrade), the client reloads the
    page and tries again: users see a page that flickers and never reacts.
    """,
    fix="""
    Pass the session to the socket (`connect_info: [session: @session_options]` in the endpoint),
    give every node the same SECRET_KEY_BASE and LiveView `signing_salt`, and let the proxy upgrade
    /live/websocket.

    Pass: the join of the page's main LiveView answers `phx_reply` with status ok. Fail: an error
    reply (its reason is quoted), a refused upgrade or no reply within --timeout. Pages without
    `data-phx-main` are skipped.
    """,
)

_MAIN = lazy(r"<[a-z]+\b[^>]*\bdata-phx-main\b[^>]*>", re.I | re.S)
_ATTR = lazy(r'([\w:-]+)\s*=\s*"([^"]*)"')
_CSRF = lazy(r'<meta\b[^>]*\bname="csrf-token"[^>]*>', re.I)


@record(frozen=True)
class MainView:
    id: str
    session: str
    static: str | None
    csrf: str | None


def main_view(page: str) -> MainView | None:
    """The page's main LiveView container and CSRF token, or None when the page is not live."""
    tag = _MAIN.search(page)
    if not tag:
        return None
    attrs = {k.lower(): html.unescape(v) for k, v in _ATTR.findall(tag.group(0))}
    if "id" not in attrs or "data-phx-session" not in attrs:
        return None
    meta = _CSRF.search(page)
    csrf = dict(_ATTR.findall(meta.group(0))).get("content") if meta else None
    return MainView(attrs["id"], attrs["data-phx-session"], attrs.get("data-phx-static"), csrf)


async def join(ctx: Context, view: MainView) -> str | None:
    """None when the join is answered ok, else what went wrong in words."""
    query = (f"_csrf_token={quote(view.csrf)}&" if view.csrf else "") + "_mounts=0&vsn=2.0.0"
    cookie = session_cookie(ctx.page)
    headers = {"cookie": f"{cookie.name}={cookie.value}"} if cookie else {}
    try:
        ws = await open_socket(ctx, f"/live/websocket?{query}", headers=headers)
    except SocketRefused as exc:
        return f"the upgrade of /live/websocket {exc}"
    params = {"_csrf_token": view.csrf, "_mounts": 0} if view.csrf else {"_mounts": 0}
    payload = {"url": ctx.page.url, "params": params, "session": view.session, "static": view.static}
    topic = f"lv:{view.id}"
    async with ws:
        try:
            await ws.send(json.dumps(["1", "1", topic, "phx_join", payload]))
            async with asyncio.timeout(ctx.opts.timeout):
                while True:
                    msg = json.loads(await ws.recv())
                    if isinstance(msg, list) and len(msg) == 5 and msg[1] == "1" and msg[3] == "phx_reply":
                        break
        except TimeoutError:
            return f"no reply to the join of {topic} within {ctx.opts.timeout:g} s"
        except websockets.ConnectionClosed as exc:
            return f"the socket closed during the join ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
        except ValueError as exc:
            return f"the join reply is not a Phoenix V2 message ({exc})"
    reply = msg[4] if isinstance(msg[4], dict) else {}
    if reply.get("status") == "ok":
        return None
    reason = (reply.get("response") or {}).get("reason") if isinstance(reply.get("response"), dict) else None
    return f"the join of {topic} was refused: {reason or json.dumps(reply)[:200]}"


async def check_liveview(ctx: Context) -> list[Finding]:
    view = main_view(ctx.page.text)
    if view is None:
        return []
    ctx.facts["liveview"] = view.id
    problem = await join(ctx, view)
    if problem is None:
        ctx.facts["liveview_joined"] = True
        return []
    confidence = Confidence.HIGH if view.csrf else Confidence.MEDIUM
    return [LIVEVIEW_JOIN.finding(problem, ctx.at(), confidence=confidence)]

"""Check 9: development surfaces and unauthenticated dashboards return nothing, and the 404 page
carries no debug output."""

from __future__ import annotations

import asyncio
import re
import secrets

from phoenix_ops.findings import Confidence, Finding
from phoenix_ops.live import rules as R
from phoenix_ops.live.context import Context
from phoenix_ops.live.http import ProbeError, Reply
from phoenix_ops.rules.registry import Rule

# path -> (rule, markers that prove what answered)
SURFACES: dict[str, tuple[Rule, tuple[str, ...]]] = {
    "/dev/dashboard": (R.DEV_SURFACE, ("LiveDashboard", "live_dashboard", "phx-")),
    "/dev/mailbox": (R.DEV_SURFACE, ("Swoosh", "Mailbox", "mailbox")),
    "/phoenix/live_reload/frame": (R.DEV_SURFACE, ("live_reload", "phoenix_live_reload", "LiveReloader")),
    "/dashboard": (R.DASHBOARD, ("LiveDashboard", "live_dashboard")),
    "/admin/dashboard": (R.DASHBOARD, ("LiveDashboard", "live_dashboard")),
    "/oban": (R.DASHBOARD, ("Oban", "oban")),
    "/metrics": (R.DASHBOARD, ("# TYPE ", "# HELP ")),
}
LIVE_RELOAD_SOCKET = "/phoenix/live_reload/socket/websocket"
DEBUG_MARKERS = re.compile(
    r"(Phoenix\.Router\.)?NoRouteError|Plug\.Debugger|no route found for|\(elixir [\d.]+\)|"
    r"lib/[\w/]+\.ex:\d+|\*\* \(\w+(\.\w+)*Error\)|Available routes", re.I)


def _debug_evidence(reply: Reply) -> str | None:
    m = DEBUG_MARKERS.search(reply.text)
    return m.group(0) if m else None


async def _surface(ctx: Context, path: str, catch_all: bool) -> Finding | None:
    rule, markers = SURFACES[path]
    url = ctx.url(path)
    try:
        reply = await ctx.http.get(url, headers={"accept": "text/html,*/*"}, anonymous=True)
    except ProbeError:
        return None
    if reply.status != 200 or not reply.body.strip():
        return None
    marked = any(m in reply.text for m in markers)
    # An app may answer 200 to any path, and /dashboard is often the app's own page: then only the
    # surface's own markup counts.
    if not marked and (catch_all or rule is R.DASHBOARD):
        return None
    return rule.finding(f"{path} answers 200 with {len(reply.body)} bytes without authentication",
                        ctx.at(url), confidence=Confidence.HIGH if marked else Confidence.MEDIUM)


async def _live_reload_socket(ctx: Context, unknown_status: int) -> Finding | None:
    """Phoenix answers a plain GET on a mounted socket with 400 (or 403 for the origin), not 404."""
    url = ctx.url(LIVE_RELOAD_SOCKET)
    try:
        reply = await ctx.http.get(url, anonymous=True, max_body=1)
    except ProbeError:
        return None
    if reply.status in (400, 403) and reply.status != unknown_status:
        return R.DEV_SURFACE.finding(f"the live reload socket is mounted ({LIVE_RELOAD_SOCKET} answers "
                                     f"{reply.status}, not 404): the code reloader runs", ctx.at(url),
                                     confidence=Confidence.MEDIUM)
    return None


async def check_exposure(ctx: Context) -> list[Finding]:
    url = ctx.url(f"/phoenix-ops-{secrets.token_hex(6)}")
    out = []
    try:
        missing = await ctx.http.get(url, headers={"accept": "text/html,*/*"}, anonymous=True)
    except ProbeError as exc:
        return [R.INCOMPLETE.finding(f"the 404 page could not be read: {exc}", ctx.at(ctx.url("/")), key="404")]
    evidence = _debug_evidence(missing)
    if evidence:
        out.append(R.DEBUG_PAGE.finding(f"{url} answers {missing.status} with debug output ({evidence!r})",
                                        ctx.at(ctx.url("/")), key="404"))
    found = await asyncio.gather(*(_surface(ctx, p, missing.status == 200) for p in SURFACES),
                                 _live_reload_socket(ctx, missing.status))
    return out + [f for f in found if f]

"""Check 9: development surfaces and unauthenticated dashboards return nothing, and the 404 page
carries no debug output."""

from __future__ import annotations

import asyncio
import re
import secrets

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import INCOMPLETE, Context
from phoenix_ops.live.http import ProbeError, Reply
from phoenix_ops.patterns import lazy
from phoenix_ops.rule import Rule, rule

DEV_SURFACE = rule(
    "WEB120", "dev-surface-exposed", Severity.ERROR, Confidence.HIGH, kind="probe",
    title="A development-only route answers in production",
    why="""
    /dev/dashboard (LiveDashboard with process, ETS and environment views) and /dev/mailbox (every
    mail sent, with reset links) are guarded by `dev_routes` in generated routers; the live reload
    socket means the code reloader runs. Any of these in production is a data leak.
    """,
    fix="""
    Keep them inside `if Application.compile_env(:app, :dev_routes)` and never set dev_routes in
    prod; remove `Phoenix.LiveReloader` from a prod endpoint.

    Pass: /dev/dashboard, /dev/mailbox and /phoenix/live_reload/frame answer 404 (or 401/403, or a
    redirect to a login page), and /phoenix/live_reload/socket/websocket answers like any unknown path.
    Fail: 200 with content, or 400/403 from the live reload socket (a mounted Phoenix socket answers a
    plain GET that way).
    """,
)

DASHBOARD = rule(
    "WEB121", "dashboard-unauthenticated", Severity.ERROR, Confidence.MEDIUM, kind="probe",
    title="A dashboard or metrics endpoint answers without authentication",
    why="""
    LiveDashboard mounted for admins, Oban Web or a Prometheus /metrics page reveal internals (env
    vars, queries, job arguments, request rates) and sometimes allow actions (kill a process, retry a
    job).
    """,
    fix="""
    Put them behind authentication (`pipe_through [:browser, :require_admin]`,
    `Plug.BasicAuth`) or serve /metrics on a separate internal port.

    Requests are sent without the --cookie and --header credentials.
    Pass: /dashboard, /admin/dashboard, /oban and /metrics answer 401, 403, 404 or redirect to login,
    or a page that is not LiveDashboard, Oban Web or Prometheus text (an app's own /dashboard).
    Fail: 200 with LiveDashboard, Oban Web or Prometheus content.
    """,
)

DEBUG_PAGE = rule(
    "WEB122", "debug-error-page", Severity.ERROR, Confidence.HIGH, kind="probe",
    title="The 404 page carries debug output",
    why="""
    `debug_errors: true` renders Plug.Debugger pages with source code, the list of routes and
    request data; a stack trace in an error page shows module names and file paths.
    """,
    fix="""
    Keep `debug_errors` out of prod config and render errors through the ErrorHTML/ErrorJSON modules.

    Pass: a request to a random path answers without Plug.Debugger markup, NoRouteError, route
    listings or stack traces. Fail: any of them present.
    """,
)


# path -> (rule, markers that prove what answered)
SURFACES: dict[str, tuple[Rule, tuple[str, ...]]] = {
    "/dev/dashboard": (DEV_SURFACE, ("LiveDashboard", "live_dashboard", "phx-")),
    "/dev/mailbox": (DEV_SURFACE, ("Swoosh", "Mailbox", "mailbox")),
    "/phoenix/live_reload/frame": (DEV_SURFACE, ("live_reload", "phoenix_live_reload", "LiveReloader")),
    "/dashboard": (DASHBOARD, ("LiveDashboard", "live_dashboard")),
    "/admin/dashboard": (DASHBOARD, ("LiveDashboard", "live_dashboard")),
    "/oban": (DASHBOARD, ("Oban", "oban")),
    "/metrics": (DASHBOARD, ("# TYPE ", "# HELP ")),
}
LIVE_RELOAD_SOCKET = "/phoenix/live_reload/socket/websocket"
DEBUG_MARKERS = lazy(
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
    if not marked and (catch_all or rule is DASHBOARD):
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
        return DEV_SURFACE.finding(f"the live reload socket is mounted ({LIVE_RELOAD_SOCKET} answers "
                                     f"{reply.status}, not 404): the code reloader runs", ctx.at(url),
                                     confidence=Confidence.MEDIUM)
    return None


async def check_exposure(ctx: Context) -> list[Finding]:
    url = ctx.url(f"/phoenix-ops-{secrets.token_hex(6)}")
    out = []
    try:
        missing = await ctx.http.get(url, headers={"accept": "text/html,*/*"}, anonymous=True)
    except ProbeError as exc:
        return [INCOMPLETE.finding(f"the 404 page could not be read: {exc}", ctx.at(ctx.url("/")), key="404")]
    evidence = _debug_evidence(missing)
    if evidence:
        out.append(DEBUG_PAGE.finding(f"{url} answers {missing.status} with debug output ({evidence!r})",
                                        ctx.at(ctx.url("/")), key="404"))
    found = await asyncio.gather(*(_surface(ctx, p, missing.status == 200) for p in SURFACES),
                                 _live_reload_socket(ctx, missing.status))
    return out + [f for f in found if f]

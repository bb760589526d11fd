"""HLT: health and readiness endpoints a platform can probe."""

from __future__ import annotations

import re
from dataclasses import dataclass

from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.project.usage import HEALTH_PATH, READY_PATH
from phoenix_ops.rule import rule
from phoenix_ops.rules.endpoints import AUTH_PLUG, pipelines_of

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
HEALTH_DEPS = ("plug_checkup", "plug_health_check", "health_checkup", "phoenix_health", "healthchex")
LIVE_PATH = re.compile(r"(^|/)(livez?|liveness)(/|$)", re.I)
SESSION_PLUGS = (":fetch_session", ":protect_from_forgery")


@dataclass
class HealthPath:
    path: str
    module: str  # the controller or plug that answers it
    location: Location
    router: object | None = None
    route: object | None = None


def health_paths(project) -> list[HealthPath]:
    """Health-like paths the app answers: router routes, and plugs in an endpoint that match the path themselves."""
    found = [HealthPath(r.path, r.module or r.target, Location(path=router.file, line=r.line), router, r)
             for router in project.routers for r in router.routes
             if HEALTH_PATH.search(r.path) and r.verb in ("get", "head", "match", "forward")]
    for handler in project.usage.handlers.values():
        found += [HealthPath(p, handler.module, Location(path=handler.file, line=handler.line))
                  for p in handler.paths if HEALTH_PATH.search(p)]
    return found


@rule("HLT001", "no-health-endpoint", Severity.INFO, M,
      title="The app serves no health endpoint",
      why="""
      Load balancers and orchestrators decide where traffic goes and when a deploy is done by probing
      a path. Without one they probe `/` (a full page render, sessions and database) or only the TCP
      port, which a booting or wedged node still accepts.
      """,
      fix='Add a route such as `get "/health", MyAppWeb.HealthController, :show` outside the browser '
          "pipeline (or a plug before the router) answering 200 cheaply, and point the platform's check at it.")
def no_health_endpoint(project):
    if not project.routers or any(project.has_dep(d) for d in HEALTH_DEPS) or health_paths(project):
        return
    router = project.routers[0]
    yield no_health_endpoint.finding(f"no route or endpoint plug answers a health path (/health, /healthz, ...) in "
                                     f"{router.module}", Location(path=router.file, line=1), key="health")


@rule("HLT002", "no-readiness-endpoint", Severity.INFO, L,
      title="No readiness endpoint distinct from liveness",
      why="""
      Liveness answers "restart me?", readiness answers "send me traffic?". A node whose database or
      PubSub is unreachable should leave the load balancer, not restart in a loop; one endpoint
      cannot say both.
      """,
      fix="Add a readiness path (`/ready`) that checks the Repo (`SELECT 1`) and PubSub, and keep the "
          "liveness path free of dependencies.")
def no_readiness_endpoint(project):
    paths = health_paths(project)
    if not paths or not project.repo_keys() or any(READY_PATH.search(p.path) for p in paths):
        return
    first = paths[0]
    yield no_readiness_endpoint.finding(f"health is served at {first.path} only; no readiness path checks the "
                                        f"Repo and PubSub separately", first.location, key="readiness")


@rule("HLT003", "health-route-behind-auth-or-session", Severity.WARNING, H,
      title="A health route runs through authentication, HTTPS redirects or the browser session",
      why="""
      A probe carries no cookie, no login and often no TLS. A health route behind authentication or a
      Plug.SSL redirect answers 401/302 and the platform marks every node unhealthy; behind the browser
      pipeline every probe creates a session and renders through layouts.
      """,
      fix="Move the route into a scope with no pipeline (or an `:api` pipeline), or answer it from a plug "
          "in the endpoint before Plug.Session.")
def health_route_behind_auth(project):
    for item in health_paths(project):
        if item.route is None:
            continue
        plugs = pipelines_of(item.router, item.route)
        blocking = [p.module for p in plugs if AUTH_PLUG.search(p.module) or p.module in ("Plug.SSL", ":force_ssl")]
        session = [p.module for p in plugs if p.module in SESSION_PLUGS]
        if blocking:
            yield health_route_behind_auth.finding(
                f"health path {item.path} runs {', '.join(blocking)}: a probe without credentials is refused",
                item.location, key=item.path)
        elif session:
            yield health_route_behind_auth.finding(
                f"health path {item.path} runs the browser session ({', '.join(session)})", item.location,
                key=item.path, severity=Severity.INFO)


@rule("HLT004", "liveness-queries-database", Severity.WARNING, M,
      title="A liveness endpoint queries the database",
      why="""
      When the database blips, a liveness probe that queries it fails on every node at once and the
      orchestrator restarts them all: an outage of the database becomes an outage of the app, and the
      restarts pile reconnections onto a database that is recovering.
      """,
      fix="Answer liveness without dependencies; check the Repo in a separate readiness endpoint.")
def liveness_queries_database(project):
    for item in health_paths(project):
        handler = project.usage.handlers.get(item.module)
        if handler is None or not handler.queries_database or READY_PATH.search(item.path):
            continue
        if LIVE_PATH.search(item.path):
            yield liveness_queries_database.finding(
                f"liveness path {item.path} is answered by {handler.module}, which queries the database",
                Location(path=handler.file, line=handler.line), key=item.path)

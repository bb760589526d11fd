"""HLT: health and readiness endpoints a platform can probe."""

from __future__ import annotations

from phoenix_ops.elixir.values import plain
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.patterns import mentions
from phoenix_ops.project.usage import (
    LIVE_SEGMENTS,
    READY_SEGMENTS,
    has_segment,
    health_path,
)
from phoenix_ops.record import record
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.endpoints import (
    REQUIRES_AUTH,
    endpoint_configs,
    force_ssl,
    pipelines_of,
)
from phoenix_ops.rules.platform import health_checks, liveness_paths

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
HEALTH_DEPS = ("plug_checkup", "plug_health_check", "health_checkup", "phoenix_health", "healthchex")
SESSION_PLUGS = (":fetch_session", ":protect_from_forgery")


@record
class HealthPath:
    path: str
    module: str  # the controller or plug that answers it
    location: Location
    router: object | None = None
    route: object | None = None


def health_paths(project) -> list[HealthPath]:
    """Health-like paths the app answers: router routes, and plugs in an endpoint that match the path themselves."""
    return project.derived(_health_paths)  # every HLT rule and its subject asks


def _health_paths(project) -> list[HealthPath]:
    found = [HealthPath(r.path, r.module or r.target, Location(path=router.file, line=r.line), router, r)
             for router in project.routers for r in router.routes
             if health_path(r.path, r.module or r.target) and r.verb in ("get", "head", "match", "forward")]
    for handler in project.usage.handlers.values():
        found += [HealthPath(p, handler.module, Location(path=handler.file, line=handler.line))
                  for p in handler.paths if health_path(p, handler.module)]
    return found


def _plugs_unread(project) -> str | None:
    """A function plug in an endpoint may answer a health path the model does not see."""
    plug = next(((e, p) for e in project.endpoints for p in e.plugs if p.module.startswith(":")), None)
    return f"no health route found, and {plug[0].module} plugs {plug[1].module}, a function that may answer one" \
        if plug else None


HEALTH = Subject("the app serves no health path (/health, /healthz, ...)", lambda project: bool(health_paths(project)),
                 _plugs_unread)
PLATFORM_CHECK = Subject("no deploy file declares an HTTP health check",
                         lambda project: bool(health_checks(project)))


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


@rule("HLT002", "no-readiness-endpoint", Severity.INFO, L, subject=HEALTH,
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
    if not (project.repos or project.repo_keys()):
        return
    ready = [p for p in paths if has_segment(p.path, READY_SEGMENTS)]
    for item in ready:
        handler = project.usage.handlers.get(item.module)
        if handler is not None and not handler.queries_database:
            yield no_readiness_endpoint.finding(f"readiness path {item.path} is answered by {handler.module}, which "
                                                f"does not query the Repo", item.location, key=item.path)
    if ready:
        return
    first = paths[0]
    yield no_readiness_endpoint.finding(f"health is served at {first.path} only; no readiness path checks the "
                                        f"Repo and PubSub separately", first.location, key="readiness")


@rule("HLT003", "health-route-behind-auth-or-session", Severity.WARNING, H, subject=HEALTH,
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
        blocking = [p.module for p in plugs
                    if mentions(p.module, REQUIRES_AUTH) or p.module in ("Plug.SSL", ":force_ssl")]
        session = [p.module for p in plugs if p.module in SESSION_PLUGS]
        if blocking:
            yield health_route_behind_auth.finding(
                f"health path {item.path} runs {', '.join(blocking)}: a probe without credentials is refused",
                item.location, key=item.path)
        elif session:
            yield health_route_behind_auth.finding(
                f"health path {item.path} runs the browser session ({', '.join(session)})", item.location,
                key=item.path, severity=Severity.INFO)


@rule("HLT004", "liveness-queries-database", Severity.WARNING, M, subject=HEALTH,
      title="A liveness endpoint queries the database",
      why="""
      When the database blips, a liveness probe that queries it fails on every node at once and the
      orchestrator restarts them all: an outage of the database becomes an outage of the app, and the
      restarts pile reconnections onto a database that is recovering.
      """,
      fix="Answer liveness without dependencies; check the Repo in a separate readiness endpoint.")
def liveness_queries_database(project):
    probed = {c.path for c in liveness_paths(project)}
    for item in health_paths(project):
        handler = project.usage.handlers.get(item.module)
        if handler is None or not handler.queries_database or has_segment(item.path, READY_SEGMENTS):
            continue
        if has_segment(item.path, LIVE_SEGMENTS) or item.path in probed:
            yield liveness_queries_database.finding(
                f"liveness path {item.path} is answered by {handler.module}, which queries the database",
                Location(path=handler.file, line=handler.line), key=item.path)


def _matches(pattern: str, path: str, prefix: bool) -> bool:
    """Whether a route path (with :params and *globs) matches a request path."""
    want = [p for p in path.split("?")[0].split("/") if p]
    have = [p for p in pattern.split("/") if p]
    for i, part in enumerate(have):
        if part.startswith("*"):
            return True
        if i >= len(want) or not (part.startswith(":") or part == want[i]):
            return False
    return len(want) == len(have) or (prefix and len(want) > len(have))


def served(project, path: str) -> bool | None:
    """Whether the router or an endpoint plug answers `path`; None when an endpoint's own function plug
    might answer it unseen."""
    for router in project.routers:
        for r in router.routes:
            if r.verb in ("get", "head", "match", "forward", "live", "resources") and \
                    _matches(r.path, path, prefix=r.verb in ("forward", "resources")):
                return True
    if any(_matches(p, path, prefix=False) for h in project.usage.handlers.values() for p in h.paths):
        return True
    if any(p.module.startswith(":") for e in project.endpoints for p in e.plugs):
        return None  # `plug :health_check` in the endpoint: a function the model does not read
    return False


@rule("HLT005", "health-check-path-not-served", Severity.ERROR, M, subject=PLATFORM_CHECK,
      title="A platform checks a health path the app does not serve",
      why="""
      The deploy files point the platform's check (fly checks, Kubernetes probes, render's
      healthCheckPath, a Dockerfile HEALTHCHECK) at a path no route or endpoint plug answers: every
      check gets 404, new versions never become healthy, and the deploy fails or rolls back.
      """,
      fix="Serve the path (a route outside the browser pipeline, or a plug in the endpoint), or point the "
          "check at the path the app does serve.")
def health_check_path_not_served(project):
    if not project.routers:
        return
    for check in health_checks(project):
        answer = served(project, check.path)
        if answer is False:
            yield health_check_path_not_served.finding(
                f"{check.label} checks {check.path}, which no route or endpoint plug serves", check.location,
                key=check.path)
        elif answer is None and not any(_matches(p.path, check.path, prefix=False) for p in health_paths(project)):
            yield health_check_path_not_served.finding(
                f"{check.label} checks {check.path}; no route serves it, perhaps a function plug in the endpoint does",
                check.location, key=check.path, severity=Severity.WARNING, confidence=L)


def _excluded(options, path: str) -> bool:
    """Whether force_ssl's `exclude: [paths: [...]]` leaves the path alone."""
    listed = plain(options("exclude", "paths"))
    return isinstance(listed, list) and any(isinstance(p, str) and (p == path or (p.endswith("*") and path.startswith(
        p[:-1]))) for p in listed)


@rule("HLT006", "health-check-redirected-to-https", Severity.WARNING, M, subject=PLATFORM_CHECK,
      title="force_ssl redirects the path the platform checks over plain HTTP",
      why="""
      Platform checks talk plain HTTP to the machine, without X-Forwarded-Proto. force_ssl answers
      them with a redirect to https, which the checker does not follow or counts as a failure, so a
      healthy node is reported unhealthy.
      """,
      fix='Exclude the path: `force_ssl: [rewrite_on: [:x_forwarded_proto], exclude: [paths: ["/health"], '
          'hosts: ["localhost"]]]` (Plug 1.15+), or answer it from a plug placed before Plug.SSL.')
def health_check_redirected(project):
    checks = [c for c in health_checks(project) if not c.label.startswith("kubernetes")]  # kubelet takes 3xx
    if not checks:
        return
    for cfg in endpoint_configs(project):
        options, where = force_ssl(cfg)
        if options is None:
            continue
        for check in checks:
            if served(project, check.path) and not _excluded(options, check.path):
                # A checker that wants 2xx fails on the redirect; `curl -f` passes it, so only fly's is likely.
                yield health_check_redirected.finding(
                    f"{check.label} checks {check.path} over HTTP and {cfg.module} force_ssl redirects it",
                    check.location, key=check.path, confidence=None if check.label.startswith("fly") else L)

"""WEB: limits on what one client can ask: rate limiting and request body size."""

from __future__ import annotations

from phoenix_ops.elixir.values import KW, plain
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.project.usage import health_path
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.endpoints import endpoint_configs

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
RATE_LIMIT_DEPS = ("hammer", "hammer_plug", "plug_attack", "ex_rated", "rate_limiter", "plug_rate_limit")
REMOTE_IP_DEPS = ("remote_ip", "plug_cloudflare")
# Paths that take credentials (phx.gen.auth writes /users/log_in, 1.8 /users/log-in); an OAuth
# redirect (/auth/github) takes none.
LOGIN_WORDS = ("login", "log_in", "log-in", "signin", "sign_in", "sign-in", "signup", "sign_up", "sign-up",
               "register", "reset_password", "reset-password", "magic_link", "magic-link")  # any case
LOGIN_SEGMENTS = frozenset({"session", "token"})
LARGE_BODY = 64 * 1024 * 1024


def _login_path(path: str) -> bool:
    """Whether a route takes credentials, by its fixed segments: `:login` is a parameter, and an
    OAuth route (/oauth/login/:provider) redirects to a provider that takes them."""
    fixed = [s for s in path.lower().split("/") if s and not s.startswith((":", "*"))]
    if any(s.startswith("oauth") for s in fixed):
        return False
    return any(word in s for s in fixed for word in LOGIN_WORDS) or not LOGIN_SEGMENTS.isdisjoint(fixed)


def _rate_limited(project) -> bool:
    return any(project.has_dep(d) for d in RATE_LIMIT_DEPS) or bool(project.usage.rate_limits)


@rule("WEB014", "no-rate-limiting", Severity.WARNING, M,
      title="Login or API routes and no rate limiting anywhere",
      why="""
      Without a limit per client, a login form takes unlimited password guesses and an API answers as
      fast as a script can ask. Nothing in Phoenix limits request rates by default.
      """,
      fix="Add a limiter (Hammer with a plug on login and API pipelines, or PlugAttack) keyed on the "
          "client's real address.")
def no_rate_limiting(project):
    if _rate_limited(project):
        return
    for router in project.routers:
        logins = sorted((r for r in router.routes if _login_path(r.path) and r.verb != "live_dashboard"),
                        key=lambda r: r.verb != "post")  # the form's POST is what guesses hit
        api = [r for r in router.routes if ("api" in r.pipelines or r.path.startswith("/api"))
               and not health_path(r.path, r.module or r.target)]
        if logins:
            yield no_rate_limiting.finding(
                f"{router.module} routes {logins[0].path}, which takes credentials, and nothing limits request rates",
                Location(path=router.file, line=logins[0].line), key=router.module)
        elif api:
            yield no_rate_limiting.finding(f"{router.module} routes an API ({api[0].path}) and nothing limits "
                                           f"request rates", Location(path=router.file, line=api[0].line),
                                           key=router.module, severity=Severity.INFO)


def _behind_proxy(project) -> bool:
    """The endpoint builds https URLs but listens for plain HTTP: TLS ends in a proxy in front of it."""
    for cfg in endpoint_configs(project):
        scheme = plain(cfg.get("url", "scheme"))
        port = plain(cfg.get("url", "port"))
        if (scheme == "https" or port == 443) and not cfg.has("https"):
            return True
    return False


RATE_LIMITS = Subject("no rate limiting found", lambda project: bool(project.usage.rate_limits))


@rule("WEB015", "rate-limit-keyed-on-proxy-address", Severity.WARNING, M, subject=RATE_LIMITS,
      title="Rate limiting keys on conn.remote_ip behind a proxy that rewrites no client address",
      why="""
      Behind a load balancer or platform proxy, `conn.remote_ip` is the proxy's address for every
      request unless a plug (RemoteIp) takes the client's from X-Forwarded-For. A limiter keyed on it
      then puts every visitor in one bucket: one busy client locks everybody out.
      """,
      fix="Plug `RemoteIp` in the endpoint (configured with the proxy's addresses) before the limiter, or "
          "key the limiter on the header your platform sets (Fly-Client-IP, CF-Connecting-IP).")
def rate_limit_keyed_on_proxy(project):
    usage = project.usage  # a RemoteIp plug in the endpoint is a lib file naming it
    if any(project.has_dep(d) for d in REMOTE_IP_DEPS) or usage.mentions("forwarded_for") or \
            usage.mentions("remote_ip_plug"):
        return
    proxy = _behind_proxy(project)
    for limit in project.usage.rate_limits:
        if limit.by_remote_ip:
            yield rate_limit_keyed_on_proxy.finding(
                f"{limit.file} rate-limits on remote_ip and nothing reads X-Forwarded-For"
                + (": behind the TLS proxy every client shares its address" if proxy else ""),
                Location(path=limit.file, line=limit.line), key=limit.file, confidence=M if proxy else L)


@rule("WEB016", "request-body-limit", Severity.INFO, M,
      title="Plug.Parsers accepts very large request bodies on every route",
      why="""
      Plug.Parsers reads request bodies up to `:length` into memory before the controller sees them,
      on every route, login included. Plug's default of 8 MB suits most apps; a limit raised far above
      it for the sake of one upload route lets a few clients exhaust memory everywhere.
      """,
      fix="Set `length:` on Plug.Parsers to what the app needs, and accept large uploads on their own "
          "routes (multipart `:length` per parser).")
def request_body_limit(project):
    for endpoint in project.endpoints:
        plug = endpoint.plug("Plug.Parsers")
        if plug is None or not isinstance(plug.options, KW) or plug.options.partial:
            continue
        length = plug.options.get("length")
        size = plain(length)
        where = Location(path=endpoint.file, line=plug.line)
        if isinstance(size, int) and size > LARGE_BODY:
            yield request_body_limit.finding(f"{endpoint.module} Plug.Parsers accepts bodies up to "
                                             f"{size // 1024 // 1024} MB", where, key=endpoint.module)

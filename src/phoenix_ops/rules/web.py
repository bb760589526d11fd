"""WEB: HTTPS, origins, CORS and development tools reaching prod."""

from __future__ import annotations

from phoenix_ops.elixir.values import KW, Atom, EnvRead, Expr, Lit, Seq, plain, truthy
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.endpoints import (
    authenticated,
    dev_only,
    endpoint_configs,
    force_ssl,
    is_false,
    literal,
    option,
    plug_location,
)
from phoenix_ops.rules.platform import platform_redirect, public_hosts, tls_at_proxy

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
HSTS_MIN_SECONDS = 180 * 24 * 3600
DEV_TOOLS = ("code_reloader", "debug_errors")


@rule("WEB001", "force-ssl-missing", Severity.WARNING, M,
      title="Prod neither redirects HTTP to HTTPS nor sends HSTS (no force_ssl, no Plug.SSL)",
      why="""
      Without `force_ssl`, a visitor who types the bare domain talks plain HTTP first: the session
      cookie can travel in clear, and no Strict-Transport-Security header tells the browser to stay
      on HTTPS next time. A platform redirect (Fly `force_https`) fixes the first request but sends
      no HSTS and leaves cookies without the Secure flag behind a proxy.
      """,
      fix="""
      In config/prod.exs (compile time): `config :my_app, MyAppWeb.Endpoint, force_ssl: [rewrite_on:
      [:x_forwarded_proto], exclude: [hosts: ["localhost"]]]`, excluding the health check path if the
      platform probes it over plain HTTP.
      """)
def force_ssl_missing(project):
    redirect = platform_redirect(project)
    for cfg in endpoint_configs(project):
        if not cfg.serves_app or cfg.unknown("force_ssl"):
            continue
        options, where = force_ssl(cfg)
        if options is None and where is None:
            value = cfg.get("force_ssl")
            what = f"{redirect} force_https redirects HTTP, but nothing sends HSTS" if redirect else \
                "HTTP is served as is, with no HSTS"
            yield force_ssl_missing.finding(
                f"{cfg.module} sets no force_ssl for {cfg.view.env} and plugs no Plug.SSL: {what}", cfg.location(value),
                key=cfg.module)


@rule("WEB002", "force-ssl-without-rewrite-on", Severity.ERROR, M,
      title="force_ssl without rewrite_on while TLS ends before Phoenix: every request redirects",
      why="""
      When a proxy or platform terminates TLS, Phoenix receives plain HTTP. Plug.SSL then sees every
      request as insecure and redirects it to HTTPS, forever: a redirect loop, and cookies never get
      the Secure flag. `rewrite_on: [:x_forwarded_proto]` makes Plug.SSL trust the proxy's header.
      """,
      fix="Add `rewrite_on: [:x_forwarded_proto]` to force_ssl (the proxy must set X-Forwarded-Proto), "
          "or terminate TLS in Phoenix with an `https:` listener.")
def force_ssl_without_rewrite_on(project):
    proxy = tls_at_proxy(project)
    for cfg in endpoint_configs(project):
        options, where = force_ssl(cfg)
        if options is None or cfg.unknown("force_ssl"):
            continue
        if options("rewrite_on") is not None or cfg.has("https") or cfg.unknown("https"):
            continue
        behind = f"{proxy} puts a TLS proxy in front" if proxy else "behind a TLS proxy"
        yield force_ssl_without_rewrite_on.finding(
            f"{cfg.module} forces SSL without rewrite_on and has no https listener; {behind}, so every request "
            f"is redirected again", where, key=cfg.module, confidence=H if proxy else None)


@rule("WEB003", "hsts-disabled-or-short", Severity.WARNING, H,
      title="HSTS is disabled or lasts less than 180 days",
      why="""
      Strict-Transport-Security tells browsers to use HTTPS only, which defeats SSL-stripping on
      hostile networks. A short `max-age` expires between visits; `hsts: false` sends nothing.
      """,
      fix="Keep the default (`hsts: true`, one year) or set `expires:` to at least 15552000 seconds (180 days).")
def hsts_disabled_or_short(project):
    for cfg in endpoint_configs(project):
        options, where = force_ssl(cfg)
        if options is None:
            continue
        hsts, expires = literal(options("hsts")), literal(options("expires"))
        if hsts is False:
            yield hsts_disabled_or_short.finding(
                f"{cfg.module} forces SSL with `hsts: false`: no Strict-Transport-Security", where, key=cfg.module)
        elif isinstance(expires, int) and expires < HSTS_MIN_SECONDS:
            yield hsts_disabled_or_short.finding(
                f"{cfg.module} HSTS expires after {expires} seconds ({expires // 86400} days)", where, key=cfg.module)


def _origin_settings(cfg):
    """(value, where) of the check_origin settings that may be in effect: the last unconditional one in
    config and any conditional ones after it, then the sockets' own options."""
    for value in reversed(cfg.history("check_origin")):
        yield value, cfg.location(value)
        if not value.conditional:
            break
    if cfg.endpoint is not None:
        for socket in cfg.endpoint.sockets:
            if dev_only(socket.guard):
                continue
            for transport in ("websocket", "longpoll"):
                value = option(option(socket.options, transport), "check_origin")
                if value is not None:
                    yield value, Location(path=cfg.endpoint.file, line=socket.line)


def _disabled(value) -> str | None:
    """How a check_origin value turns the check off in prod, if it does."""
    if isinstance(value, Lit) and value.value is False:
        return "check_origin: false" + (" (under a condition)" if value.conditional else "")
    if isinstance(value, EnvRead) and value.default is not None and plain(value.default) in ("false", False):
        return f"check_origin from {value.name}, false when it is unset"
    return None


@rule("WEB004", "check-origin-disabled", Severity.WARNING, H,
      title="check_origin is false in prod: any website can open the app's sockets",
      why="""
      `check_origin` is what stops a page on another site from opening the app's sockets from the
      visitor's browser (cross-site WebSocket hijacking). The session reaches a socket only with a
      valid CSRF token, which limits the damage, but any socket that trusts what the browser brings
      (its address, headers, a token in local storage) is open to every website, and abuse of the
      sockets cannot be told apart from real use. `check_origin: false` in config.exs applies to
      every environment, prod included.
      """,
      fix='Remove it, or list the real origins: `check_origin: ["https://example.com", "//*.example.com"]`; '
          "keep `check_origin: false` in dev.exs only.")
def check_origin_disabled(project):
    for cfg in endpoint_configs(project):
        for value, where in _origin_settings(cfg):
            how = _disabled(value)
            if how:
                yield check_origin_disabled.finding(
                    f"{cfg.module}: {how} reaches {cfg.view.env}", where, key=f"{cfg.module}:{where.line}",
                    confidence=M if value.conditional else None)


@rule("WEB005", "check-origin-entry-invalid", Severity.WARNING, H,
      title="A check_origin entry has no scheme or `//`: it never matches",
      why="""
      Phoenix parses each entry as a URI: `"example.com"` has no host part, so it matches no origin
      and every socket from the real site is refused with 403. Entries take the form
      `"https://example.com"` or `"//example.com"` (any scheme).
      """,
      fix='Write entries as `"https://example.com"` or `"//example.com"`; `"//*.example.com"` allows subdomains.')
def check_origin_entry_invalid(project):
    for cfg in endpoint_configs(project):
        for value, where in _origin_settings(cfg):
            entries = value.items if isinstance(value, Seq) else []
            for entry in entries:
                text = plain(entry)
                if isinstance(text, str) and "//" not in text:
                    yield check_origin_entry_invalid.finding(
                        f"{cfg.module} check_origin entry {text!r} has no scheme or `//`: it matches no origin",
                        where, key=f"{cfg.module}:{text}")


def _covers(entry: str, host: str) -> bool:
    """Whether a check_origin entry ("https://x.com", "//*.x.com") admits an origin on `host`."""
    allowed = entry.split("//", 1)[1].split("/", 1)[0].split(":", 1)[0].lower()
    host = host.lower()
    return allowed == host or (allowed.startswith("*.") and host.endswith(allowed[1:]))


@rule("WEB018", "check-origin-misses-public-host", Severity.WARNING, M,
      title="check_origin lists origins but not the public host the deploy files name",
      why="""
      With a `check_origin` list, Phoenix refuses socket connections from any other origin. The host
      the platform serves the app at (`<app>.fly.dev`, an Ingress host, PHX_HOST) missing from the
      list means LiveView pages load and never connect there.
      """,
      fix='Add the host (`"https://my-app.fly.dev"`), or build the list from PHX_HOST in runtime.exs.')
def check_origin_misses_host(project):
    hosts = public_hosts(project)
    if not hosts:
        return
    for cfg in endpoint_configs(project):
        value = cfg.get("check_origin")
        entries = [plain(v) for v in value.items] if isinstance(value, Seq) and not value.conditional else []
        if not entries or not all(isinstance(e, str) and "//" in e for e in entries):
            continue
        for host, where in hosts:
            if not any(_covers(e, host) for e in entries):
                yield check_origin_misses_host.finding(
                    f"{cfg.module} check_origin does not admit {host}, which {where.path} names", cfg.location(value),
                    key=f"{cfg.module}:{host}")


CORS_PLUGS = ("CORSPlug", "Corsica")


def _any_origin(module: str, options) -> str | None:
    if module == "CORSPlug":
        origin = option(options, "origin")
        credentials = option(options, "credentials")
        if is_false(credentials):
            return None
        text = getattr(origin, "text", "") if isinstance(origin, Expr) else ""
        if plain(origin) in ([Atom("self")], Atom("self")):
            return "origin [:self] (it echoes whatever Origin the request sends)"
        if text.startswith("~r") and text[3:].startswith((".*", ".+", "^.*")):
            return f"origin {text}"
        return None
    origins = option(options, "origins")
    credentials = option(options, "allow_credentials")
    if plain(origins) in ("*", ["*"]) and isinstance(credentials, Lit) and credentials.value is True:
        return 'origins "*" (Corsica then echoes the request\'s Origin)'
    return None


def _cors_plugs(project):
    plugs = [(e, p) for e in project.endpoints for p in e.plugs]
    plugs += [(r, p) for r in project.routers for pipe in r.pipelines.values() for p in pipe]
    return [(owner, plug) for owner, plug in plugs if plug.module in CORS_PLUGS]


CORS = Subject("no CORS plug in an endpoint or a router pipeline", lambda project: bool(_cors_plugs(project)))


@rule("WEB006", "cors-any-origin-with-credentials", Severity.WARNING, M, subject=CORS,
      title="CORS accepts any origin and allows credentials",
      why="""
      With credentials allowed, a browser sends the visitor's cookies on cross-site requests; if every
      origin is accepted (echoed back), any website can read authenticated API responses as the
      visitor.
      """,
      fix="List the origins that may call the API, or turn credentials off for a public API.")
def cors_any_origin(project):
    for owner, plug in _cors_plugs(project):
        how = _any_origin(plug.module, plug.options)
        if how:
            yield cors_any_origin.finding(f"{plug.module} allows {how} with credentials",
                                          plug_location(owner, plug), key=f"{owner.module}:{plug.module}")


@rule("WEB007", "dev-tools-in-prod", Severity.ERROR, H,
      title="code_reloader or debug_errors is on in prod",
      why="""
      `debug_errors: true` renders stack traces, code and request data to anyone who triggers an
      error; `code_reloader: true` recompiles code on requests and needs Mix, which a release does not
      have. Both are read when the endpoint compiles.
      """,
      fix="Set them in config/dev.exs only; remove them from config.exs and prod.exs.")
def dev_tools_in_prod(project):
    for cfg in endpoint_configs(project):
        for key in DEV_TOOLS:
            value = cfg.get(key)
            if isinstance(value, Lit) and truthy(value.value) and not value.conditional:
                yield dev_tools_in_prod.finding(f"{cfg.module} has `{key}: true` in {cfg.view.env}",
                                                cfg.location(value), key=f"{cfg.module}:{key}")


# Routes that only belong in development, by their target.
DEV_ROUTE_TARGETS = {"live_dashboard": "LiveDashboard", "Plug.Swoosh.MailboxPreview": "the Swoosh mailbox preview",
                     "Bamboo.SentEmailViewerPlug": "the Bamboo sent-email viewer",
                     "Phoenix.LiveDashboard": "LiveDashboard"}


@rule("WEB008", "dev-route-exposed", Severity.WARNING, M,
      title="LiveDashboard or a mailbox preview is routed in prod without a dev guard or authentication",
      why="""
      LiveDashboard shows processes, ETS tables, env and request logs and can kill processes; a mailbox
      preview shows every email the app sends (password resets included). Phoenix generates them
      inside `if Application.compile_env(:app, :dev_routes)`; outside it they are public.
      """,
      fix="Keep the route inside the dev_routes guard, or pipe it through an admin authentication "
          "pipeline (for example `Plug.BasicAuth`).")
def dev_route_exposed(project):
    for router in project.routers:
        for route in router.routes:
            what = DEV_ROUTE_TARGETS.get(route.verb) or next(
                (v for k, v in DEV_ROUTE_TARGETS.items() if route.target.startswith(k)), None)
            if what is None or dev_only(route.guard) or authenticated(router, route):
                continue
            yield dev_route_exposed.finding(
                f"{what} is routed at {route.path} with no dev guard and no authentication in its pipelines",
                Location(path=router.file, line=route.line), key=f"{router.module}:{route.path}")


def _longpoll_socket(endpoint):
    for socket in endpoint.sockets:
        if socket.module == "Phoenix.LiveView.Socket" and not dev_only(socket.guard):
            return socket
    return None


LIVEVIEW_CLIENT = Subject("no LiveSocket client file among the assets",
                          lambda project: project.usage.client_file is not None)
LIVE_SOCKET = Subject("no endpoint mounts Phoenix.LiveView.Socket",
                      lambda project: any(_longpoll_socket(e) for e in project.endpoints))


@rule("WEB009", "longpoll-fallback-mismatch", Severity.WARNING, H, subject=LIVEVIEW_CLIENT & LIVE_SOCKET,
      title="The LiveView client falls back to long polling but the endpoint socket refuses it (or the reverse)",
      why="""
      `longPollFallbackMs` in app.js makes the browser switch to long polling when WebSockets fail
      (corporate proxies). If the endpoint's `/live` socket has no `longpoll:` transport, that
      fallback gets 404s and the page never connects; a longpoll transport the client never uses is
      only dead surface.
      """,
      fix="Add `longpoll: [connect_info: [session: @session_options]]` to the `/live` socket, or remove "
          "`longPollFallbackMs` from the client (both or neither).")
def longpoll_mismatch(project):
    usage = project.usage
    for endpoint in project.endpoints:
        socket = _longpoll_socket(endpoint)
        if socket is None or not isinstance(socket.options, KW) or socket.options.partial:
            continue
        server = socket.options.get("longpoll")
        server_on = server is not None and not is_false(server)
        if usage.client_longpoll and not server_on:
            path, line = usage.client_longpoll
            yield longpoll_mismatch.finding(
                f"{path} falls back to long polling but {endpoint.module}'s {socket.path} socket has no longpoll "
                f"transport", Location(path=path, line=line), key=endpoint.module)
        elif server_on and not usage.client_longpoll:
            yield longpoll_mismatch.finding(
                f"{endpoint.module}'s {socket.path} socket accepts long polling but {usage.client_file} never "
                f"falls back to it", Location(path=endpoint.file, line=socket.line), key=endpoint.module,
                severity=Severity.INFO)

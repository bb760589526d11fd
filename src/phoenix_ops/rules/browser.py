"""WEB: what protects a browser session: cookie options, secure headers, content security policy."""

from __future__ import annotations

from phoenix_ops.elixir.values import KW, Atom, Lit, plain
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.patterns import lazy
from phoenix_ops.rule import rule
from phoenix_ops.rules.endpoints import dev_only, option

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
# Plugs that mark a router pipeline as serving HTML pages to browsers (a JSON API may fetch the
# session too, but renders no page to protect).
BROWSER_PLUGS = (":protect_from_forgery", ":fetch_live_flash", ":fetch_flash")


def _sessions(project):
    """(endpoint, plug, options, cookie store?) of every session the endpoints set up with readable options."""
    for endpoint in project.endpoints:
        plug = endpoint.plug("Plug.Session")
        if plug is None or dev_only(plug.guard) or not isinstance(plug.options, KW) or plug.options.partial:
            continue
        store = plain(plug.options.get("store"))
        yield endpoint, plug, plug.options, store in (None, Atom("cookie"))


def _where(endpoint, plug) -> Location:
    value = plug.options
    if value is not None and value.origin is not None and value.origin.file == endpoint.file:
        return Location(path=endpoint.file, line=value.origin.line)
    return Location(path=endpoint.file, line=plug.line)


@rule("WEB010", "session-cookie-unprotected", Severity.WARNING, M,
      title="The session cookie lacks SameSite, or sets `secure: false` / `http_only: false`",
      why="""
      The session cookie is the login. Without `same_site` the browser's own default decides whether
      it rides along on cross-site requests; `secure: false` lets it travel over plain HTTP, and
      `http_only: false` hands it to any script an XSS injects.
      """,
      fix='Keep the generator\'s `same_site: "Lax"` in `@session_options`, and drop `secure: false` and '
          "`http_only: false` (Plug sets Secure on HTTPS requests and HttpOnly by default).")
def session_cookie_unprotected(project):
    for endpoint, plug, options, _ in _sessions(project):
        problems = []
        if options.get("same_site") is None:
            problems.append("no `same_site`")
        for key in ("secure", "http_only"):
            value = options.get(key)
            if isinstance(value, Lit) and value.value is False and not value.conditional:
                problems.append(f"`{key}: false`")
        if problems:
            yield session_cookie_unprotected.finding(
                f"{endpoint.module} session cookie options have {' and '.join(problems)}", _where(endpoint, plug),
                key=endpoint.module)


@rule("WEB011", "session-signed-only", Severity.INFO, H,
      title="The cookie session is signed but not encrypted: its contents are readable",
      why="""
      A signed cookie cannot be forged, but anyone holding it (the user, a proxy log, a browser
      extension) can base64-decode what the app puts in the session. Fine for a user id; not for
      anything private.
      """,
      fix='Add `encryption_salt: "..."` to the session options (generate it with `mix phx.gen.secret 32`).')
def session_signed_only(project):
    for endpoint, plug, options, cookie in _sessions(project):
        if cookie and options.get("encryption_salt") is None:
            yield session_signed_only.finding(f"{endpoint.module} session cookie is signed but not encrypted",
                                              _where(endpoint, plug), key=endpoint.module)


def _browser_pipelines(project):
    for router in project.routers:
        used = {name for route in router.routes for name in route.pipelines}
        for name, plugs in router.pipelines.items():
            if name in used and any(p.module in BROWSER_PLUGS for p in plugs):
                yield router, name, plugs


@rule("WEB012", "secure-browser-headers-missing", Severity.WARNING, H,
      title="A browser pipeline does not call put_secure_browser_headers",
      why="""
      `put_secure_browser_headers` sets the headers that stop clickjacking, MIME sniffing and
      referrer leaks (and on Phoenix 1.8 a base CSP). A pipeline serving pages without it leaves
      them unprotected.
      """,
      fix="Add `plug :put_secure_browser_headers` to the pipeline (after `:protect_from_forgery`).")
def secure_headers_missing(project):
    for router, name, plugs in _browser_pipelines(project):
        if not any(p.module == ":put_secure_browser_headers" for p in plugs):
            first = next(p for p in plugs if p.module in BROWSER_PLUGS)
            yield secure_headers_missing.finding(
                f"{router.module} pipeline :{name} serves browser sessions without put_secure_browser_headers",
                Location(path=router.file, line=first.line), key=f"{router.module}:{name}")


_DIRECTIVE = lazy(r"\s*([a-z-]+)\s*([^;]*)")
_INTERPOLATION = lazy(r"#\{[^}]*\}")


def _policy_text(value) -> str | None:
    """The policy a header value sets: a literal, or the literal parts of an interpolated string (the
    interpolated host lists cannot take an 'unsafe-...' source away)."""
    text = plain(value)
    if isinstance(text, str):
        return text
    source = getattr(value, "text", "")
    if len(source) > 1 and source[0] == source[-1] == '"':
        return _INTERPOLATION.sub(" ", source[1:-1])
    return None


def csp_weakness(policy: str) -> str | None:
    """Why a content-security-policy lets injected scripts run, if it does."""
    directives = {m.group(1).lower(): m.group(2).split() for m in _DIRECTIVE.finditer(policy) if m.group(1)}
    sources = directives.get("script-src", directives.get("default-src"))
    if sources is None:
        return None
    lowered = [s.lower() for s in sources]
    if "'unsafe-eval'" in lowered:
        return "script-src allows 'unsafe-eval'"
    if "*" in lowered:
        return "script-src allows any host (*)"
    if "'unsafe-inline'" in lowered and not any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-",
                                                               "'strict-dynamic'")) for s in lowered):
        return "script-src allows 'unsafe-inline' without a nonce or hash"
    return None


@rule("WEB013", "content-security-policy-weak", Severity.WARNING, M,
      title="No content-security-policy limits scripts, or the one set allows inline or eval'd scripts",
      why="""
      A content-security-policy with a strict `script-src` is the last line against XSS: injected
      markup cannot run scripts. `'unsafe-inline'` without a nonce, `'unsafe-eval'` or `*` give that
      away. Phoenix's default headers set no script policy.
      """,
      fix="""
      Pass a policy to the browser pipeline: `plug :put_secure_browser_headers,
      %{"content-security-policy" => "default-src 'self'; script-src 'self' 'nonce-...'"}`, with a
      per-request nonce for inline scripts.
      """)
def csp_weak(project):
    custom = project.usage.mentions("csp")  # a plug of the app's own sets the header: not readable here
    for router, name, plugs in _browser_pipelines(project):
        headers = [p for p in plugs if p.module == ":put_secure_browser_headers"]
        if not headers:
            continue
        where = Location(path=router.file, line=headers[0].line)
        policy = option(headers[0].options, "content-security-policy")
        text = _policy_text(policy)
        if text is not None:
            weakness = csp_weakness(text)
            if weakness:
                yield csp_weak.finding(f"{router.module} pipeline :{name} sends a content-security-policy whose "
                                       f"{weakness}", where, key=f"{router.module}:{name}")
        elif policy is None and not custom:
            yield csp_weak.finding(f"{router.module} pipeline :{name} sets no content-security-policy with a "
                                   f"script-src", where, key=f"{router.module}:{name}", severity=Severity.INFO)

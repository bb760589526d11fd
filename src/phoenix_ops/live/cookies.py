"""Check 5: cookie attributes, with the Phoenix session cookie recognised by name or value shape."""

from __future__ import annotations

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import Context, on_page
from phoenix_ops.live.http import Reply
from phoenix_ops.patterns import lazy
from phoenix_ops.record import field, record
from phoenix_ops.rule import rule

SESSION_COOKIE = rule(
    "SEC100", "session-cookie-insecure", Severity.ERROR, Confidence.HIGH, kind="probe",
    subject=on_page("the page set no Phoenix session cookie", "cookies", lambda facts: "session_cookie" in facts),
    title="The Phoenix session cookie lacks Secure, HttpOnly or SameSite",
    why="""
    The session cookie is the login. Without Secure it is sent over plain HTTP; without HttpOnly any
    XSS reads it; without SameSite it rides on cross-site requests (CSRF, cross-site WebSocket).
    """,
    fix="""
    In the endpoint's `@session_options`: `secure: true, same_site: "Lax"` (Plug sets http_only by
    default), or `force_ssl` which marks cookies secure.

    The session cookie is recognised by its name (`_app_key`) or its value (a Plug signed
    `SFMyNTY.`-prefixed, or encrypted: `XCP.`-prefixed since Plug.Crypto 2.0, `QTEyOEdDTQ.` before).
    Pass: Secure, HttpOnly and SameSite=Lax or Strict. Fail: any missing, or SameSite=None.
    """,
)

COOKIE_NOT_SECURE = rule(
    "WEB115", "cookie-not-secure", Severity.WARNING, Confidence.HIGH, kind="probe",
    subject=on_page("the page set no cookie besides the session's", "cookies", lambda facts: bool(facts.get("cookies"))),
    title="A cookie is set without the Secure attribute",
    why="""
    A cookie without Secure is sent on any plain HTTP request to the host, where anyone on the path
    can read or replace it.
    """,
    fix="""
    Add `secure: true` to `put_resp_cookie` (or the proxy's cookie flags).

    Pass: every Set-Cookie on the HTTPS page carries Secure. Fail: one does not.
    """,
)


# Plug.Crypto tokens: base64url("HS256"/"HS384"/"HS512") signed; encrypted "XCP." + base64url(iv, tag,
# text) since Plug.Crypto 2.0 (XChaCha20-Poly1305), base64url("A128GCM"/"A256GCM") parts before it.
_B64 = r"[A-Za-z0-9_-]+"
SIGNED = lazy(rf"^(SFMyNTY|SFMzODQ|SFM1MTI)\.{_B64}\.{_B64}$")
ENCRYPTED = lazy(rf"^(XCP\.{_B64}|(QTEyOEdDTQ|QTI1NkdDTQ)(\.{_B64}){{3,5}})$")
SESSION_NAME = lazy(r"^_[A-Za-z0-9_]+_key$")


@record
class Cookie:
    name: str
    value: str
    attrs: dict[str, str] = field(default_factory=dict)  # lower-cased attribute names

    @property
    def is_session(self) -> bool:
        return bool(SESSION_NAME.match(self.name) or SIGNED.match(self.value) or ENCRYPTED.match(self.value))

    @property
    def same_site(self) -> str:
        return self.attrs.get("samesite", "").lower()


def parse_set_cookie(header: str) -> Cookie | None:
    first, *rest = header.split(";")
    name, sep, value = first.partition("=")
    if not sep or not name.strip():
        return None
    attrs = {}
    for part in rest:
        k, _, v = part.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return Cookie(name.strip(), value.strip().strip('"'), attrs)


def cookies_of(reply: Reply) -> list[Cookie]:
    return [c for c in map(parse_set_cookie, reply.headers.get_list("set-cookie")) if c]


def session_cookie(reply: Reply) -> Cookie | None:
    return next((c for c in cookies_of(reply) if c.is_session), None)


def check_cookies(ctx: Context) -> list[Finding]:
    """Cookies set anywhere on the way to the page (a login redirect sets them too), last one wins."""
    out = []
    cookies = {c.name: c for reply in ctx.chain for c in cookies_of(reply)}
    ctx.facts["cookies"] = sum(1 for c in cookies.values() if not c.is_session)
    for c in cookies.values():
        if c.is_session:
            ctx.facts["session_cookie"] = c.name
            missing = [a for a in ("secure", "httponly") if a not in c.attrs]
            if c.same_site not in ("lax", "strict"):
                missing.append(f"SameSite=Lax/Strict (is {c.attrs.get('samesite') or 'absent'})")
            if missing:
                out.append(SESSION_COOKIE.finding(
                    f"session cookie {c.name} lacks {', '.join(missing)}", ctx.at(), key=c.name))
        elif "secure" not in c.attrs:
            out.append(COOKIE_NOT_SECURE.finding(f"cookie {c.name} is set without Secure", ctx.at(), key=c.name))
    return out

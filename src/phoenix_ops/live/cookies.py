"""Check 5: cookie attributes, with the Phoenix session cookie recognised by name or value shape."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from phoenix_ops.findings import Finding
from phoenix_ops.live import rules as R
from phoenix_ops.live.context import Context
from phoenix_ops.live.http import Reply

# Plug.Crypto tokens: base64url("HS256"/"HS384"/"HS512") signed, base64url("A128GCM"/"A256GCM") encrypted.
_B64 = r"[A-Za-z0-9_-]+"
SIGNED = re.compile(rf"^(SFMyNTY|SFMzODQ|SFM1MTI)\.{_B64}\.{_B64}$")
ENCRYPTED = re.compile(rf"^(QTEyOEdDTQ|QTI1NkdDTQ)(\.{_B64}){{3,5}}$")
SESSION_NAME = re.compile(r"^_[A-Za-z0-9_]+_key$")


@dataclass
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
    for c in cookies.values():
        if c.is_session:
            ctx.facts["session_cookie"] = c.name
            missing = [a for a in ("secure", "httponly") if a not in c.attrs]
            if c.same_site not in ("lax", "strict"):
                missing.append(f"SameSite=Lax/Strict (is {c.attrs.get('samesite') or 'absent'})")
            if missing:
                out.append(R.SESSION_COOKIE.finding(
                    f"session cookie {c.name} lacks {', '.join(missing)}", ctx.at(), key=c.name))
        elif "secure" not in c.attrs:
            out.append(R.COOKIE_NOT_SECURE.finding(f"cookie {c.name} is set without Secure", ctx.at(), key=c.name))
    return out

"""Where the Erlang cookie comes from. The cookie is a secret: it is never printed or logged."""

from __future__ import annotations

import os
from pathlib import Path

from phoenix_ops.reading import read_text


class CookieError(ValueError):
    """No usable cookie; the message names where we looked, never the value."""


def load_cookie(cookie_file: Path | None = None, env: dict[str, str] | None = None) -> tuple[str, str]:
    """The cookie and where it came from: --cookie-file, then RELEASE_COOKIE (what Mix releases
    read), then ~/.erlang.cookie. Only the place is ever shown."""
    env = os.environ if env is None else env
    if cookie_file is not None:
        return _read(cookie_file), str(cookie_file)
    if env.get("RELEASE_COOKIE", "").strip():
        return env["RELEASE_COOKIE"].strip(), "RELEASE_COOKIE"
    home = Path(env.get("HOME") or Path.home())
    default = home / ".erlang.cookie"
    if default.exists():
        return _read(default), str(default)
    raise CookieError("no cookie: give --cookie-file, set RELEASE_COOKIE, or create ~/.erlang.cookie")


def _read(path: Path) -> str:
    try:
        value = read_text(path, 64 * 1024, encoding="latin-1").strip()
    except OSError as exc:
        raise CookieError(f"cannot read the cookie file {path}: {exc.strerror or exc}") from None
    if not value:
        raise CookieError(f"the cookie file {path} is empty")
    return value

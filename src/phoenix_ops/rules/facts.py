"""Small questions several rules ask of the Project model."""

from __future__ import annotations

import re

from phoenix_ops.elixir.values import Expr, Lit, Value
from phoenix_ops.findings import Location

# Config keys that hold credentials. Signing and encryption *salts* are not secrets in Phoenix.
SECRET_KEY = re.compile(r"(^|_)(secret|password|passwd|token|api_key|apikey|private_key|access_key|secret_key|"
                        r"signing_key|secret_key_base|credentials?|auth_key|client_secret|encryption_key)$", re.I)
URL_KEY = re.compile(r"(^|_)(url|uri)$", re.I)
SALT_KEY = re.compile(r"salt$", re.I)
URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@\s]*:([^@\s]+)@", re.I)
# Values that are obviously not a committed credential.
PLACEHOLDER = re.compile(r"^(\$\{[A-Z0-9_]+\}|\$[A-Z0-9_]+|<[^>]*>|)$")


def where(value: Value | None, fallback: str = "mix.exs", line: int | None = None) -> Location:
    if value is not None and value.origin is not None:
        return Location(path=value.origin.file, line=value.origin.line)
    return Location(path=fallback, line=line)


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key)) and not SALT_KEY.search(key)


def literal_secret(value: Value | None) -> str | None:
    """The committed secret text when the value is a literal credential."""
    if isinstance(value, Lit) and isinstance(value.value, str) and not PLACEHOLDER.match(value.value.strip()):
        return value.value
    return None


def env_names(value: Value | None) -> set[str]:
    return {r.name for r in value.reads()} if value is not None else set()


_STRINGS = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\]|\\.)*"')


def generated_at_boot(value: Value | None) -> bool:
    """A secret computed by random bytes when config is evaluated (differs per node and per boot).
    Strings are left out: a `raise "... mix phx.gen.secret"` message generates nothing."""
    if not isinstance(value, Expr):
        return False
    code = _STRINGS.sub('""', value.text)
    return bool(re.search(r"strong_rand_bytes|:rand\.|random_bytes|Ecto\.UUID\.generate", code))


def runtime_value(history: list[Value]) -> Value | None:
    """The last value set at runtime, if any."""
    return next((v for v in reversed(history) if v.origin and v.origin.phase == "runtime"), None)

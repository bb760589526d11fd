"""Small questions several rules ask of the Project model."""

from __future__ import annotations

import functools
import re

from phoenix_ops.elixir.values import KW, Choice, EnvRead, Expr, Lit, Value
from phoenix_ops.findings import Confidence, Location
from phoenix_ops.patterns import lazy
from phoenix_ops.project.run_mode import MIX


def _names(*words: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Key names made of one of `words`, or ending in `_` and one of them (`db_password`): see `named`."""
    return frozenset(words), tuple(f"_{w}" for w in words)


# Config keys that hold credentials (signing and encryption *salts*, not secrets in Phoenix, end otherwise).
SECRET_NAMES = _names("secret", "password", "passwd", "token", "api_key", "apikey", "private_key", "access_key",
                      "secret_key", "signing_key", "secret_key_base", "credential", "credentials", "auth_key",
                      "client_secret", "encryption_key")
URL_NAMES = _names("url", "uri")
_ENV_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


# Well-known development credentials: a committed copy is a leftover, not a leaked secret.
DEV_PASSWORDS = {"postgres", "password", "secret", "root", "mysql", "changeme", "dev", "admin", "guest"}
DEV_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "db", "postgres", "database", "host.docker.internal"}
_SCHEME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-")  # after a letter, any case


def dev_default(key: str, text: str) -> bool:
    """postgres/postgres on localhost and the like: a development default, not a real credential."""
    if is_url_key(key):
        credentials = url_password(text)
        if credentials is None:
            return False
        password, rest = credentials
        host = rest.removeprefix("[")
        for end in "/:]?":
            host = host.partition(end)[0]
        return password in DEV_PASSWORDS and host.lower() in DEV_HOSTS
    return text in DEV_PASSWORDS


def url_password(text: str) -> tuple[str, str] | None:
    """(password, what follows it) of a URL that starts `scheme://user:password@`, the password perhaps
    empty; None for any other text. Nothing of it up to the `@` is blank."""
    scheme, sep, rest = text.partition("://")
    if not (sep and scheme[:1].isascii() and scheme[:1].isalpha() and _SCHEME_CHARACTERS.issuperset(scheme.lower())):
        return None
    if not rest or rest[0].isspace():
        return None
    word = rest.split(None, 1)[0]
    user_end = min((i for i in map(word.find, ":/@") if i >= 0), default=-1)
    if user_end < 0 or word[user_end] != ":":
        return None
    password, at, after = word[user_end + 1:].partition("@")
    return (password, after) if at else None


def has_password(url: str) -> bool:
    credentials = url_password(url)
    return credentials is not None and credentials[0] != ""


def secret_env_name(name: str) -> bool:
    """An environment variable that holds a credential, by its name."""
    return is_secret_key(name.lower()) or name.endswith(("DATABASE_URL", "_COOKIE"))


def where(value: Value | None, fallback: str = "mix.exs", line: int | None = None) -> Location:
    if value is not None and value.origin is not None:
        return Location(path=value.origin.file, line=value.origin.line)
    return Location(path=fallback, line=line)


def named(key: str, names: tuple[frozenset[str], tuple[str, ...]]) -> bool:
    """Whether `key`, in any case, is one of the `names` made by `_names`."""
    lowered = key.lower()
    words, endings = names
    return lowered in words or lowered.endswith(endings)


@functools.cache  # every secrets rule asks it of every config key
def is_secret_key(key: str) -> bool:
    return named(key, SECRET_NAMES)


# A value that says it is not a credential: a sentence, or "this_is_not_a_password".
_PLACEHOLDER_WORDS = lazy(r"\s|not_?an?_|placeholder|dummy|your[_-]|replace[_-]?me|change[_-]?me", re.I)


def says_placeholder(value: str) -> bool:
    """Whether a value written where a secret goes says it is none: in words, or by being one
    character repeated (`0x0000000000000000000000000000000000000000`, a provider's test key)."""
    text = value.strip()
    return bool(_PLACEHOLDER_WORDS.search(text)) or (len(text) >= 8 and len(set(text.removeprefix("0x"))) == 1)


def placeholder(value: str) -> bool:
    """Whether a value set where a secret goes stands in for one: it says so, or it is one short
    word (`nokey`, `secret`), where a real key or password is long or mixed."""
    return says_placeholder(value) or (value.isalpha() and len(value) <= 12)


def is_url_key(key: str) -> bool:
    return named(key, URL_NAMES)


def literal_secret(value: Value | None) -> str | None:
    """The committed secret text when the value is a literal credential."""
    if isinstance(value, Lit) and isinstance(value.value, str) and not _marker(value.value.strip()):
        return value.value
    return None


def _marker(text: str) -> bool:
    """Obviously not a committed credential but a mark for one: nothing, `${NAME}`, `$NAME` or `<something>`."""
    if text.startswith("${") and text.endswith("}") and _env_name(text[2:-1]):
        return True
    if text.startswith("$"):
        return _env_name(text[1:])
    if text.startswith("<") and text.endswith(">"):
        return ">" not in text[1:-1]
    return not text


def _env_name(text: str) -> bool:
    return bool(text) and _ENV_NAME_CHARACTERS.issuperset(text)


def env_names(value: Value | None) -> set[str]:
    return {r.name for r in value.reads()} if value is not None else set()


_STRINGS = lazy(r'"""[\s\S]*?"""|"(?:[^"\\]|\\.)*"')


def generated_at_boot(value: Value | None) -> bool:
    """A secret computed by random bytes when config is evaluated (differs per node and per boot).
    Strings are left out: a `raise "... mix phx.gen.secret"` message generates nothing."""
    if isinstance(value, EnvRead):
        return generated_at_boot(value.default)
    if isinstance(value, Choice):
        return any(generated_at_boot(v) for v in value.options)
    if not isinstance(value, Expr):
        return False
    if not any(call in value.text for call in _RANDOM_CALLS):
        return False  # (nothing to take out of strings first)
    code = _STRINGS.sub('""', value.text)
    return any(call in code for call in _RANDOM_CALLS)


_RANDOM_CALLS = ("strong_rand_bytes", ":rand.", "random_bytes", "Ecto.UUID.generate")


def runtime_value(history: list[Value]) -> Value | None:
    """The last value set at runtime, if any."""
    return next((v for v in reversed(history) if v.origin and v.origin.phase == "runtime"), None)


# Config of build tools (asset bundlers) is read by mix tasks at build time, never by the release.
BUILD_TOOL_APPS = {"esbuild", "tailwind", "dart_sass", "phoenix_live_reload", "sentry_build"}


def has_runtime_config(project) -> bool:
    prefix = f"{project.config_dir}/"
    if any(project.exists(prefix + name) for name in ("runtime.exs", "releases.exs")):
        return True
    return project.config_provider() is not None  # a release config provider also reads config at boot


def baked_reads(project) -> list[EnvRead]:
    """Compile-time env reads whose value is still in effect in the release. None when the files
    show the app runs with `mix phx.server`: Mix evaluates the config files at every start."""
    return [] if project.run_mode.mode == MIX else project.config().derived(_baked_reads)


def _baked_reads(view) -> list[EnvRead]:
    overridden: set[int] = set()
    for path, history in view.leaves.items():
        later = False  # a firm runtime value comes after this one: walked from the end, linear in the history
        for value in reversed(history):
            if path[0] in BUILD_TOOL_APPS or later or view.shadowed(*path, after=value, phase="runtime"):
                overridden.update(id(r) for r in value.reads())
            later = later or (value.origin is not None and value.origin.phase == "runtime" and not value.conditional)
    return [r for r in view.reads if r.origin and r.origin.phase == "compile" and r.how != "{:system, _}"
            and id(r) not in overridden]


ASSUMED_RELEASE = ("; no file shows how the app runs in production (no releases: key, rel/, Dockerfile, Procfile, "
                   "fly.toml, unit or start script), so a release is assumed")


def release_doubt(project) -> tuple[str, Confidence | None]:
    """(message suffix, confidence) for a release-only rule: low, saying why, when the run mode is unknown."""
    if not project.run_mode.assumed:
        return "", None
    unclear = project.run_mode.unclear
    if unclear:  # the deploy files name a start command, and it says neither
        return (f"; {unclear[0]} starts something the audit cannot follow and no other file shows how the app "
                f"runs in production, so a release is assumed"), Confidence.LOW
    return ASSUMED_RELEASE, Confidence.LOW


_CONFIG_READ = lazy(r"Application\.(?:get_env|fetch_env!|fetch_env|compile_env!?)\(\s*:(\w+)\s*,\s*:?([\w.]+)")


def children_of(project, *names: str):
    """Application children started from these modules, in start order."""
    return [c for c in project.child_specs if c.module in names]


def started(child) -> str:
    """How a finding names a child: with the condition it starts under, when it has one."""
    return f"{child.module} (started when `{child.condition}`)" if child.condition else child.module


def endpoint_before(project, child):
    """The endpoint started earlier in the same children list as `child`, if any."""
    endpoints = {e.module for e in project.endpoints} or {c.module for c in project.child_specs
                                                          if c.module.endswith(".Endpoint")}
    return next((c for c in project.child_specs if c.module in endpoints and c.file == child.file
                 and c.group == child.group and c.index < child.index), None)


def config_read(value: Value | None) -> tuple[str, str] | None:
    """(app, key) of the `Application.get_env(:app, :key)` a child's argument is read from."""
    texts = [value.text] if isinstance(value, Expr) else []
    if isinstance(value, KW):
        texts += [v.text for _, v in value.items if isinstance(v, Expr)]
    for text in texts:
        m = _CONFIG_READ.search(text) if "Application." in text else None
        if m:
            return m.group(1), m.group(2)
    return None

"""SEC: secrets kept out of code, stable across nodes, long enough."""

from __future__ import annotations

import re

from phoenix_ops.elixir.env_reads import asks_whether_set
from phoenix_ops.elixir.values import KW, EnvRead, Value, alternatives
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.patterns import lazy
from phoenix_ops.record import record
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.facts import (
    baked_reads,
    dev_default,
    generated_at_boot,
    has_password,
    is_secret_key,
    is_url_key,
    literal_secret,
    says_placeholder,
    secret_env_name,
    url_password,
    where,
)

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
MIN_SECRET_KEY_BASE = 64
# Keys that are public by design: Stripe publishable keys, PostHog project keys.
PUBLIC_PREFIXES = ("pk_live_", "pk_test_", "phc_")
ENV_FILE_TEMPLATE = lazy(r"(example|sample|template|dist|defaults?)$", re.I)
SECRET_NAME = lazy(r"SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY|COOKIE|DATABASE_URL")


@record
class SecretLeaf:
    """A config leaf holding a credential, split where config code makes its value uncertain."""

    path: tuple[str, ...]
    history: list[Value]
    base: Value | None  # the last value set unconditionally
    later: list[Value]  # values set after it under conditions the audit cannot decide
    shadow: Value | None  # unreadable code set after `base` that may override it

    @property
    def name(self) -> str:
        return _name(self.path)


def _secret_leaves(project) -> list[SecretLeaf]:
    return project.config().derived(_find_secret_leaves)  # every SEC rule walks them: found once


def _find_secret_leaves(view) -> list[SecretLeaf]:
    leaves = []
    for path, history in view.leaves.items():
        if not (is_secret_key(path[-1]) or is_url_key(path[-1])):
            continue
        unconditional = [i for i, v in enumerate(history) if not v.conditional]
        start = unconditional[-1] if unconditional else -1
        base = history[start] if start >= 0 else None
        leaves.append(SecretLeaf(path, history, base, history[start + 1:], view.shadowed(*path, after=base)))
    return leaves


def _committed(path, value) -> str | None:
    """The committed credential in a value, if any (URL passwords included)."""
    text = literal_secret(value)
    if text is None or text.startswith(PUBLIC_PREFIXES) or "public" in path[-1] or "publishable" in path[-1]:
        return None
    if is_url_key(path[-1]):
        credentials = url_password(text)
        password = credentials[0] if credentials else ""
        return password if password and not password.startswith("$") else None
    return text


def _grade(path, value) -> tuple[Severity | None, Confidence | None]:
    """A well-known development default (postgres/postgres on localhost) is a warning; anything
    that looks real keeps the rule's own severity."""
    text = literal_secret(value) or ""
    return (Severity.WARNING, M) if dev_default(path[-1], text) else (None, None)


def _when(conditions) -> str:
    return " and ".join(c.text for c in conditions)


def _name(path) -> str:
    return ".".join(path[1:]) or path[0]


@rule("SEC001", "literal-secret-in-config", Severity.ERROR, H,
      title="A credential is written literally in a config file that reaches prod",
      why="""
      config.exs, prod.exs and runtime.exs are committed and shipped with every release. A literal
      `secret_key_base`, database password or API key there is readable by everyone with the
      repository or the artifact, cannot be rotated without a rebuild, and is the same on every
      environment built from it.
      """,
      fix="""
      Read it at boot in config/runtime.exs: `System.get_env("SECRET_KEY_BASE") || raise "..."`,
      generate a new value with `phoenix-ops secret` and rotate the leaked one.
      """)
def literal_secret_in_config(project):
    for leaf in _secret_leaves(project):
        base = leaf.base
        if leaf.later or base is None or _committed(leaf.path, base) is None:
            continue  # a conditional override is SEC002's: the literal is what is left when it does not apply
        severity, confidence = _grade(leaf.path, base)
        if leaf.shadow is not None:
            yield literal_secret_in_config.finding(
                f"{leaf.name} is a literal in {base.origin.file}; the override at {leaf.shadow.origin} passes "
                f"through code the audit cannot read, so the literal may still be in force",
                where(base), key=leaf.name, severity=severity, confidence=L)
        else:
            yield literal_secret_in_config.finding(f"{leaf.name} is a literal in {base.origin.file}", where(base),
                                                   key=leaf.name, severity=severity, confidence=confidence)
    yield from _cookie_literals(project)


COOKIE_HINT = ("Read RELEASE_COOKIE from the platform's secret store at boot (same value on every node), "
               "and rotate the committed one.")


def _cookie_literals(project):
    env_sh = project.deploy.env_sh
    cookie = env_sh.get("RELEASE_COOKIE") if env_sh else None
    if cookie is not None and cookie.value and not cookie.value.startswith(("$", "<")):
        yield literal_secret_in_config.finding("RELEASE_COOKIE is a literal in rel/env.sh.eex",
                                               Location(path=env_sh.path, line=cookie.line), key="RELEASE_COOKIE",
                                               hint=COOKIE_HINT)
    releases = project.mix.releases
    for _name_, spec in (releases.items if isinstance(releases, KW) else []):
        cookie = spec.get("cookie") if isinstance(spec, KW) else None
        if literal_secret(cookie) is not None:
            yield literal_secret_in_config.finding(f"release {_name_} has a literal Erlang cookie in mix.exs",
                                                   where(cookie, project.mix.file), key=f"cookie:{_name_}",
                                                   hint=COOKIE_HINT)


@rule("SEC002", "committed-secret-fallback", Severity.ERROR, H,
      title="A secret read from the environment falls back to a committed literal",
      why="""
      `System.get_env("SECRET_KEY_BASE") || "..."` works in every environment where the variable is
      forgotten, using a value everybody with the repository knows. The same happens when config.exs
      sets a literal and runtime.exs only overrides it `if` the variable is set: a missing variable
      silently keeps the committed secret.
      """,
      fix="Make the read required: `System.get_env(\"X\") || raise \"X is missing\"` or "
          "`System.fetch_env!(\"X\")`, and delete the committed literal.")
def committed_fallback(project):
    for leaf in _secret_leaves(project):
        current = [leaf.base] if leaf.base is not None and leaf.shadow is None else []
        for value in current + leaf.later:
            for option in alternatives(value):
                yield from _fallback(leaf, option)
        base = leaf.base
        committed = _committed(leaf.path, base) if base is not None and leaf.later else None
        if committed is not None:
            conditions = [c for v in leaf.later for c in v.conditions]
            names = sorted({n for c in conditions for n in c.env_names})
            if names and all(asks_whether_set(c.text) for c in conditions):
                unless = f"{', '.join(names)} is set"
            else:  # `if app in ["all", "web"]` overrides it for other reasons than a variable being there
                unless = _when(conditions) + (f" ({', '.join(names)})" if names else "")
            severity, confidence = _grade(leaf.path, base)
            placeholder = _stand_in(leaf.path, committed)
            if placeholder:
                severity, confidence = Severity.WARNING, M
            yield committed_fallback.finding(
                f"{leaf.name} keeps the {'placeholder' if placeholder else 'literal'} from {base.origin} "
                f"unless {unless}", where(base), key=leaf.name,
                severity=severity, confidence=confidence or (None if names else M))


def _stand_in(path, committed: str) -> bool:
    """A committed value that says it is none (`change_me`, a provider's all-zero test key) is less
    likely a live credential; but secret_key_base with any known value lets anyone forge sessions."""
    return says_placeholder(committed) and path[-1] != "secret_key_base"


def _fallback(leaf: SecretLeaf, value: Value):
    """A committed literal this value may turn out to be: an env read's default, or a branch's literal."""
    path, name = leaf.path, leaf.name
    if isinstance(value, EnvRead) and value.default is not None:
        for default in alternatives(value.default):
            committed = _committed(path, default)
            if committed is None:
                continue
            placeholder = _stand_in(path, committed)
            severity, confidence = _grade(path, default)
            if placeholder:
                severity, confidence = Severity.WARNING, M
            condition = default.conditions or value.conditions
            yield committed_fallback.finding(
                f"{name} falls back to a committed {'placeholder' if placeholder else 'literal'} when "
                f"{value.name} is unset" + (f", if {_when(condition)}" if condition else ""),
                where(value), key=name, severity=severity, confidence=confidence)
    elif value.conditions and _committed(path, value) is not None:
        severity, confidence = _grade(path, value)
        yield committed_fallback.finding(
            f"{name} is the committed literal from {value.origin} when {_when(value.conditions)}", where(value),
            key=name, severity=severity, confidence=confidence)


@rule("SEC003", "secret-generated-at-boot", Severity.ERROR, H,
      title="A secret is generated at boot, so every node and every deploy has its own",
      why="""
      A `secret_key_base` computed with `:crypto.strong_rand_bytes` when config is evaluated differs
      on every node and after every restart: sessions and signed tokens issued by one node are
      rejected by the others, and every deploy logs every user out.
      """,
      fix="Generate one secret (`phoenix-ops secret`), store it in the platform's secret store and read it "
          "with `System.fetch_env!(\"SECRET_KEY_BASE\")`.")
def generated_secret(project):
    for leaf in _secret_leaves(project):
        last = leaf.history[-1]
        if generated_at_boot(last):
            fallback = isinstance(last, EnvRead)
            yield generated_secret.finding(
                f"{leaf.name} falls back to a value generated at boot when {last.name} is unset" if fallback
                else f"{leaf.name} is generated when the config is evaluated", where(last), key=leaf.name)


@rule("SEC004", "secret-key-base-too-short", Severity.ERROR, H,
      title="secret_key_base is shorter than 64 bytes",
      why="Phoenix refuses a secret_key_base under 64 bytes at boot (Plug.Crypto requires it for key derivation).",
      fix="Generate a full-length one with `phoenix-ops secret` (or `mix phx.gen.secret`).")
def short_secret(project):
    for leaf in _secret_leaves(project):
        path, last = leaf.path, leaf.history[-1]
        if path[-1] != "secret_key_base" or (leaf.shadow is not None and not leaf.later):
            continue
        candidates = [last.default] if isinstance(last, EnvRead) and last.default is not None else [last]
        for value in candidates:
            secret = literal_secret(value)
            if secret is not None and len(secret.encode()) < MIN_SECRET_KEY_BASE:
                yield short_secret.finding(f"{_name(path)} is {len(secret.encode())} bytes long",
                                           where(value), key=_name(path))


ENV_FILES = Subject("no .env-style file in the project", lambda project: bool(project.deploy.env_files))
# Outside a git checkout (a tarball, a copy) which files are committed cannot be told.
COMMITS = Subject(present=lambda project: project.tracked is not None,
                  unknown=lambda project: "not a git checkout: which files are committed is unknown")


@rule("SEC005", "committed-env-file", Severity.ERROR, H, subject=ENV_FILES & COMMITS,
      title="A committed .env-style file holds secrets",
      why="Files like `.env` or `prod.env` tracked by git put their secrets in every clone and in the history forever.",
      fix="Remove the file from git (`git rm --cached`), add it to .gitignore, rotate the secrets, and commit "
          "a `.env.example` without values instead (`phoenix-ops env --format dotenv-example`).")
def committed_env_file(project):
    for rel in sorted(project.tracked):
        if rel not in project.deploy.env_files or ENV_FILE_TEMPLATE.search(rel):
            continue
        for e in project.deploy.env_files.get(rel, ([], []))[0]:
            if not SECRET_NAME.search(e.key) or not e.value or e.value.startswith("$") \
                    or (e.key == "DATABASE_URL" and not has_password(e.value)):
                continue
            yield committed_env_file.finding(f"{rel} is tracked by git and sets {e.key}",
                                             Location(path=rel, line=e.line), key=e.key)


def _secret_files(project) -> list[str]:
    return [rel for rel in sorted(project.files.files)
            if rel.startswith(f"{project.config_dir}/") and rel.endswith(".secret.exs")]


# Spares evaluating every environment's config when there is no such file.
SECRETS_FILES = Subject("no config/*.secret.exs file", lambda project: bool(_secret_files(project)))


@rule("SEC006", "orphan-secrets-file", Severity.WARNING, M, subject=SECRETS_FILES,
      title="A secrets config file exists but nothing imports it",
      why="""
      `config/prod.secret.exs` (the pre-1.6 layout) only takes effect when prod.exs imports it. An
      orphan file means the values you think are configured are not, or that it is a leftover full of
      old secrets.
      """,
      fix="Move its settings into config/runtime.exs reading the environment, then delete the file.")
def orphan_secrets_file(project):
    evaluated = {f for env in project.envs for f in project.config(env).files}
    for rel in _secret_files(project):
        if rel not in evaluated:
            yield orphan_secrets_file.finding(f"{rel} is never imported by the {project.env} config",
                                              Location(path=rel, line=1), key=rel)


@rule("SEC007", "secret-read-at-compile-time", Severity.ERROR, H,
      title="A secret is read from the environment at compile time and baked into the release",
      why="""
      config.exs, prod.exs and module attributes are evaluated when the release is built. A secret
      read there (`System.get_env("SECRET_KEY_BASE")`, an API token, a database URL) is copied into
      the compiled artifact: everyone who can read the image or the tarball can read the secret, it
      is the same in every environment built from it, and rotating it needs a rebuild.
      """,
      fix="Read the secret in config/runtime.exs (evaluated at boot) and rotate the value that was baked "
          "into artifacts already built.")
def secret_read_at_compile_time(project):
    reads = [*baked_reads(project), *project.lib_reads]
    for read in reads:
        if read.origin and read.origin.phase == "compile" and secret_env_name(read.name):
            yield secret_read_at_compile_time.finding(
                f"{read.name} is read at compile time in {read.origin.file}: the secret is baked into the release",
                where(read), key=read.name)

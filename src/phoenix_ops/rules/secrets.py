"""SEC: secrets kept out of code, stable across nodes, long enough."""

from __future__ import annotations

import re

from phoenix_ops.elixir.values import KW, EnvRead
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.rule import rule
from phoenix_ops.rules.facts import (
    URL_KEY,
    URL_PASSWORD,
    generated_at_boot,
    is_secret_key,
    literal_secret,
    where,
)

H, M = Confidence.HIGH, Confidence.MEDIUM
MIN_SECRET_KEY_BASE = 64
# Keys that are public by design: Stripe publishable keys, PostHog project keys.
PUBLIC_PREFIXES = ("pk_live_", "pk_test_", "phc_")
ENV_FILE_TEMPLATE = re.compile(r"(example|sample|template|dist|defaults?)$", re.I)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|PRIVATE_KEY|ACCESS_KEY|COOKIE|DATABASE_URL")


def _secret_leaves(project):
    """(path, history) of every config leaf that holds a credential in the audited env, as long as
    nothing unreadable (code building a keyword list) was set over it later."""
    view = project.config()
    for path, history in view.leaves.items():
        if (is_secret_key(path[-1]) or URL_KEY.search(path[-1])) and view.settled(*path) is not None:
            yield path, history


def _committed(path, value) -> str | None:
    """The committed credential in a value, if any (URL passwords included)."""
    text = literal_secret(value)
    if text is None or text.startswith(PUBLIC_PREFIXES) or "public" in path[-1] or "publishable" in path[-1]:
        return None
    if URL_KEY.search(path[-1]):
        m = URL_PASSWORD.match(text)
        return m.group(1) if m and not m.group(1).startswith("$") else None
    return text


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
    for path, history in _secret_leaves(project):
        last = history[-1]
        if _committed(path, last) is not None and not last.conditional:
            yield literal_secret_in_config.finding(
                f"{_name(path)} is a literal in {last.origin.file}", where(last), key=_name(path))
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
    for path, history in _secret_leaves(project):
        last = history[-1]
        if isinstance(last, EnvRead) and last.default is not None and _committed(path, last.default):
            # Sentence-like placeholders ("not a secret") are less likely to be a live credential,
            # but secret_key_base with any known fallback lets anyone forge sessions.
            placeholder = " " in _committed(path, last.default).strip() and path[-1] != "secret_key_base"
            yield committed_fallback.finding(
                f"{_name(path)} falls back to a committed "
                f"{'placeholder' if placeholder else 'literal'} when {last.name} is unset",
                where(last), key=_name(path), severity=Severity.WARNING if placeholder else None,
                confidence=M if placeholder else None)
        elif any(c.env_names for c in last.conditions):  # `if key = System.get_env(...) do config ...`
            earlier = [v for v in history[:-1] if _committed(path, v) is not None and not v.conditional]
            if earlier:
                names = ", ".join(sorted({n for c in last.conditions for n in c.env_names}))
                yield committed_fallback.finding(
                    f"{_name(path)} keeps the literal from {earlier[-1].origin} unless {names} is set",
                    where(earlier[-1]), key=_name(path))


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
    for path, history in _secret_leaves(project):
        if generated_at_boot(history[-1]):
            yield generated_secret.finding(f"{_name(path)} is generated when the config is evaluated",
                                           where(history[-1]), key=_name(path))


@rule("SEC004", "secret-key-base-too-short", Severity.ERROR, H,
      title="secret_key_base is shorter than 64 bytes",
      why="Phoenix refuses a secret_key_base under 64 bytes at boot (Plug.Crypto requires it for key derivation).",
      fix="Generate a full-length one with `phoenix-ops secret` (or `mix phx.gen.secret`).")
def short_secret(project):
    for path, history in _secret_leaves(project):
        if path[-1] != "secret_key_base":
            continue
        last = history[-1]
        candidates = [last.default] if isinstance(last, EnvRead) and last.default is not None else [last]
        for value in candidates:
            secret = literal_secret(value)
            if secret is not None and len(secret.encode()) < MIN_SECRET_KEY_BASE:
                yield short_secret.finding(f"{_name(path)} is {len(secret.encode())} bytes long",
                                           where(value), key=_name(path))


@rule("SEC005", "committed-env-file", Severity.ERROR, H,
      title="A committed .env-style file holds secrets",
      why="Files like `.env` or `prod.env` tracked by git put their secrets in every clone and in the history forever.",
      fix="Remove the file from git (`git rm --cached`), add it to .gitignore, rotate the secrets, and commit "
          "a `.env.example` without values instead (`phoenix-ops env --format dotenv-example`).")
def committed_env_file(project):
    if project.tracked is None:
        return
    for rel in sorted(project.tracked):
        if rel not in project.deploy.env_files or ENV_FILE_TEMPLATE.search(rel):
            continue
        for e in project.deploy.env_files.get(rel, ([], []))[0]:
            if not SECRET_NAME.search(e.key) or not e.value or e.value.startswith("$") \
                    or (e.key == "DATABASE_URL" and not URL_PASSWORD.match(e.value)):
                continue
            yield committed_env_file.finding(f"{rel} is tracked by git and sets {e.key}",
                                             Location(path=rel, line=e.line), key=e.key)


@rule("SEC006", "orphan-secrets-file", Severity.WARNING, M,
      title="A secrets config file exists but nothing imports it",
      why="""
      `config/prod.secret.exs` (the pre-1.6 layout) only takes effect when prod.exs imports it. An
      orphan file means the values you think are configured are not, or that it is a leftover full of
      old secrets.
      """,
      fix="Move its settings into config/runtime.exs reading the environment, then delete the file.")
def orphan_secrets_file(project):
    evaluated = {f for env in project.envs for f in project.config(env).files}
    for rel in sorted(project.files.files):
        if rel.startswith(f"{project.config_dir}/") and rel.endswith(".secret.exs") and rel not in evaluated:
            yield orphan_secrets_file.finding(f"{rel} is never imported by the {project.env} config",
                                              Location(path=rel, line=1), key=rel)

"""`env check`: the variables an env file sets, judged against the contract for one environment."""

from __future__ import annotations

from collections.abc import Iterator

from phoenix_ops.envcontract.contract import Contract, Variable
from phoenix_ops.envcontract.convert import (
    NO_WORDS,
    boolean_problem,
    conversion_problem,
)
from phoenix_ops.envcontract.names import closest, runtime_owned
from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.project.dotenv import Entry, Malformed
from phoenix_ops.record import field, record
from phoenix_ops.rule import rule

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
_H, _M, _L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW

REQUIRED_MISSING = rule(
    "REL050", "env-required-missing", _E, _H, kind="envfile",
    title="A variable the config requires is not set in the env file",
    why="""
        `System.fetch_env!`, `System.get_env("X") || raise` and Dotenvy's `env!` without a default
        stop the release while it boots: the node never starts and the deploy fails its health
        check, or, with a rolling deploy, leaves the old version serving until someone looks.
        A variable required only under a condition (inside `if System.get_env("CLUSTER") == ...`)
        is reported at lower confidence: whether the branch runs depends on other variables.
        A variable read only while compiling is needed where the release is built, not at boot.
    """,
    fix="""
        Set the variable in the environment the release runs with (the env file, `fly secrets set`,
        the Kubernetes Secret), or give it a default in config/runtime.exs if it is truly optional.
        `phoenix-ops env` lists every variable with where it is read.
    """,
)

VALUE_NOT_CONVERTIBLE = rule(
    "REL051", "env-value-not-convertible", _E, _H, kind="envfile",
    title="A value the config converts (String.to_integer, String.to_float) cannot be converted",
    why="""
        `String.to_integer/1` accepts only digits with an optional sign: no spaces, no decimal point,
        no `_` separators, no empty string. `String.to_float/1` also needs a decimal point ("2" fails).
        A value that does not convert raises ArgumentError in runtime.exs and the release does not
        boot. An empty value is a trap: `System.get_env("PORT") || "4000"` keeps the empty string,
        because only a missing variable is nil, so the default is never used.
    """,
    fix="""
        Write the number plainly (`PORT=4000`, `POOL_SIZE=10`), or remove the line to get the
        default the config gives.
    """,
)

BOOLEAN_UNRECOGNISED = rule(
    "REL052", "env-boolean-unrecognised", _W, _M, kind="envfile",
    title="A boolean variable has a value other than true, false, 1 or 0",
    why="""
        Config reads booleans by comparing strings: `System.get_env("ECTO_IPV6") in ~w(true 1)`
        or `== "true"`. Anything else, including `TRUE`, `yes` or `on`, silently reads as false,
        so the setting someone meant to switch on stays off.
    """,
    fix="""
        Use `true` or `false` (or `1` / `0`), lower case. `phoenix-ops env` shows where the
        variable is read, to confirm which words that code accepts.
    """,
)

NAME_TYPO = rule(
    "REL053", "env-name-typo", _W, _M, kind="envfile",
    title="A variable in the env file looks like a misspelling of one the config reads",
    why="""
        The config never reads the misspelt name, so the value is lost: a required variable then
        fails the boot, and an optional one silently falls back to its default (a `DATABSE_URL`
        next to a missing `DATABASE_URL`, a `POOL_SZE` that leaves the pool at 10).
    """,
    fix="""
        Rename the variable to the name the config reads; `phoenix-ops env` lists them all.
    """,
)

SECRET_KEY_BASE_SHORT = rule(
    "REL054", "secret-key-base-short", _E, _H, kind="envfile",
    title="The value for secret_key_base is shorter than 64 bytes",
    why="""
        Phoenix derives the keys that sign and encrypt cookies and tokens from `secret_key_base`,
        and `Plug.Crypto` refuses one shorter than 64 bytes: every request that touches the session
        raises. A short value is also easier to guess.
    """,
    fix="""
        Generate a new one with `phoenix-ops secret` (or `mix phx.gen.secret`) and set it where
        the release reads it. Changing it signs everyone out.
    """,
)

UNKNOWN_VARIABLE = rule(
    "REL055", "env-unknown-variable", _I, _M, kind="envfile",
    title="The env file sets a variable the config never reads",
    why="""
        A variable no code reads is dead weight at best and a misunderstanding at worst: a setting
        someone believes is in effect, or a leftover secret. When the contract is incomplete
        (config that phoenix-ops cannot read), the variable may be read there; confidence is then low.
        Variables read by the runtime itself (MIX_ENV, RELEASE_*, ERL_*, LANG) are not reported.
    """,
    fix="""
        Remove the line, or, if some code reads it in a way phoenix-ops cannot see, ignore it.
    """,
)

FILE_MALFORMED = rule(
    "REL056", "env-file-malformed", _W, _H, kind="envfile",
    title="A line of the env file is not a KEY=value assignment",
    why="""
        Loaders disagree on lines they cannot parse: some skip them, some stop reading the file, so
        the variables after it may be missing in production while they look set in the file. A
        quote that is never closed swallows the lines after it.
    """,
    fix="""
        Write `KEY=value`, `KEY="value with spaces"` or `KEY='literal'`, one per line; start
        comments with `#`.
    """,
)

REQUIRED_EMPTY = rule(
    "REL057", "env-required-empty", _W, _H, kind="envfile",
    title="A required variable is set to an empty string",
    why="""
        An empty variable is not a missing one: `System.get_env("DATABASE_URL") || raise` and
        `System.fetch_env!` both accept "", so the boot check passes and the app fails later, when
        Ecto or the HTTP client tries to use the empty value.
    """,
    fix="""
        Give the variable a value, or remove the line so that the missing value is caught at boot.
    """,
)

CONTRACT_INCOMPLETE = rule(
    "REL058", "env-contract-incomplete", _I, _L, kind="envfile",
    title="The config uses statements phoenix-ops cannot read, so the env contract is incomplete",
    why="""
        Helper macros (`compile_config!(:key)`), Dotenvy's `source!` and other calls the evaluator
        does not model may read variables phoenix-ops cannot see. Missing variables among those are
        not reported, and variables they read may be reported as unknown.
    """,
    fix="""
        Nothing to fix in the env file. Check the listed statements by hand, or read variables
        with `System.get_env`/`System.fetch_env!` directly in config/runtime.exs.
    """,
)

DUPLICATE_KEY = rule(
    "REL059", "env-duplicate-key", _W, _H, kind="envfile",
    title="The same variable is assigned twice in one env file",
    why="""
        Most loaders keep the last assignment, some the first: the value in effect depends on the
        tool that loads the file, and a reader of the file easily sees the wrong one.
    """,
    fix="""
        Keep one assignment per variable.
    """,
)

COMPILE_TIME_ONLY = rule(
    "REL060", "env-compile-time-only", _W, _M, kind="envfile",
    title="A variable read only at compile time is set in a runtime env file",
    why="""
        config/config.exs, config/prod.exs and what they import are evaluated when the release is
        built; their values are baked into it. Setting such a variable where the release runs has
        no effect, so a change (a rotated key, a new host) silently does not happen.
    """,
    fix="""
        Read the variable in config/runtime.exs instead, or set it in the build environment
        (for example as a Docker build argument) and rebuild.
    """,
)

PRESENCE_FLAG_FALSE = rule(
    "REL061", "env-presence-flag-false", _W, _H, kind="envfile",
    title="A variable the config only tests for presence is set to a value that means 'no'",
    why="""
        `if System.get_env("PHX_SERVER") do` is true for any value, "false" and "0" included: only
        an unset variable is nil. Setting PHX_SERVER=false therefore starts the endpoint anyway.
    """,
    fix="""
        Remove the line (or leave the variable unset) to turn the setting off.
    """,
)

HOST_NOT_A_HOSTNAME = rule(
    "REL062", "env-host-not-a-hostname", _W, _H, kind="envfile",
    title="The variable for the endpoint's url host holds a URL, a port or a path",
    why="""
        `url: [host: ...]` takes a bare host name; Phoenix adds the scheme and port from the other
        `url` options. `PHX_HOST=https://example.com` makes every generated URL
        `https://https://example.com`, and the default `check_origin`, which compares WebSocket
        origins with this host, rejects every LiveView and channel connection.
    """,
    fix="""
        Set the host name alone (`PHX_HOST=example.com`); put the scheme and port in `url:`
        (`scheme: "https", port: 443`).
    """,
)


@record
class EnvSet:
    """What a deploy hands the release: the entries of its env files, a later file overriding."""

    files: list[str]
    entries: list[Entry] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)

    def final(self) -> dict[str, Entry]:
        return {e.key: e for e in self.entries}


def check_env(contract: Contract, env: str, env_set: EnvSet) -> list[Finding]:
    findings = [*_file_findings(env_set), *_incomplete(contract)]
    final = env_set.final()
    known = {v.name: v for v in contract.in_env(env)}
    for var in known.values():
        entry = final.get(var.name)
        if entry is None:
            findings.extend(_missing(contract, var, env, env_set))
        elif entry.checkable:
            findings.extend(_value(contract, var, env, entry))
    for entry in final.values():
        if entry.key not in known and not runtime_owned(entry.key):
            findings.append(_unknown(contract, entry, list(known), final))
    return sorted(findings, key=Finding.sort_key)


def _at(entry: Entry | Malformed) -> Location:
    return Location(path=entry.file, line=entry.line)


def _file_findings(env_set: EnvSet) -> Iterator[Finding]:
    for bad in env_set.malformed:
        yield FILE_MALFORMED.finding(f"line {bad.line} is not read: {bad.reason}", _at(bad), key=bad.reason)
    seen: dict[tuple[str, str], Entry] = {}
    for entry in env_set.entries:
        first = seen.setdefault((entry.file, entry.key), entry)
        if first is not entry:
            yield DUPLICATE_KEY.finding(f"{entry.key} is assigned again (first on line {first.line})",
                                          _at(entry), key=entry.key)


def _incomplete(contract: Contract) -> Iterator[Finding]:
    """One finding per config file, at its first unreadable statement."""
    by_file: dict[str, list] = {}
    for op in contract.opaque:
        by_file.setdefault(op.file, []).append(op)
    for file, ops in by_file.items():
        more = f" and {len(ops) - 1} more like it" if len(ops) > 1 else ""
        yield CONTRACT_INCOMPLETE.finding(
            f"`{ops[0].text}`{more} may read env variables phoenix-ops cannot see; the contract is incomplete",
            Location(path=file, line=ops[0].line), key=file)


def _baked(contract: Contract, env: str) -> bool:
    """Whether compile-time config is frozen into a build: releases, except dev and test, which
    Mix evaluates afresh at every start."""
    return contract.release_mode == "release" and env not in ("dev", "test")


def _missing(contract: Contract, var: Variable, env: str, env_set: EnvSet) -> Iterator[Finding]:
    required = [p for p in var.places_in(env) if p.required]
    if not required:
        return
    where = ", ".join(p.where for p in required)
    at = Location(path=env_set.files[0]) if env_set.files else Location()
    if not var.required_in(env):
        when = " and ".join(next(p.when[env] for p in required if p.when[env]))
        yield REQUIRED_MISSING.finding(
            f"{var.name} is not set; it is required in {env} when {when} ({where})", at,
            key=var.name, severity=Severity.WARNING, confidence=Confidence.LOW)
    elif _baked(contract, env) and all(p.phase == "compile" for p in required):
        yield REQUIRED_MISSING.finding(
            f"{var.name} is not set; it is required when the {env} release is built ({where}), "
            "so it belongs to the build environment", at, key=var.name, severity=Severity.WARNING,
            confidence=Confidence.MEDIUM)
    else:
        in_lib = all(p.lib for p in required)
        yield REQUIRED_MISSING.finding(
            f"{var.name} is required in {env} ({where}) but not set" +
            ("; that code raises when it runs" if in_lib else "; the release will not boot"), at, key=var.name,
            confidence=Confidence.MEDIUM if in_lib else None)


def _value(contract: Contract, var: Variable, env: str, entry: Entry) -> Iterator[Finding]:
    value = entry.value or ""
    places = var.places_in(env)
    if var.name in contract.secret_key_base or var.name == "SECRET_KEY_BASE":
        size = len(value.encode())
        if size < 64:
            yield SECRET_KEY_BASE_SHORT.finding(f"{var.name} is {size} bytes long; Phoenix needs at least 64",
                                                  _at(entry), key=var.name)
    elif value == "" and var.required_in(env) and not var.types:
        yield REQUIRED_EMPTY.finding(f"{var.name} is set but empty; the boot-time check lets it through",
                                       _at(entry), key=var.name)
    if var.name in contract.url_host and any(ch in value for ch in ":/ "):
        yield HOST_NOT_A_HOSTNAME.finding(f"{var.name} holds more than a host name (a scheme, port, path or space)",
                                            _at(entry), key=var.name)
    for kind, dotenvy in sorted({(p.convert, p.how == "env!") for p in places if p.convert}):
        read_at = next(p.where for p in places if (p.convert, p.how == "env!") == (kind, dotenvy))
        problem = conversion_problem(kind, value, dotenvy=dotenvy)
        if problem:
            yield VALUE_NOT_CONVERTIBLE.finding(f"{var.name} {problem} (read as {kind} at {read_at})",
                                                  _at(entry), key=var.name)
        elif kind == "boolean" and (problem := boolean_problem(value, dotenvy=dotenvy)):
            yield BOOLEAN_UNRECOGNISED.finding(f"{var.name} {problem} (read at {read_at})", _at(entry),
                                                 key=var.name)
    if var.types == ["presence"] and (value == "" or value.lower() in NO_WORDS):
        yield PRESENCE_FLAG_FALSE.finding(
            f"{var.name} looks like it turns the setting off, but the config only checks that it is set, "
            "so the setting is on", _at(entry), key=var.name)
    if _baked(contract, env) and places and all(p.phase == "compile" for p in places):
        yield COMPILE_TIME_ONLY.finding(
            f"{var.name} is read only at compile time ({', '.join(p.where for p in places)}); "
            "setting it here does not change a built release", _at(entry), key=var.name)


def _unknown(contract: Contract, entry: Entry, known: list[str], final: dict[str, Entry]) -> Finding:
    near = closest(entry.key, known)
    if near:
        hint = f"rename it to {near}" + ("" if near in final else f"; {near} is not set otherwise")
        return NAME_TYPO.finding(f"{entry.key} is not read by the config; did you mean {near}?", _at(entry),
                                   key=entry.key, hint=hint)
    confidence = None if contract.complete else Confidence.LOW
    return UNKNOWN_VARIABLE.finding(f"{entry.key} is not read anywhere phoenix-ops can see", _at(entry),
                                      key=entry.key, confidence=confidence)

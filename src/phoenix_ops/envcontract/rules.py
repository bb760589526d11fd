"""Rules of `phoenix-ops env check`: an env file judged against the project's env contract.

`envcontract.check` builds the findings from these definitions, so that `explain REL050` works.
"""

from __future__ import annotations

from phoenix_ops.findings import Confidence, Severity
from phoenix_ops.rules.registry import define

_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO
_H, _M, _L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW

REQUIRED_MISSING = define(
    "REL050", "env-required-missing", _E, _H,
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

VALUE_NOT_CONVERTIBLE = define(
    "REL051", "env-value-not-convertible", _E, _H,
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

BOOLEAN_UNRECOGNISED = define(
    "REL052", "env-boolean-unrecognised", _W, _M,
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

NAME_TYPO = define(
    "REL053", "env-name-typo", _W, _M,
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

SECRET_KEY_BASE_SHORT = define(
    "REL054", "secret-key-base-short", _E, _H,
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

UNKNOWN_VARIABLE = define(
    "REL055", "env-unknown-variable", _I, _M,
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

FILE_MALFORMED = define(
    "REL056", "env-file-malformed", _W, _H,
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

REQUIRED_EMPTY = define(
    "REL057", "env-required-empty", _W, _H,
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

CONTRACT_INCOMPLETE = define(
    "REL058", "env-contract-incomplete", _I, _L,
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

DUPLICATE_KEY = define(
    "REL059", "env-duplicate-key", _W, _H,
    title="The same variable is assigned twice in one env file",
    why="""
        Most loaders keep the last assignment, some the first: the value in effect depends on the
        tool that loads the file, and a reader of the file easily sees the wrong one.
    """,
    fix="""
        Keep one assignment per variable.
    """,
)

COMPILE_TIME_ONLY = define(
    "REL060", "env-compile-time-only", _W, _M,
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

PRESENCE_FLAG_FALSE = define(
    "REL061", "env-presence-flag-false", _W, _H,
    title="A variable the config only tests for presence is set to a value that means 'no'",
    why="""
        `if System.get_env("PHX_SERVER") do` is true for any value, "false" and "0" included: only
        an unset variable is nil. Setting PHX_SERVER=false therefore starts the endpoint anyway.
    """,
    fix="""
        Remove the line (or leave the variable unset) to turn the setting off.
    """,
)

HOST_NOT_A_HOSTNAME = define(
    "REL062", "env-host-not-a-hostname", _W, _H,
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

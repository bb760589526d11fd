"""Rules about the audit's own inputs: suppression comments and `.phoenix-ops.toml`.

Nothing here inspects the Phoenix application; these findings come from `suppressions` and
`settings`, which build them from the rules below so that `phoenix-ops explain OPS013` works.
"""

from __future__ import annotations

from phoenix_ops.findings import Confidence, Severity
from phoenix_ops.rules.registry import define

_W, _H = Severity.WARNING, Confidence.HIGH
# Indented like the pages below, so that dedenting them keeps it a code block.
_SYNTAX = """
            # phoenix-ops:ignore WEB003 -- HSTS is set by the load balancer
            # phoenix-ops:ignore WEB003, SEC001 -- reason (several ids)
            # phoenix-ops:ignore-file MIG001 -- reason (the whole file)
"""

SUPPRESSION_MALFORMED = define(
    "OPS010", "suppression-malformed", _W, _H,
    title="A `phoenix-ops:` comment that cannot be read as a suppression",
    why="""
        A suppression comment that phoenix-ops cannot read silences nothing, while the person who
        wrote it believes the finding is handled. Typical causes: a misspelt directive
        (`phoenix-ops:ingore`), no rule id, ids separated by spaces instead of commas, a directive
        written at the end of a line of code, or nothing after the comment to apply to.
    """,
    fix=f"""
        Write the directive on its own line, directly above the expression it covers:
        {_SYNTAX}
        `ignore` covers the whole expression that starts on the next line of code (every line of
        it); `ignore-file` covers the whole file, wherever it stands.
    """,
)

SUPPRESSION_WITHOUT_REASON = define(
    "OPS011", "suppression-without-reason", _W, _H,
    title="A suppression comment without a reason after `--`",
    why="""
        A finding silenced without a reason cannot be reviewed later: nobody knows whether it was
        judged harmless or just in the way. phoenix-ops therefore applies no suppression that lacks
        a reason, and the finding it meant to hide stays visible.
    """,
    fix=f"""
        Add the reason after two dashes:
        {_SYNTAX}
    """,
)

SUPPRESSION_UNKNOWN_RULE = define(
    "OPS012", "suppression-unknown-rule", _W, _H,
    title="A suppression comment names a rule that `check` never reports",
    why="""
        An id that is misspelt, belongs to a rule that no longer exists, or names a live rule (the
        `probe` and `cluster` rules judge running systems, not source lines) silences nothing. Nor
        can a comment silence OPS010-OPS013, the findings about suppression comments themselves.
    """,
    fix="""
        Use the id printed next to the finding; `phoenix-ops rules` lists every rule and its kind.
    """,
)

SUPPRESSION_UNUSED = define(
    "OPS013", "suppression-unused", _W, _H,
    title="A suppression comment that matched no finding",
    why="""
        Once the code it excused is fixed or moved, a stale suppression silently waits to hide the
        next, unrelated finding of that rule at the same place. Only rules that ran are judged:
        a suppression for a rule skipped with `--select`, `--ignore` or a disable in
        `.phoenix-ops.toml` is not reported.
    """,
    fix="""
        Delete the comment, or move it above the expression that really holds the finding.
    """,
)

SETTINGS_INVALID = define(
    "OPS014", "settings-invalid", _W, _H,
    title="`.phoenix-ops.toml` holds an unknown key or a value of the wrong kind",
    why="""
        A misspelt key (`exlude`) is otherwise ignored without a word, so the audit runs with
        settings other than the ones the team believes it wrote. The entry is ignored and reported.
        A file that is not valid TOML at all stops `check` with exit code 2 instead: running with
        none of the intended settings would give a misleading verdict.
    """,
    fix="""
        Use only the known keys:

            exclude = ["lib/legacy/**", "priv/repo/seeds.exs"]   # globs; findings there are dropped
            start-after = "20240101000000"                      # migrations up to it are history

            [rules.SEC005]
            disable = true
            reason = "secrets come from Vault, checked elsewhere"

            [rules.OBS002]
            severity = "info"                                   # error, warning or info
            reason = "metrics are optional for this internal tool"

        In globs `*` stays within one directory, `**` crosses directories, and a pattern naming a
        directory covers everything below it.
    """,
)

SETTINGS_WITHOUT_REASON = define(
    "OPS015", "settings-change-without-reason", _W, _H,
    title="A rule is disabled or re-graded in `.phoenix-ops.toml` without a reason",
    why="""
        Turning a rule off, or lowering its severity, weakens the gate for everyone who runs the
        audit on this repository. Without a written reason a reviewer cannot tell a considered
        decision from a quick way to make CI green, so phoenix-ops keeps the rule as it was.
    """,
    fix="""
        Add `reason = "..."` to the rule's table, next to `disable` or `severity`.
    """,
)

SETTINGS_FAIL_LEVEL = define(
    "OPS016", "settings-fail-level", _W, _H,
    title="`.phoenix-ops.toml` tries to set the fail level",
    why="""
        The fail level decides whether `check` fails the build. If a committed file could set it,
        any change could open the gate by editing that file alongside the code. The level is
        therefore taken from the command line only, and this key is ignored.
    """,
    fix="""
        Remove `fail-level` from the file and pass `--fail-level error|warning|info` in the CI job.
    """,
)

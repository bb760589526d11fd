"""`.phoenix-ops.toml`: the project's committed settings for `check`, beside mix.exs.

    exclude = ["lib/legacy/**"]          findings in these paths are dropped
    start-after = "20240101000000"       migrations up to this version are history
    [rules.SEC005]
    disable = true                       or: severity = "info"
    reason = "..."                       required for either

Mistakes in the file (unknown keys, wrong types, a change without a reason, `fail-level`) are
findings and the entry is ignored, so a typo never crashes the audit nor silently weakens it.
A file that is not TOML at all raises SettingsError (exit 2): none of the intended settings could
be applied, and a verdict reached without them would mislead.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.patterns import lazy
from phoenix_ops.reading import read_text
from phoenix_ops.record import field, record
from phoenix_ops.rule import rule

_W, _H = Severity.WARNING, Confidence.HIGH

SETTINGS_INVALID = rule(
    "OPS014", "settings-invalid", _W, _H, kind="audit",
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

SETTINGS_WITHOUT_REASON = rule(
    "OPS015", "settings-change-without-reason", _W, _H, kind="audit",
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

SETTINGS_FAIL_LEVEL = rule(
    "OPS016", "settings-fail-level", _W, _H, kind="audit",
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


FILE_NAME = ".phoenix-ops.toml"
_RULE_KEYS = {"disable", "severity", "reason"}
_VERSION = lazy(r"^\d+$")


class SettingsError(ValueError):
    """The settings file cannot be read at all."""


@record
class Settings:
    exclude: list[str] = field(default_factory=list)
    start_after: str | None = None  # a migration version, as digits
    disabled: dict[str, str] = field(default_factory=dict)  # rule id -> reason
    severity: dict[str, Severity] = field(default_factory=dict)  # rule id -> new severity
    findings: list[Finding] = field(default_factory=list)  # mistakes found in the file
    _patterns: list[PathGlob] = field(default_factory=list, repr=False)

    def excluded(self, path: str | None) -> bool:
        """Whether findings at `path` are dropped; the settings file itself is never excluded."""
        if not path or path == FILE_NAME:
            return False
        return any(p.match(path) for p in self._patterns)

    def apply_severity(self, finding: Finding) -> None:
        if finding.rule_id in self.severity:
            finding.severity = self.severity[finding.rule_id]


def load_settings(root: Path, known: Collection[str]) -> Settings:
    """Read `root/.phoenix-ops.toml` (absent means defaults); `known` are the valid rule ids."""
    path = root / FILE_NAME
    if not path.is_file():
        return Settings()
    try:
        text = read_text(path)
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    import tomllib  # most projects have no settings file: no TOML parser on their start-up

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    return _Reader(text, known).read(doc)


class _Reader:
    def __init__(self, text: str, known: Collection[str]):
        self.lines = text.splitlines()
        self.known = known
        self.out = Settings()

    def read(self, doc: dict) -> Settings:
        for key, value in doc.items():
            if key == "exclude":
                self._exclude(value)
            elif key == "start-after":
                self._start_after(value)
            elif key == "rules":
                self._rules(value)
            elif key == "deploy":
                pass  # the deploy plan: read and checked by `phoenix-ops deploy`
            elif key == "fail-level":
                self.out.findings.append(SETTINGS_FAIL_LEVEL.finding(
                    "`fail-level` in the settings file is ignored: only --fail-level on the command line "
                    "sets it", self._where(key), key=key))
            else:
                self._invalid(key, f"unknown key `{key}` (known: exclude, start-after, [rules.ID], [deploy])")
        return self.out

    def _exclude(self, value) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            return self._invalid("exclude", "`exclude` must be a list of path globs (strings)")
        self.out.exclude = value
        self.out._patterns = [PathGlob(v) for v in value]

    def _start_after(self, value) -> None:
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not _VERSION.match(text):
            return self._invalid("start-after", "`start-after` must be a migration version such as "
                                                "\"20240101000000\"")
        self.out.start_after = text

    def _rules(self, value) -> None:
        if not isinstance(value, dict):
            return self._invalid("rules", "`rules` must be a table of [rules.ID] tables")
        for rule_id, entry in value.items():
            self._rule(rule_id, entry)

    def _rule(self, rule_id: str, entry) -> None:
        where = f"rules.{rule_id}"
        if rule_id not in self.known:
            return self._invalid(where, f"[{where}] names no rule that `check` runs")
        if not isinstance(entry, dict):
            return self._invalid(where, f"[{where}] must be a table with disable, severity and reason")
        for key in entry.keys() - _RULE_KEYS:
            self._invalid(where, f"unknown key `{key}` in [{where}] (known: disable, severity, reason)")
        reason = entry.get("reason", "")
        disable, severity = entry.get("disable", False), entry.get("severity")
        if not isinstance(reason, str) or not isinstance(disable, bool):
            return self._invalid(where, f"[{where}]: `disable` must be true or false and `reason` a string")
        if severity is not None:
            try:
                severity = Severity.parse(severity if isinstance(severity, str) else repr(severity))
            except ValueError as exc:
                return self._invalid(where, f"[{where}]: {exc}")
        if not (disable or severity):
            return
        if not reason.strip():
            change = "disables" if disable else "changes the severity of"
            self.out.findings.append(SETTINGS_WITHOUT_REASON.finding(
                f"[{where}] {change} {rule_id} without a reason; the rule stays as it was",
                self._where(where), key=rule_id))
        elif disable:
            self.out.disabled[rule_id] = reason.strip()
        else:
            self.out.severity[rule_id] = severity

    def _invalid(self, key: str, message: str) -> None:
        self.out.findings.append(SETTINGS_INVALID.finding(message + "; ignored", self._where(key), key=key))

    def _where(self, key: str) -> Location:
        """The line that sets `key` (a top-level key or a `rules.ID` table), when it can be found."""
        name = re.escape(key.rpartition(".")[2])
        head = re.compile(rf"^\s*(\[\s*{re.escape(key)}\s*\]|{name}\s*=)")
        for number, line in enumerate(self.lines, 1):
            if head.match(line):
                return Location(path=FILE_NAME, line=number)
        return Location(path=FILE_NAME)


class PathGlob:
    """A path glob: `*` and `?` stay within a directory, `**` spans directories, and a pattern that
    names a directory also matches everything below it.

    Matched without a regex engine, by the two-pointer wildcard walk (back to the last star only),
    so a pattern of many stars costs a product of lengths at worst, never exponential backtracking.
    """

    def __init__(self, pattern: str):
        self.parts = [p for p in pattern.strip().strip("/").split("/")] + ["**"]  # "**": everything below

    def match(self, path: str) -> bool:
        return _wild(self.parts, path.split("/"), lambda pat, seg: pat == "**", _name_matches)


def _name_matches(pattern: str, name: str) -> bool:
    return pattern != "**" and _wild(pattern, name, lambda p, _: p == "*", lambda p, c: p == "?" or p == c)


def _wild(pattern, items, is_star, matches) -> bool:
    """Whether `items` match `pattern`, where a star matches any run of items and other elements one each."""
    i = j = 0
    star, mark = -1, 0
    while j < len(items):
        if i < len(pattern) and is_star(pattern[i], items[j]):
            star, mark = i, j
            i += 1
        elif i < len(pattern) and matches(pattern[i], items[j]):
            i += 1
            j += 1
        elif star >= 0:
            i, mark = star + 1, mark + 1
            j = mark
        else:
            return False
    while i < len(pattern) and is_star(pattern[i], None):
        i += 1
    return i == len(pattern)

"""The `check` pipeline: load the project once, run every selected static rule, filter, gate.

Order matters: settings decide which rules run; suppression comments are matched before the
confidence filter (a comment excusing a hidden finding is not unused); the baseline is written
from, or applied to, what the comments left; the gate counts only what is still shown.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from phoenix_ops.check.settings import Settings, load_settings
from phoenix_ops.check.suppressions import apply_suppressions
from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.record import field, record
from phoenix_ops.rule import Rule, rule, standings
from phoenix_ops.rules.budgets import shutdown_rows

if TYPE_CHECKING:
    from phoenix_ops.catalog import Catalog

# Made by the audit itself when another rule raises, so it has no check of its own.
RULE_FAILED = rule(
    "OPS004", "rule-failed", Severity.WARNING, Confidence.HIGH, kind="audit",
    title="A rule stopped on something it did not expect; its findings are missing",
    why="The rest of the audit ran, but this rule's subject was not checked: treat its area as unknown.",
    fix="Report the message with the shape of the code it names; meanwhile review that area by hand.")


@record
class CheckOptions:
    env: str = "prod"
    min_confidence: Confidence = Confidence.LOW
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    baseline: Path | None = None
    write_baseline: Path | None = None

    @classmethod
    def build(cls, *, env: str = "prod", min_confidence: str = "low",
              select: str | None = None, ignore: str | None = None, baseline: Path | None = None,
              write_baseline: Path | None = None, rules: Catalog | None = None) -> CheckOptions:
        """Options from the command line; --select/--ignore entries are checked against `rules`."""
        return cls(env=env, min_confidence=Confidence.parse(min_confidence),
                   select=_patterns("--select", select, rules), ignore=_patterns("--ignore", ignore, rules),
                   baseline=baseline, write_baseline=write_baseline)

    def wants(self, rule_id: str, settings: Settings) -> bool:
        """Whether findings of `rule_id` belong in this run (--select, --ignore, disables)."""
        if self.select and not _matches(rule_id, self.select):
            return False
        return not _matches(rule_id, self.ignore) and rule_id not in settings.disabled


def _patterns(option: str, text: str | None, rules: Catalog | None) -> list[str]:
    """Rule ids, id prefixes (SEC, REL00) or rule names, as id patterns; an entry that matches no
    rule is a mistake to report, not a filter that silently selects nothing."""
    out = []
    for part in (p.strip() for p in (text or "").split(",")):
        if not part:
            continue
        if rules is None:
            out.append(part.upper())
            continue
        named = rules.find(part)
        if named is not None:
            out.append(named.id)
        elif any(rule_id.startswith(part.upper()) for rule_id in rules.ids()):
            out.append(part.upper())
        else:
            raise ValueError(f"{option} {part}: no rule id, prefix or name matches{rules.suggest(part)}")
    return out


def _matches(rule_id: str, patterns: list[str]) -> bool:
    return any(rule_id.startswith(p) for p in patterns)


@record
class CheckResult:
    findings: list[Finding]
    summary: dict
    root: Path  # the project's directory, as reached from the path given
    not_run: dict[str, str] = field(default_factory=dict)  # rule id -> why it did not run
    not_applicable: dict[str, str] = field(default_factory=dict)  # rule id -> the subject the project lacks
    not_determined: dict[str, str] = field(default_factory=dict)  # rule id -> why the files cannot tell
    shutdown: list[dict] = field(default_factory=list)  # one row per deploy target: how it stops the BEAM
    hint: str = ""  # how to leave out long-applied migrations, when most MIG findings come from them


def run_check(path: Path, opts: CheckOptions, rules: Iterable[Rule]) -> CheckResult:
    """Audit the project at `path` with `rules` (the static and audit rules of the catalog)."""
    from phoenix_ops.project import load_project

    # A bad baseline is a usage error: say so before the (slower) audit runs. Writing a baseline
    # records everything found now, so an old one given alongside is not applied.
    baselined = None
    if opts.baseline and not opts.write_baseline:
        from phoenix_ops.check.baseline import (
            load_baseline,  # (most runs use no baseline)
        )
        baselined = load_baseline(opts.baseline)
    if gc.get_freeze_count():  # the entry point froze what start-up made (cli.main): so with check's imports
        gc.freeze()
    project = load_project(path, env=opts.env)
    rules = list(rules)
    known = {r.id for r in rules}
    settings = load_settings(project.root, known)
    ran = {r.id for r in rules if opts.wants(r.id, settings)}

    findings: list[Finding] = list(settings.findings)
    not_applicable: dict[str, str] = {}
    not_determined: dict[str, str] = {}
    for r in rules:
        if r.check is not None and r.id in ran:
            findings.extend(_run_rule(r, project, not_applicable, not_determined))
    if project.deploy.present:
        findings.extend(_target_env(project))
    if settings.start_after:
        findings = [f for f in findings if not _before(f, settings.start_after)]
    findings = [f for f in findings if opts.wants(f.rule_id, settings) and not settings.excluded(f.location.path)]

    sources = [s for s in project.files.under("") if not settings.excluded(s.path)]
    directive_findings = apply_suppressions(findings, sources, known, ran)
    findings += [f for f in directive_findings if opts.wants(f.rule_id, settings)]

    if opts.write_baseline:
        from phoenix_ops.check.baseline import write_baseline
        write_baseline(opts.write_baseline, [f for f in findings if not f.suppressed])
    elif baselined is not None:
        from phoenix_ops.check.baseline import apply_baseline
        apply_baseline(findings, baselined)

    findings = [f for f in findings if f.confidence >= opts.min_confidence]
    for f in findings:
        settings.apply_severity(f)
    findings.sort(key=Finding.sort_key)
    not_run = {r.id: _why_not(r.id, opts, settings) for r in rules if r.id not in ran}
    hint = "" if settings.start_after else start_after_hint(findings, project)
    return CheckResult(findings, {**project.summary(), "disabled_rules": settings.disabled}, project.root, not_run,
                       not_applicable, not_determined, shutdown_rows(project) if project.deploy.present else [], hint)


def _target_env(project) -> list[Finding]:
    """The env contract checked on each deploy target (the env-file rules, named per target)."""
    from phoenix_ops.envcontract.contract import build_contract
    from phoenix_ops.envcontract.targets import targets_findings

    return targets_findings(project, build_contract(project, [project.env]), project.env)


def _before(finding: Finding, version: str) -> bool:
    """A migration finding in a migration up to `start-after`: history, not reported."""
    found = _version(finding)
    return found is not None and int(found) <= int(version)


def _version(finding: Finding) -> str | None:
    """The version of the migration a MIG finding is in (the digits its file name starts with)."""
    digits = (finding.location.path or "").rsplit("/", 1)[-1].split("_", 1)[0]
    return digits if finding.rule_id.startswith("MIG") and digits.isdigit() else None


HISTORY_FINDINGS = 10  # fewer findings in such migrations than this are read, not hinted away


def _day(version: str) -> int | None:
    """The day a migration version (`YYYYMMDDhhmmss`) stamps, as the number YYYYMMDD; None when the
    version is no timestamp. Numbers 10000 apart are the same day a year apart."""
    if len(version) < 14 or not version[:14].isdigit():
        return None
    day = int(version[:8])
    return day if 1 <= day // 100 % 100 <= 12 and 1 <= day % 100 <= 31 else None


def start_after_hint(findings: list[Finding], project) -> str:
    """When most shown MIG findings (and at least HISTORY_FINDINGS) are in migrations more than a
    year older than the newest one, the line that says how `start-after` leaves them out; else ''.
    Nothing is hidden until the team sets it."""
    versions = [v for f in findings if not f.suppressed and (v := _version(f))]
    if len(versions) < HISTORY_FINDINGS:
        return ""
    stamps = {m.version: _day(m.version) for m in project.migrations}
    newest = max(((s, v) for v, s in stamps.items() if s), default=None)
    if newest is None:
        return ""
    cutoff = newest[0] - 10000
    old = [v for v in versions if (s := stamps.get(v) or _day(v)) and s < cutoff]
    if len(old) < HISTORY_FINDINGS or 2 * len(old) < len(versions):
        return ""
    last_old = max(v for v, s in stamps.items() if s and s < cutoff)
    return (f"{len(old)} of {len(versions)} migration findings are in migrations more than a year older "
            f"than the newest ({newest[1]}); if those ran long ago, `start-after = \"{last_old}\"` in "
            f".phoenix-ops.toml leaves them out")


def _why_not(rule_id: str, opts: CheckOptions, settings: Settings) -> str:
    if opts.select and not _matches(rule_id, opts.select):
        return "not selected by --select"
    if _matches(rule_id, opts.ignore):
        return "left out by --ignore"
    return f"disabled in .phoenix-ops.toml: {settings.disabled.get(rule_id, '')}".rstrip(": ")


def _run_rule(rule, project, not_applicable: dict[str, str], not_determined: dict[str, str]) -> list[Finding]:
    """A rule that trips over an unexpected shape costs its own findings, not the whole audit.
    A rule whose subject the project lacks is noted in `not_applicable`, one whose subject the files
    cannot tell in `not_determined`, with why."""
    try:
        judged = standings([rule], [project])
        if any(judged.values()):
            not_applicable.update(judged["not_applicable"])
            not_determined.update(judged["not_determined"])
            return []
        return list(rule.check(project))
    except Exception as exc:  # noqa: BLE001 - reported as a finding, with the rule and the error
        return [RULE_FAILED.finding(f"{rule.id} stopped on {type(exc).__name__}: {exc}",
                                    Location(path=project.mix.file, line=1), key=rule.id)]

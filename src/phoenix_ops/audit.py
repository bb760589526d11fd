"""The `check` pipeline: load the project once, run every selected static rule, filter, gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from phoenix_ops.findings import Confidence, Finding, Severity


@dataclass
class CheckOptions:
    env: str = "prod"
    fail_level: Severity = Severity.WARNING
    min_confidence: Confidence = Confidence.LOW
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    baseline: Path | None = None
    write_baseline: Path | None = None

    @classmethod
    def build(cls, *, env: str, fail_level: str, min_confidence: str, select: str | None,
              ignore: str | None, baseline: Path | None, write_baseline: Path | None, fmt: str) -> "CheckOptions":
        from phoenix_ops.report import FORMATS
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
        return cls(env=env, fail_level=Severity.parse(fail_level), min_confidence=Confidence.parse(min_confidence),
                   select=_ids(select), ignore=_ids(ignore), baseline=baseline, write_baseline=write_baseline)


def _ids(text: str | None) -> list[str]:
    return [part.strip().upper() for part in (text or "").split(",") if part.strip()]


def _matches(rule_id: str, patterns: list[str]) -> bool:
    return any(rule_id.startswith(p) for p in patterns)


@dataclass
class CheckResult:
    findings: list[Finding]
    exit_code: int
    summary: dict


def run_check(path: Path, opts: CheckOptions) -> CheckResult:
    from phoenix_ops.project import load_project
    from phoenix_ops.rules import static_rules

    project = load_project(path, env=opts.env)
    findings: list[Finding] = list(project.diagnostics)
    for rule in static_rules():
        if opts.select and not _matches(rule.id, opts.select):
            continue
        if _matches(rule.id, opts.ignore):
            continue
        findings.extend(rule.check(project))
    findings = [f for f in findings if f.confidence >= opts.min_confidence]
    findings.sort(key=Finding.sort_key)
    gate = any(f.severity >= opts.fail_level for f in findings if not f.suppressed)
    return CheckResult(findings, 1 if gate else 0, project.summary())

"""The rule registry: every rule, static or live, with its id, defaults and explain page."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from phoenix_ops.findings import Confidence, Finding, Location, Severity

AREAS = {
    "REL": "releases & runtime config",
    "SEC": "secrets",
    "CLU": "clustering, PubSub, Presence",
    "OBS": "telemetry, logging, metrics",
    "WEB": "HTTP & network hardening",
    "AST": "assets & static delivery",
    "JOB": "background jobs",
    "DEP": "deployment files & patterns",
    "MIG": "migrations",
    "HLT": "health & readiness",
    "OPS": "the audit itself: unparsable files, suppressions, settings",
}
KINDS = ("static", "probe", "cluster")
_ID = re.compile(r"^([A-Z]{3})(\d{3})$")


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    confidence: Confidence
    title: str  # one line: what the rule finds
    why: str  # why it matters in production
    fix: str  # how to fix it
    kind: str = "static"
    check: Callable[..., Iterable[Finding]] | None = None

    @property
    def area(self) -> str:
        return self.id[:3]

    def finding(
        self,
        message: str,
        location: Location,
        *,
        hint: str | None = None,
        key: str = "",
        severity: Severity | None = None,
        confidence: Confidence | None = None,
    ) -> Finding:
        return Finding(
            rule_id=self.id,
            name=self.name,
            severity=severity or self.severity,
            confidence=confidence or self.confidence,
            message=message,
            hint=" ".join(self.fix.split("\n\n")[0].split()) if hint is None else hint,
            location=location,
            key=key,
        )


RULES: dict[str, Rule] = {}


def _check_id(rule_id: str, kind: str) -> None:
    m = _ID.match(rule_id)
    if not m or m.group(1) not in AREAS:
        raise ValueError(f"bad rule id {rule_id!r}")
    number = int(m.group(2))
    expected = {"static": range(1, 100), "probe": range(100, 150), "cluster": range(150, 200)}[kind]
    if number not in expected:
        raise ValueError(f"{rule_id}: {kind} rules use numbers {expected.start}-{expected.stop - 1}")
    if rule_id in RULES:
        raise ValueError(f"duplicate rule id {rule_id}")


def define(rule_id: str, name: str, severity: Severity, confidence: Confidence, *,
           title: str, why: str, fix: str, kind: str = "static",
           check: Callable[..., Iterable[Finding]] | None = None) -> Rule:
    """Register a rule; live checks (probe, cluster) call this and build findings from it."""
    _check_id(rule_id, kind)
    r = Rule(rule_id, name, severity, confidence, title.strip(), _dedent(why), _dedent(fix), kind, check)
    RULES[rule_id] = r
    return r


def rule(rule_id: str, name: str, severity: Severity, confidence: Confidence, *,
         title: str, why: str, fix: str):
    """Decorator for a static rule: a function taking the Project and yielding Findings."""
    def wrap(fn: Callable[..., Iterable[Finding]]) -> Rule:
        return define(rule_id, name, severity, confidence, title=title, why=why, fix=fix, check=fn)
    return wrap


def _dedent(text: str) -> str:
    import textwrap
    return textwrap.dedent(text).strip()

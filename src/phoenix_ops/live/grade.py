"""Check 12: one letter per target from its findings; the scheme is WEB149's explain page."""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_ops.findings import Finding, Severity
from phoenix_ops.live import rules as R

COST = {Severity.ERROR: 15, Severity.WARNING: 5, Severity.INFO: 0}
LETTERS = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))
ORDER = ("A+", "A", "B", "C", "D", "F")


def grade(findings: Sequence[Finding], facts: dict) -> tuple[str, int]:
    """(letter, points) for one target."""
    worst: dict[str, Severity] = {}
    for f in findings:
        if f.rule_id != R.GRADE.id and not f.suppressed:
            worst[f.rule_id] = max(worst.get(f.rule_id, Severity.INFO), f.severity)
    score = max(0, 100 - sum(COST[s] for s in worst.values()))
    letter = next((name for floor, name in LETTERS if score >= floor), "F")
    if score == 100 and (facts.get("hsts_max_age") or 0) >= 31536000 and facts.get("csp_strong"):
        letter = "A+"
    errors = {rid for rid, s in worst.items() if s is Severity.ERROR}
    if errors & R.GRADE_CAPS_F:
        letter = "F"
    elif errors:
        letter = worst_of(letter, "C")
    return letter, score


def worst_of(*letters: str) -> str:
    return max(letters, key=ORDER.index)

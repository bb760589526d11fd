"""Check 12: one letter per target from its findings; the scheme is WEB149's explain page."""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.live.context import UNREACHABLE
from phoenix_ops.live.cors import CORS_REFLECTED
from phoenix_ops.live.exposure import DASHBOARD, DEV_SURFACE
from phoenix_ops.live.redirects import REDIRECT_LOOP
from phoenix_ops.live.socket import WS_FOREIGN_ORIGIN
from phoenix_ops.live.tls import TLS_CERT_INVALID
from phoenix_ops.rule import rule

GRADE = rule(
    "WEB149", "probe-grade", Severity.INFO, Confidence.HIGH, kind="probe", informational=True,
    title="The probe's grade for a target (scheme documented here)",
    why="""
    One letter summarises the audit so trends are visible across deploys. Scheme: start at 100;
    every error finding costs 15 points, every warning 5, info findings nothing (findings of the
    same rule count once per target). A+ needs 100 points plus HSTS of one year and a CSP without
    findings; A >= 90, B >= 80, C >= 70, D >= 60, F below. Caps: an unreachable target, an invalid
    certificate, an exposed dev surface or dashboard, a foreign-origin WebSocket, credentialed CORS
    reflection or a redirect loop cap the grade at F; any other error caps it at C. A target whose
    page could not be fetched at all gets no grade: it is reported unreachable.
    """,
    fix="""
    Fix the findings listed for the target, errors first.

    This finding is information: it states the grade and the points, and never sets the exit code.
    """,
)


COST = {Severity.ERROR: 15, Severity.WARNING: 5, Severity.INFO: 0}
LETTERS = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))
ORDER = ("A+", "A", "B", "C", "D", "F")


# Findings that make a target fail outright: see GRADE.
GRADE_CAPS_F = {UNREACHABLE.id, TLS_CERT_INVALID.id, DEV_SURFACE.id, DASHBOARD.id, WS_FOREIGN_ORIGIN.id,
                CORS_REFLECTED.id, REDIRECT_LOOP.id}

def grade(findings: Sequence[Finding], facts: dict) -> tuple[str, int]:
    """(letter, points) for one target."""
    worst: dict[str, Severity] = {}
    for f in findings:
        if f.rule_id != GRADE.id and not f.suppressed:
            worst[f.rule_id] = max(worst.get(f.rule_id, Severity.INFO), f.severity)
    score = max(0, 100 - sum(COST[s] for s in worst.values()))
    letter = next((name for floor, name in LETTERS if score >= floor), "F")
    if score == 100 and (facts.get("hsts_max_age") or 0) >= 31536000 and facts.get("csp_strong"):
        letter = "A+"
    errors = {rid for rid, s in worst.items() if s is Severity.ERROR}
    if errors & GRADE_CAPS_F:
        letter = "F"
    elif errors:
        letter = worst_of(letter, "C")
    return letter, score


def worst_of(*letters: str) -> str:
    """The worst grade; targets without one (unreachable) are left out, "" when none has one."""
    graded = [g for g in letters if g]
    return max(graded, key=ORDER.index) if graded else ""


def grade_label(letter: str, score: int) -> str:
    return f"grade {letter} ({score}/100)" if letter else "no grade: the target is unreachable"

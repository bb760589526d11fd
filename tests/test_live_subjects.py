"""A live rule whose check can give up before judging (no members answered, no series scraped) must
say so through its subject, so the checklist shows "not applicable" or "not determined" instead of
a pass for what was never looked at."""

from __future__ import annotations

import ast
import inspect
import textwrap

from phoenix_ops.catalog import catalog
from phoenix_ops.findings import Confidence, Severity
from phoenix_ops.rule import Subject, rule

LIVE = ("probe", "cluster", "jobs", "metrics", "release", "deploy")


def gives_up_early(check) -> bool:
    """Whether the check's body leaves on a guard (`if ...: return`) before it yields anything."""
    body = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(check)))).body[0].body
    for statement in body:
        if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(statement)):
            return False
        if isinstance(statement, ast.If) and any(isinstance(n, ast.Return) for n in ast.walk(statement)):
            return True
    return False


def test_no_live_rule_passes_what_its_check_gave_up_on():
    silent = [r.id for r in catalog(*LIVE)
              if r.check is not None and r.subject is None and gives_up_early(r.check)]
    assert silent == [], f"declare a subject for {silent}: their checks return before judging"


def _empty(view):
    if not view.members():
        return
    yield from ()


def _judged(view):
    for n in view.members():
        if n.facts is None:
            return
        yield n


def test_the_guard_is_found_and_a_subject_answers_it():
    bare = rule("CLU199", "sample-guarded", Severity.WARNING, Confidence.HIGH, kind="cluster",
                title="t", why="w", fix="f")(_empty)
    assert gives_up_early(bare.check) and not gives_up_early(_judged)
    declared = rule("CLU199", "sample-guarded", Severity.WARNING, Confidence.HIGH, kind="cluster", title="t",
                    why="w", fix="f", subject=Subject("none", lambda view: False))(_empty)
    assert declared.subject is not None and gives_up_early(declared.check)  # told: the checklist says so

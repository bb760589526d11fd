"""What was checked: each rule that ran (or did not), by area, with its outcome in this report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from phoenix_ops.findings import Finding, Severity
from phoenix_ops.record import field, record
from phoenix_ops.rule import AREAS, NOT_APPLICABLE, NOT_DETERMINED, Rule

# Outcomes, worst first: how a checklist row and an area summary are ordered and labelled.
FAILED, NOTED, SUPPRESSED, PASSED, NOT_RUN = "failed", "noted", "suppressed", "passed", "not run"
OUTCOMES = (FAILED, NOTED, SUPPRESSED, PASSED, NOT_DETERMINED, NOT_APPLICABLE, NOT_RUN)


@record
class Row:
    id: str
    name: str
    title: str
    outcome: str
    severity: str = ""  # the worst severity shown, for failed and noted rows
    count: int = 0  # findings shown
    reason: str = ""  # why a rule did not run, or had nothing to judge


@record
class Area:
    code: str
    label: str
    rows: list[Row] = field(default_factory=list)

    def tally(self) -> dict[str, int]:
        """Outcome -> rows, in OUTCOMES order, zero counts left out."""
        counts: dict[str, int] = {}
        for r in self.rows:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        return {o: counts[o] for o in OUTCOMES if o in counts}

    @property
    def worst(self) -> str:
        return next(iter(self.tally()), PASSED)


def as_rules(rules: Mapping[str, Rule] | Iterable[Rule] | None) -> dict[str, Rule]:
    """Rules by id from a mapping or from an iterable of rules (a catalog)."""
    values = rules.values() if isinstance(rules, Mapping) else rules or ()
    return {r.id: r for r in values}


SKIP_FACTS = ("not_run", "not_applicable", "not_determined")  # a report's facts: rule id -> why


def checklist_of(findings: Sequence[Finding], rules: Mapping[str, Rule] | Iterable[Rule] | None,
                 facts: Mapping) -> list[Area]:
    """The checklist from a report's facts: rules that did not run, had nothing to judge, or could not tell."""
    skipped = ({str(k): str(v) for k, v in (facts.get(key) or {}).items()} for key in SKIP_FACTS)
    return build_checklist(findings, as_rules(rules), *skipped)


def build_checklist(findings: Sequence[Finding], rules: Mapping[str, Rule], not_run: Mapping[str, str],
                    not_applicable: Mapping[str, str] | None = None,
                    not_determined: Mapping[str, str] | None = None) -> list[Area]:
    """Areas in AREAS order; a rule is failed (error or warning shown), noted (info only), suppressed
    (every finding hidden by a comment or baseline), passed (ran, found nothing), not determined (the
    files cannot tell whether its subject exists), not applicable (its subject is absent) or not run,
    the last three with why. A finding wins over any of those: a finding whose rule was not handed in
    still gets a row, so the list never hides a failure."""
    skipped = {NOT_RUN: not_run, NOT_DETERMINED: not_determined or {}, NOT_APPLICABLE: not_applicable or {}}
    skip_outcome = {rule_id: o for o, ids in reversed(skipped.items()) for rule_id in ids}  # the first one named wins
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule_id, []).append(f)
    names = {f.rule_id: f.name for f in findings}
    areas: dict[str, Area] = {}
    for rule_id in sorted(set(rules).union(by_rule, *skipped.values())):
        rule = rules.get(rule_id)
        shown = [f for f in by_rule.get(rule_id, []) if not f.suppressed]
        worst = max((f.severity for f in shown), default=None)
        if shown:
            outcome = FAILED if worst >= Severity.WARNING else NOTED
        elif rule_id in by_rule:
            outcome = SUPPRESSED
        else:
            outcome = skip_outcome.get(rule_id, PASSED)
        code = rule_id[:3]
        area = areas.setdefault(code, Area(code, AREAS.get(code, code)))
        area.rows.append(Row(rule_id, rule.name if rule else names.get(rule_id, ""), rule.title if rule else "",
                             outcome, worst.label if worst else "", len(shown),
                             skipped.get(outcome, {}).get(rule_id, "")))
    order = list(AREAS)
    return sorted(areas.values(), key=lambda a: order.index(a.code) if a.code in order else len(order))

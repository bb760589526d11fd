"""The cluster rules (CLU150-CLU199), registered on import, and the diagnosis that runs them all."""

from __future__ import annotations

from phoenix_ops.cluster import rules_health, rules_reach, rules_topology  # noqa: F401  (they register)
from phoenix_ops.cluster.view import ClusterView
from phoenix_ops.findings import Finding
from phoenix_ops.rules.registry import RULES, Rule


def cluster_rules() -> list[Rule]:
    return [r for _, r in sorted(RULES.items()) if r.kind == "cluster"]


def diagnose(view: ClusterView) -> list[Finding]:
    findings = [f for rule in cluster_rules() for f in rule.check(view)]
    return sorted(findings, key=Finding.sort_key)

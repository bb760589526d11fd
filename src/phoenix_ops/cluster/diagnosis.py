"""The diagnosis of a ClusterView: every cluster rule of the catalog, run over it."""

from __future__ import annotations

from phoenix_ops.catalog import catalog
from phoenix_ops.cluster.view import ClusterView
from phoenix_ops.findings import Finding


def diagnose(view: ClusterView) -> list[Finding]:
    findings = [f for rule in catalog("cluster") for f in rule.check(view)]
    return sorted(findings, key=Finding.sort_key)

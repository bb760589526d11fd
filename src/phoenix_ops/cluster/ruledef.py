"""Shared pieces of the cluster rules: locations, and two families of rules built from a pattern."""

from __future__ import annotations

from collections.abc import Iterator

from phoenix_ops.cluster.view import ClusterView
from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.rule import Rule, Subject, rule

H, M = Confidence.HIGH, Confidence.MEDIUM
USAGE_LIMIT = 0.8  # process and atom use above this share of the limit

# What most cluster rules judge: the nodes found (a failed connection), or the members that answered
# (their facts). With none, the doctor saw nothing to judge: not a pass.
NODES = Subject(present=lambda view: bool(view.nodes), unknown=lambda view: "no node was found to connect to")
MEMBERS = Subject(present=lambda view: bool(view.members()), unknown=lambda view: "no node answered")


def at(*nodes: str) -> Location:
    return Location(node=", ".join(nodes))


def failure_rule(rule_id: str, name: str, severity: Severity, confidence: Confidence, *, kinds: tuple[str, ...],
                 message: str, title: str, why: str, fix: str) -> Rule:
    """A rule for nodes the doctor could not talk to, chosen by their DistError kind."""
    declared = rule(rule_id, name, severity, confidence, title=title, why=why, fix=fix, kind="cluster",
                    subject=NODES)

    def check(view: ClusterView) -> Iterator[Finding]:
        for n in sorted(view.nodes, key=lambda n: n.name):
            if n.error_kind in kinds:
                text = message.format(name=n.name, where=f"{n.address}:{n.port}", error=n.error)
                yield declared.finding(text, at(n.name), key=n.error_kind)
    return declared(check)


def usage_rule(rule_id: str, name: str, severity: Severity, confidence: Confidence, *, what: str,
               title: str, why: str, fix: str) -> Rule:
    """A rule for NodeFacts.<what>_count above USAGE_LIMIT of <what>_limit on any member."""
    declared = rule(rule_id, name, severity, confidence, title=title, why=why, fix=fix, kind="cluster",
                    subject=MEMBERS)

    def check(view: ClusterView) -> Iterator[Finding]:
        for n in view.members():
            used, cap = getattr(n.facts, f"{what}_count"), getattr(n.facts, f"{what}_limit")
            if used is not None and cap and used > USAGE_LIMIT * cap:
                yield declared.finding(f"{n.name} uses {used} of {cap} {what}s ({used / cap:.0%})",
                                             at(n.name), key=what)
    return declared(check)

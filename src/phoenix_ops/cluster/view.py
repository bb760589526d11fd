"""ClusterView: everything the doctor saw, and the topology read from it (partitions, one-way links)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from phoenix_ops.cluster.epmd import DEFAULT_PORT, Registration
from phoenix_ops.cluster.facts import NodeFacts
from phoenix_ops.record import field, record

if TYPE_CHECKING:  # discovery pulls in DNS libraries; the rule catalog must load without them
    from phoenix_ops.cluster.discovery import DiscoveryProblem


def describe_groups(groups: list[list[str]]) -> str:
    """Partitions as text: {a, b} | {c}."""
    return " | ".join("{" + ", ".join(g) + "}" for g in groups)


def count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@record
class HostReport:
    address: str
    node_host: str
    registered: list[Registration] = field(default_factory=list)
    error_kind: str | None = None  # unreachable, timeout, garbage
    error: str | None = None
    port: int = DEFAULT_PORT


@record
class NodeReport:
    name: str  # the name the node gave in the handshake, else the name discovery expected
    address: str
    port: int | None
    source: str  # epmd, hosts, dns, srv, project
    error_kind: str | None = None  # a DistError kind, or not_registered
    error: str | None = None
    hidden: bool = False  # a hidden node such as a remote shell: not a cluster member
    tls: bool = False
    facts: NodeFacts | None = None

    @property
    def reached(self) -> bool:
        return self.facts is not None

    @property
    def member(self) -> bool:
        return self.reached and not self.hidden

    def to_dict(self) -> dict:
        out = {k: v for k, v in vars(self).items() if k != "facts"}
        out["facts"] = self.facts.to_dict() if self.facts else None
        return out


@record
class ClusterView:
    nodes: list[NodeReport] = field(default_factory=list)
    hosts: list[HostReport] = field(default_factory=list)
    problems: list[DiscoveryProblem] = field(default_factory=list)
    queried: list[str] = field(default_factory=list)  # the DNS names asked for nodes (A/AAAA, SRV)
    expected: int | None = None
    seconds: float = 0.0
    cookie_source: str = "the given cookie"

    def members(self) -> list[NodeReport]:
        return sorted((n for n in self.nodes if n.member), key=lambda n: n.name)

    def sees(self) -> dict[str, set[str]]:
        """Member -> the other members in its nodes() (cluster members only, itself excluded)."""
        names = {n.name for n in self.members()}
        return {n.name: set(n.facts.visible or ()) & names for n in self.members() if n.facts.visible is not None}

    def partitions(self) -> list[list[str]]:
        """Groups of members linked by visibility in either direction; more than one is a split."""
        sees = self.sees()
        neighbours: dict[str, set[str]] = {n: set() for n in sees}
        for a, seen in sees.items():
            for b in seen:
                neighbours[a].add(b)
                neighbours[b].add(a)
        groups, left = [], set(neighbours)
        while left:
            stack, group = [min(left)], set()
            while stack:
                node = stack.pop()
                if node in group:
                    continue
                group.add(node)
                stack.extend(neighbours[node] - group)
            left -= group
            groups.append(sorted(group))
        return sorted(groups, key=lambda g: (-len(g), g))

    def one_way(self) -> list[tuple[str, str]]:
        """(a, b) where a lists b in nodes() but b does not list a."""
        sees = self.sees()
        return sorted((a, b) for a, seen in sees.items() for b in seen if b in sees and a not in sees[b])

    def missing_links(self) -> list[list[tuple[str, str]]]:
        """Per partition, the pairs of members that see each other in neither direction."""
        sees = self.sees()
        return [[(a, b) for i, a in enumerate(group) for b in group[i + 1:] if b not in sees[a] and a not in sees[b]]
                for group in self.partitions()]

    def undiscovered(self) -> list[str]:
        """Visible nodes that discovery did not return: stale DNS, or a node outside the query."""
        known = {n.name for n in self.nodes}
        seen = set().union(*(set(n.facts.visible or ()) for n in self.members()))
        return sorted(seen - known)

    def to_dict(self) -> dict:
        return {
            "seconds": round(self.seconds, 3),
            "expected": self.expected,
            "partitions": self.partitions(),
            "nodes": [n.to_dict() for n in sorted(self.nodes, key=lambda n: n.name)],
            "hosts": [vars(h) | {"registered": [vars(r) for r in h.registered]} for h in self.hosts],
            "discovery_problems": [vars(p) for p in self.problems],
        }

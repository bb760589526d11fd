"""Cluster rules about what Phoenix shares between nodes: PubSub reach, Presence replicas and
counts, and one secret_key_base. They read the PhoenixFacts of each member that runs Phoenix.PubSub."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from phoenix_ops.cluster.phoenix import PhoenixFacts, short
from phoenix_ops.cluster.ruledef import H, M, at
from phoenix_ops.cluster.view import ClusterView, NodeReport, describe_groups
from phoenix_ops.findings import Finding, Severity
from phoenix_ops.rule import Subject, rule

TOPICS_SHOWN = 20


def phoenix_members(view: ClusterView) -> Iterator[tuple[NodeReport, PhoenixFacts]]:
    for n in view.members():
        if n.facts.phoenix is not None:
            yield n, n.facts.phoenix


def _phoenix_part(part: str, absent: str) -> Subject:
    """What a Phoenix rule judges: PubSub groups, Presence trackers or endpoints on the members, read
    where the node runs Phoenix.PubSub. Unknown when no node answered or one could not say."""
    def unknown(view: ClusterView) -> str | None:
        if not view.members():
            return "no node answered"
        failed = next(((n.name, ph.failed[part]) for n, ph in phoenix_members(view) if part in ph.failed), None)
        return f"{failed[0]} could not be asked for its {part}: {failed[1]}" if failed else None
    return Subject(absent, lambda view: any(getattr(ph, part) for _, ph in phoenix_members(view)), unknown)


PUBSUB = _phoenix_part("pubsub", "no node reached runs Phoenix.PubSub")
PRESENCE = _phoenix_part("trackers", "no node reached runs a Phoenix.Presence tracker")
ENDPOINTS = _phoenix_part("secret_digests", "no node reached runs a Phoenix endpoint")


def _connected(node: NodeReport, other: str) -> str:
    return other if other in (node.facts.visible or ()) else f"{other} (not connected)"


@rule(
    "CLU172", "pubsub-not-reaching", Severity.ERROR, H, kind="cluster", subject=PUBSUB,
    title="A node's Phoenix.PubSub does not reach every node that runs it",
    why="""
        Phoenix.PubSub (the PG2 adapter) sends a broadcast to the members of its `:pg` group on
        every node: a node missing from a node's view of that group never gets its broadcasts.
        LiveView updates, channel messages and Presence diffs then reach only the users connected
        to some nodes. Nodes that are not connected at all (no cluster discovery) are the usual
        cause; connected nodes missing from the group run the PubSub under another name or have
        not started it.
    """,
    fix="""
        Connect the nodes (libcluster, dns_cluster or the platform's discovery, with the same
        cookie), and give the PubSub the same name on every node (`{Phoenix.PubSub, name:
        MyApp.PubSub}` in the application's children, started before the endpoint).

        Read with `:pg.which_groups(Phoenix.PubSub)` and `:pg.get_members/2` on each node.
        Pass: each node's group lists every node that runs the group. Fail: one is missing.
    """,
)
def pubsub_not_reaching(view: ClusterView) -> Iterable[Finding]:
    members = list(phoenix_members(view))
    for group in sorted({g for _, ph in members for g in ph.pubsub}):
        runners = {n.name for n, ph in members if n.name in ph.pubsub.get(group, ())}
        for n, ph in members:
            if n.name not in runners:
                continue
            missing = sorted(runners - set(ph.pubsub.get(group, ())))
            if missing:
                yield pubsub_not_reaching.finding(
                    f"{n.name}: PubSub group {group} reaches {len(runners) - len(missing)} of the {len(runners)} "
                    f"nodes running it; its broadcasts never reach {', '.join(_connected(n, m) for m in missing)}",
                    at(n.name), key=group)


@rule(
    "CLU173", "presence-replica-unreachable", Severity.WARNING, H, kind="cluster", subject=PRESENCE,
    title="A Phoenix.Presence tracker holds another node's replica as down, or never heard of it",
    why="""
        Each Phoenix.Tracker shard (one per Presence module and pool slot) replicates its
        presences with the same shard on the other nodes, through PubSub heartbeats. A replica
        marked down hides that node's presences (after the permdown period they are dropped); a
        node running the tracker that a shard has no replica for at all — nodes started without
        discovery — keeps its presences to itself. Users on different nodes see different
        presence lists: the classic "no cluster discovery" symptom.
    """,
    fix="""
        Connect the nodes and keep them connected (discovery, the same cookie, net_ticktime
        above any pause the platform imposes); a replica down after a deploy comes back with
        its node, otherwise remove the stale node.

        Read with `GenServer.call(shard, :replicas)` on each tracker shard.
        Pass: every node running the shard is an up replica of every other.
        Fail: a replica is down or permdown, or a node running the shard is unknown to it
        (a connected node not yet heard from is left out: trackers announce themselves every
        1.5 to 15 s).
    """,
)
def presence_replicas(view: ClusterView) -> Iterable[Finding]:
    members = list(phoenix_members(view))
    for shard in sorted({s for _, ph in members for s in ph.trackers}):
        runners = {n.name for n, ph in members if shard in ph.trackers}
        for n, ph in members:
            tracker = ph.trackers.get(shard)
            if tracker is None:
                continue
            down = sorted(f"{r} ({s})" for r, s in tracker.replicas.items() if s != "up")
            unknown = sorted(r for r in runners - set(tracker.replicas) - {n.name}
                             if r not in (n.facts.visible or ()))
            if down:
                yield presence_replicas.finding(
                    f"{n.name}: tracker {shard} holds {', '.join(down)}: their presences are hidden here",
                    at(n.name), key=f"{shard} down")
            if unknown:
                yield presence_replicas.finding(
                    f"{n.name}: tracker {shard} does not replicate with {', '.join(unknown)}, which run it "
                    "too (not connected): presences tracked there are invisible here", at(n.name),
                    key=f"{shard} unknown")


@rule(
    "CLU174", "presence-counts-differ", Severity.WARNING, M, kind="cluster", subject=PRESENCE,
    title="A topic's presence count differs from node to node",
    why="""
        `Presence.list(topic)` should answer the same on every node once the trackers have
        exchanged their state. A count that differs means users on different nodes see
        different people online: replicas that do not reach each other, or a tracker that
        lost its peers. Only counts are compared: presence keys and metadata are not read.
    """,
    fix="""
        Fix the replication first (CLU172, CLU173, CLU150). A difference is looked at again
        after a few seconds before it is reported, as trackers exchange deltas every 1.5 s;
        one that persists through a deploy or a join is worth a second run.

        Pass: every topic has the same number of online presences on every node running the
        tracker. Fail: a topic's counts differ.
    """,
)
def presence_counts(view: ClusterView) -> Iterable[Finding]:
    for shard, (online, differing) in count_differences(view).items():
        for topic in differing[:TOPICS_SHOWN]:
            by_node = ", ".join(f"{counts.get(topic, 0)} on {name}" for name, counts in sorted(online.items()))
            yield presence_counts.finding(f"topic {topic!r} of tracker {shard}: {by_node}", at(*sorted(online)),
                                          key=f"{shard} {topic}")
        if len(differing) > TOPICS_SHOWN:
            yield presence_counts.finding(f"and {len(differing) - TOPICS_SHOWN} more topics of tracker {shard}",
                                          at(*sorted(online)), key=f"{shard} more")


def count_differences(view: ClusterView) -> dict[str, tuple[dict[str, dict[str, int]], list[str]]]:
    """Tracker shard -> (node -> online counts per topic, the topics whose counts differ), for the
    shards with a difference."""
    members = list(phoenix_members(view))
    out = {}
    for shard in sorted({s for _, ph in members for s in ph.trackers}):
        online = {n.name: ph.trackers[shard].online(n.name) for n, ph in members if shard in ph.trackers}
        topics = sorted({t for counts in online.values() for t in counts})
        differing = [t for t in topics if len({counts.get(t, 0) for counts in online.values()}) > 1]
        if len(online) > 1 and differing:
            out[shard] = (online, differing)
    return out


@rule(
    "CLU175", "secret-key-base-differs", Severity.ERROR, H, kind="cluster", subject=ENDPOINTS,
    title="An endpoint's secret_key_base differs between nodes",
    why="""
        The secret_key_base signs and encrypts session cookies, CSRF tokens and LiveView session
        tokens. Nodes with different values refuse each other's: after a deploy that gave a node
        another secret, users are logged out, forms fail CSRF and LiveViews reload in a loop,
        depending on the node the load balancer picks.
    """,
    fix="""
        Give every node the same SECRET_KEY_BASE from one secret store (not generated per
        instance or per build), and roll a change out to all nodes together.

        The value never leaves the node: each node computes an HMAC-SHA256 of it under a key
        drawn for this run, and only those digests are compared (and never reported).
        Pass: one digest per endpoint across the nodes. Fail: two or more.
    """,
)
def secret_key_base_differs(view: ClusterView) -> Iterable[Finding]:
    members = list(phoenix_members(view))
    for endpoint in sorted({e for _, ph in members for e in ph.secret_digests}):
        groups: dict[bytes, list[str]] = defaultdict(list)
        for n, ph in members:
            if endpoint in ph.secret_digests:
                groups[ph.secret_digests[endpoint]].append(n.name)
        if len(groups) > 1:
            parts = sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g))
            app, module = endpoint.split(" ", 1)
            yield secret_key_base_differs.finding(
                f"{short(module)} ({app}) runs with {len(groups)} different secret_key_base values: "
                f"{describe_groups(parts)}", at(*(g[0] for g in parts)), key=endpoint)

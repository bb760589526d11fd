"""Cluster rules about shape: partitions, one-way links, partial meshes, missing and unknown members."""

from __future__ import annotations

from collections.abc import Iterable

from phoenix_ops.cluster.ruledef import MEMBERS, H, M, at
from phoenix_ops.cluster.view import ClusterView, describe_groups
from phoenix_ops.findings import Finding, Severity
from phoenix_ops.rule import Subject, rule


@rule(
    "CLU150", "cluster-partitioned", Severity.ERROR, H, kind="cluster", subject=MEMBERS,
    title="The cluster is split: some nodes cannot see the others",
    why="""
        Phoenix.PubSub broadcasts and Presence only reach nodes that are connected. In a split
        cluster each partition keeps serving users, but messages, presence lists and anything
        kept in :global or :pg diverge between the partitions, and users see different data
        depending on the node they hit.
    """,
    fix="""
        Find why the partitions do not connect: discovery (DNS query, libcluster topology), a
        firewall between the groups on EPMD (4369) or the distribution port range, or different
        cookies. Once fixed, `Node.connect/1` from one side merges them; check that libcluster
        polls so a split heals on its own.
    """,
)
def partitioned(view: ClusterView) -> Iterable[Finding]:
    groups = view.partitions()
    if len(groups) < 2:
        return
    message = f"the cluster is split into {len(groups)} partitions: {describe_groups(groups)}"
    basenames = [{name.split("@")[0] for name in group} for group in groups]
    if all(len(b) == 1 for b in basenames) and len(set().union(*basenames)) == len(groups):
        # {shop@a, shop@b} | {billing@a}: likely two applications sharing hosts, not a split
        message += "; each partition has its own node name, so they may be separate applications: " \
                   "--node-basename keeps one"
        yield partitioned.finding(message, at(*(g[0] for g in groups)), key=str(len(groups)),
                                      confidence=M)
        return
    yield partitioned.finding(message, at(*(g[0] for g in groups)), key=str(len(groups)))


@rule(
    "CLU151", "asymmetric-visibility", Severity.WARNING, M, kind="cluster", subject=MEMBERS,
    title="A node sees a peer that does not see it back",
    why="""
        Erlang connections are two-way, so a one-way view means a connection is half set up or
        half torn down: a netsplit in progress, or a node stuck in a long net_tick timeout. Sends
        from one side silently go nowhere.
    """,
    fix="""
        Run the doctor again: a one-way view that persists points at a connection stuck on one
        side. Check net_ticktime on both nodes and the network between them; `Node.disconnect/1`
        on the side that still sees the peer forces a clean reconnect.
    """,
)
def asymmetric(view: ClusterView) -> Iterable[Finding]:
    for a, b in view.one_way():
        yield asymmetric.finding(f"{a} sees {b}, but {b} does not see {a}", at(a, b), key=f"{a}>{b}")


@rule(
    "CLU165", "fewer-nodes-than-expected", Severity.ERROR, H, kind="cluster",
    subject=Subject("no --expect N given", lambda view: view.expected is not None),
    title="Fewer cluster members than expected (--expect)",
    why="""
        A node that never started, crashed, or cannot be reached shrinks the cluster quietly:
        capacity drops and Presence shows fewer users than are online.
    """,
    fix="""
        The other findings usually say which node is missing and why; otherwise compare the
        discovery answer with the deployment's replica count.
    """,
)
def expected_count(view: ClusterView) -> Iterable[Finding]:
    members = view.members()
    if len(members) < view.expected:
        names = [n.name for n in members]
        yield expected_count.finding(
            f"{len(members)} of {view.expected} expected nodes answered"
            + (f": {', '.join(names)}" if names else ""), at(*names), key="expect")


@rule(
    "CLU170", "node-not-discovered", Severity.INFO, M, kind="cluster", subject=MEMBERS,
    title="A node is connected to the cluster but discovery did not return it",
    why="""
        A member that discovery no longer returns is usually stale DNS, or a node connected by
        hand; new nodes will not find it, and the doctor could not inspect it.
    """,
    fix="""
        Check the discovery query against the nodes that should be members, and include the node
        in the doctor's run with --hosts if it belongs.
    """,
)
def not_discovered(view: ClusterView) -> Iterable[Finding]:
    for name in view.undiscovered():
        yield not_discovered.finding(f"{name} is connected to members but was not discovered", at(name), key="seen")


@rule(
    "CLU171", "partial-mesh", Severity.WARNING, H, kind="cluster", subject=MEMBERS,
    title="Nodes of one partition are not all connected to each other",
    why="""
        Erlang clusters are meant to be a full mesh: PubSub broadcasts go straight from the
        sender to every node it is connected to, so a node missing a link never receives what
        that peer broadcasts, although both look clustered. A partial mesh comes from
        `-connect_all false`, or from links dropped while :global keeps the rest.
    """,
    fix="""
        Connect the missing pairs (`Node.connect/1`) and find why they dropped; leave
        connect_all on unless the topology is managed on purpose (and then PubSub needs a
        relay such as a dedicated adapter).
    """,
)
def partial_mesh(view: ClusterView) -> Iterable[Finding]:
    for group, missing in zip(view.partitions(), view.missing_links()):
        if missing:
            total = len(group) * (len(group) - 1) // 2
            shown = ", ".join(f"{a} - {b}" for a, b in missing[:5]) + (" ..." if len(missing) > 5 else "")
            message = f"{len(missing)} of {total} links missing between {len(group)} nodes: {shown}"
            yield partial_mesh.finding(message,
                                          at(*sorted({n for pair in missing for n in pair})), key="mesh")

"""Cluster rules about reaching nodes: discovery, EPMD, and each way a handshake fails."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from phoenix_ops.cluster.ruledef import NODES, H, M, at, failure_rule
from phoenix_ops.cluster.view import ClusterView, HostReport
from phoenix_ops.findings import Finding, Location, Severity
from phoenix_ops.rule import Subject, rule

node_unreachable = failure_rule(
    "CLU152", "node-unreachable", Severity.ERROR, H,
    title="A node is registered in EPMD (or expected) but its distribution port does not answer",
    why="""
        EPMD tells peers where a node listens. When the node's distribution port refuses
        connections, peers keep trying and failing: the node is out of the cluster while looking
        present. A node named in discovery but absent from EPMD is simply not running.
    """,
    fix="""
        Open the distribution port between nodes (fix it with `inet_dist_listen_min` and
        `inet_dist_listen_max` so a firewall rule can allow it), check that the node is running,
        and that it listens on an address peers can reach.
    """,
    kinds=("unreachable", "not_registered"), message="{name} cannot be reached: {error}",
)


@rule(
    "CLU153", "cookie-mismatch", Severity.ERROR, H, kind="cluster", subject=NODES,
    title="A node rejects the cluster cookie",
    why="""
        Nodes only connect when they share the cookie. A node deployed with another cookie (a
        RELEASE_COOKIE generated per build, a missing secret) starts fine, passes its health
        check, and never joins: Presence and PubSub miss it.
    """,
    fix="""
        Give every node the same cookie from one secret (RELEASE_COOKIE in the release's
        environment), never one generated at build time. The doctor used the cookie from
        --cookie-file, RELEASE_COOKIE or ~/.erlang.cookie; the value is never printed.
    """,
)
def cookie_mismatch(view: ClusterView) -> Iterable[Finding]:
    rejected = sorted((n for n in view.nodes if n.error_kind == "cookie"), key=lambda n: n.name)
    ours_is_wrong = not any(n.reached for n in view.nodes)
    for n in rejected:
        message = f"{n.name} ({n.address}:{n.port}) does not accept our cookie: {n.error}"
        if ours_is_wrong:
            message += f"; no node accepted the cookie from {view.cookie_source}, so that one is probably wrong"
        yield cookie_mismatch.finding(message, at(n.name), key="cookie")


handshake_refused = failure_rule(
    "CLU154", "handshake-refused", Severity.ERROR, H,
    title="A node refused the distribution handshake (name or flags not allowed)",
    why="""
        A node answers not_allowed when net_kernel's allow list excludes the caller or the
        capabilities do not match (a node older than OTP 23 cannot talk protocol 6, which OTP 25
        requires). Peers rejected the same way cannot join.
    """,
    fix="""
        Check for an allow list on the node (`net_kernel:allow/1`, called by the application at
        boot) and upgrade nodes older than OTP 23. "alive" means a node with
        the doctor's name is already connected: run the doctor again (it picks a fresh name).
    """,
    kinds=("refused", "alive"), message="{name} refused us: {error}",
)


not_erlang_distribution = failure_rule(
    "CLU155", "not-erlang-distribution", Severity.ERROR, H,
    title="The port registered for a node is not an Erlang distribution port",
    why="""
        Something else answers where EPMD (or the configuration) says the node listens: a stale
        EPMD entry whose port was taken by another service, or a wrong `--dist-port`. Peers fail
        to connect and the node is out of the cluster.
    """,
    fix="""
        Check which process owns the port (`ss -ltnp`), restart the node so it registers its
        real port, and pin the distribution port range so nothing else takes it.
    """,
    kinds=("not_erlang", "protocol"), message="{name} ({where}): {error}",
)


tls_credentials_needed = failure_rule(
    "CLU156", "tls-credentials-needed", Severity.WARNING, H,
    title="A node uses TLS distribution and the doctor has no certificate to talk to it",
    why="""
        TLS distribution (`-proto_dist inet_tls`) is the right choice across untrusted networks;
        the doctor can only inspect such a node with a CA and, when the node verifies peers, a
        client certificate and key.
    """,
    fix="""
        Run again with --tls-ca, --tls-cert and --tls-key (the files given to the nodes in
        -ssl_dist_optfile serve).
    """,
    kinds=("tls_required",), message="{name} ({where}): {error}",
)


tls_handshake_failed = failure_rule(
    "CLU157", "tls-handshake-failed", Severity.ERROR, H,
    title="The TLS handshake with a TLS distribution node failed",
    why="""
        A certificate the node does not trust, an expired certificate or a CA mismatch stops
        every peer presenting the same credentials, so the node cannot join.
    """,
    fix="""
        Check that the node's certificate chains to the CA the cluster uses, that it has not
        expired, and that client certificates carry clientAuth usage when nodes verify peers.
    """,
    kinds=("tls_failed",), message="{name} ({where}): {error}",
)


node_stalled = failure_rule(
    "CLU158", "node-stalled", Severity.ERROR, M,
    title="A node accepted the connection but stalled or hung up during the handshake",
    why="""
        A node that accepts TCP but does not finish the handshake is overloaded (a full run
        queue, a blocked net_kernel), suspended, or not what EPMD says it is. Peers wait for
        net_setuptime (7 s) on each attempt.
    """,
    fix="""
        Look at the node's load and logs; restart it if it does not recover. Run the doctor with a
        longer --timeout to tell a slow node from a stuck one.
    """,
    kinds=("timeout", "closed"), message="{name} ({where}): {error}",
)


EPMD = Subject("no host was asked through EPMD (nodes named with --node-basename and --dist-port)",
                lambda view: bool(view.hosts))


def _hosts(view: ClusterView, *, failed: bool) -> Iterator[tuple[HostReport, Location]]:
    """Hosts whose EPMD failed (failed=True), or answered with an empty list (failed=False)."""
    for h in view.hosts:
        if (h.error_kind is not None) == failed and (failed or not h.registered):
            yield h, Location(url=f"epmd://{h.address}:{h.port}")


@rule(
    "CLU166", "epmd-unreachable", Severity.ERROR, H, kind="cluster", subject=EPMD,
    title="A host's EPMD does not answer, or something else answers on its port",
    why="""
        Peers find a node's distribution port by asking EPMD on its host. Without EPMD, nodes
        there cannot be found, unless the cluster runs without EPMD on fixed ports.
    """,
    fix="""
        Check that EPMD runs on the host (it starts with the first node) and that port 4369 (or
        ERL_EPMD_PORT) is open between nodes; if the nodes run without EPMD, give the doctor
        --node-basename and --dist-port.
    """,
)
def epmd_unreachable(view: ClusterView) -> Iterable[Finding]:
    for h, where in _hosts(view, failed=True):
        yield epmd_unreachable.finding(h.error, where, key=h.error_kind)


@rule(
    "CLU167", "epmd-empty", Severity.WARNING, H, kind="cluster", subject=EPMD,
    title="A host's EPMD lists no nodes",
    why="""
        EPMD answers but no node is registered: the application is not running on that host, or
        it runs with another EPMD port or without EPMD.
    """,
    fix="""
        Check that the release is running on the host; if it uses ERL_EPMD_PORT or no EPMD, give
        the doctor --epmd-port or --node-basename with --dist-port.
    """,
)
def epmd_empty(view: ClusterView) -> Iterable[Finding]:
    for h, where in _hosts(view, failed=False):
        yield epmd_empty.finding(f"EPMD on {h.address}:{h.port} lists no nodes", where, key="empty")


@rule(
    "CLU168", "discovery-failed", Severity.ERROR, H, kind="cluster",
    subject=Subject("no DNS name was asked (nodes named with --hosts)", lambda view: bool(view.queried)),
    title="A discovery query returned no nodes",
    why="""
        The DNS name that libcluster (DNSPoll, Kubernetes DNSSRV) or dns_cluster polls does not
        resolve: every node that relies on it is left alone, a cluster of one.
    """,
    fix="""
        Check the name (a headless Service for Kubernetes, `<app>.internal` on Fly.io) and that
        the DNS server the nodes use answers it.
    """,
)
def discovery_failed(view: ClusterView) -> Iterable[Finding]:
    for p in view.problems:
        suffix = "?type=SRV" if p.source == "srv" else ""
        yield discovery_failed.finding(f"{p.query}: {p.detail}", Location(url=f"dns:{p.query}{suffix}"), key=p.source)

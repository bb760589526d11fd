"""The cluster rules (CLU150-CLU199): each reads a ClusterView and yields Findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from phoenix_ops.cluster.view import ClusterView, HostReport
from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.rules.registry import RULES, Rule, define

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
USAGE_LIMIT = 0.8  # process and atom use above this share of the limit
RUN_QUEUE_FACTOR = 2  # run queue above this many times the online schedulers


def cluster_rule(rule_id: str, name: str, severity: Severity, confidence: Confidence, *,
                 title: str, why: str, fix: str):
    def wrap(fn) -> Rule:
        return define(rule_id, name, severity, confidence, title=title, why=why, fix=fix, kind="cluster", check=fn)
    return wrap


def cluster_rules() -> list[Rule]:
    return [r for _, r in sorted(RULES.items()) if r.kind == "cluster"]


def diagnose(view: ClusterView) -> list[Finding]:
    findings = [f for rule in cluster_rules() for f in rule.check(view)]
    return sorted(findings, key=Finding.sort_key)


def at(*nodes: str) -> Location:
    return Location(node=", ".join(nodes))


def failure_rule(rule_id: str, name: str, severity: Severity, confidence: Confidence, *, kinds: tuple[str, ...],
                 message: str, title: str, why: str, fix: str) -> Rule:
    """A rule for nodes the doctor could not talk to, chosen by their DistError kind."""
    def check(view: ClusterView) -> Iterator[Finding]:
        for n in sorted(view.nodes, key=lambda n: n.name):
            if n.error_kind in kinds:
                text = message.format(name=n.name, where=f"{n.address}:{n.port}", error=n.error)
                yield RULES[rule_id].finding(text, at(n.name), key=n.error_kind)
    return define(rule_id, name, severity, confidence, title=title, why=why, fix=fix, kind="cluster", check=check)


def _described(groups: list[list[str]]) -> str:
    return " | ".join("{" + ", ".join(g) + "}" for g in groups)


@cluster_rule(
    "CLU150", "cluster-partitioned", Severity.ERROR, H,
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
    if len(groups) > 1:
        yield RULES["CLU150"].finding(f"the cluster is split into {len(groups)} partitions: {_described(groups)}",
                                      at(*(g[0] for g in groups)), key=str(len(groups)))


@cluster_rule(
    "CLU151", "asymmetric-visibility", Severity.WARNING, M,
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
        yield RULES["CLU151"].finding(f"{a} sees {b}, but {b} does not see {a}", at(a, b), key=f"{a}>{b}")


failure_rule(
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


@cluster_rule(
    "CLU153", "cookie-mismatch", Severity.ERROR, H,
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
        yield RULES["CLU153"].finding(message, at(n.name), key="cookie")


failure_rule(
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


failure_rule(
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


failure_rule(
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


failure_rule(
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


failure_rule(
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


def _skew(view: ClusterView, value_of) -> dict[str, list[str]]:
    """Value -> the members that have it, when members disagree."""
    groups: dict[str, list[str]] = defaultdict(list)
    for n in view.members():
        value = value_of(n)
        if value is not None:
            groups[str(value)].append(n.name)
    return dict(groups) if len(groups) > 1 else {}


def _minority(groups: dict[str, list[str]]) -> list[str]:
    """The nodes not on the most common value: where the finding points."""
    common = max(groups, key=lambda v: (len(groups[v]), v))
    return sorted(name for v, names in groups.items() if v != common for name in names)


def _spread(groups: dict[str, list[str]]) -> str:
    return "; ".join(f"{v} on {', '.join(names)}" for v, names in sorted(groups.items()))


ROLLING = "expected while a rolling deploy is under way; a problem if it lasts"


@cluster_rule(
    "CLU159", "otp-version-skew", Severity.WARNING, M,
    title="Nodes run different OTP releases or ERTS versions",
    why="""
        Mixed OTP versions work during a rolling upgrade, which is what they usually mean. Left in
        place, they give nodes different runtime behaviour and bugs, and block the next upgrade
        (OTP supports mixing only with the two previous major releases).
    """,
    fix="""
        Finish the rollout so every node runs the same release image; if no deploy is running,
        find the node that was not updated (a pinned machine, an old replica set).
    """,
)
def otp_skew(view: ClusterView) -> Iterable[Finding]:
    for label, getter in (("OTP release", lambda n: n.facts.otp_release), ("ERTS version", lambda n: n.facts.erts_version)):
        groups = _skew(view, getter)
        if groups:
            yield RULES["CLU159"].finding(f"{label} differs across nodes ({ROLLING}): {_spread(groups)}",
                                          at(*_minority(groups)), key=label)


@cluster_rule(
    "CLU160", "app-version-skew", Severity.WARNING, M,
    title="An application is loaded at different versions on different nodes",
    why="""
        Two versions of your application (or of a dependency) in one cluster exchange messages
        and Presence metadata in two shapes. That is expected for the length of a rolling deploy
        and a source of odd errors when it lasts.
    """,
    fix="""
        Finish the rollout; if no deploy is running, redeploy the node left behind. Keep messages
        sent between nodes backward compatible for one version.
    """,
)
def app_skew(view: ClusterView) -> Iterable[Finding]:
    apps = sorted({app for n in view.members() for app in n.facts.applications})
    for app in apps:
        groups = _skew(view, lambda n: n.facts.applications.get(app))
        if groups:
            yield RULES["CLU160"].finding(f"application {app} runs at different versions ({ROLLING}): "
                                          f"{_spread(groups)}", at(*_minority(groups)), key=app)


def usage_rule(rule_id: str, name: str, severity: Severity, confidence: Confidence, *, what: str,
               title: str, why: str, fix: str) -> Rule:
    """A rule for NodeFacts.<what>_count above USAGE_LIMIT of <what>_limit on any member."""
    def check(view: ClusterView) -> Iterator[Finding]:
        for n in view.members():
            used, cap = getattr(n.facts, f"{what}_count"), getattr(n.facts, f"{what}_limit")
            if used is not None and cap and used > USAGE_LIMIT * cap:
                yield RULES[rule_id].finding(f"{n.name} uses {used} of {cap} {what}s ({used / cap:.0%})",
                                             at(n.name), key=what)
    return define(rule_id, name, severity, confidence, title=title, why=why, fix=fix, kind="cluster", check=check)


usage_rule(
    "CLU161", "process-limit-near", Severity.WARNING, H, what="process",
    title="A node uses more than 80% of its process limit",
    why="""
        When the process limit is reached, spawn fails with system_limit: new connections,
        channels and LiveViews crash. A count this close to the limit is either a leak or a
        limit set too low for the load.
    """,
    fix="""
        Look for a leak (processes that never exit, e.g. per-request tasks); if the load is
        real, raise the limit with `+P` in rel/vm.args.eex.
    """,
)

usage_rule(
    "CLU162", "atom-limit-near", Severity.ERROR, H, what="atom",
    title="A node uses more than 80% of its atom table",
    why="""
        Atoms are never garbage collected, and a full atom table crashes the whole VM. Growth
        close to the limit almost always means atoms made from user input (String.to_atom/1,
        binary_to_atom on request data).
    """,
    fix="""
        Find the code that creates atoms at run time and use String.to_existing_atom/1 or keep
        strings; raising `+t` only delays the crash.
    """,
)

@cluster_rule(
    "CLU163", "run-queue-high", Severity.WARNING, M,
    title="A node's run queue is more than twice its online schedulers",
    why="""
        Processes waiting to run mean the node is CPU bound: latency grows for every request, and
        distribution ticks may be answered late, which makes peers drop the node.
    """,
    fix="""
        Check for CPU-heavy work on the node (observer, :recon.proc_window/3), and that the VM
        sees the CPUs it was given (+S, container CPU limits).
    """,
)
def run_queue(view: ClusterView) -> Iterable[Finding]:
    for n in view.members():
        queue, schedulers = n.facts.run_queue, n.facts.schedulers
        if queue is not None and schedulers and queue > RUN_QUEUE_FACTOR * schedulers:
            yield RULES["CLU163"].finding(f"{n.name} has {queue} processes waiting to run on {schedulers} schedulers",
                                          at(n.name), key="run_queue")


@cluster_rule(
    "CLU164", "net-ticktime-mismatch", Severity.WARNING, H,
    title="Nodes disagree on net_ticktime",
    why="""
        net_ticktime decides how long a silent peer is kept before it is declared down. Nodes
        with different values detect failures at different times, so one side of a broken link
        still believes in a peer the other already dropped (an asymmetric view, for a while).
        A node with a much shorter net_ticktime can even drop healthy peers, which tick at a
        quarter of their own, longer, tick time: a split that heals and comes back.
    """,
    fix="""
        Set the same `-kernel net_ticktime N` on every node (rel/vm.args.eex), or none at all
        (the default is 60 s).
    """,
)
def ticktime(view: ClusterView) -> Iterable[Finding]:
    groups = _skew(view, lambda n: n.facts.net_ticktime)
    if groups:
        yield RULES["CLU164"].finding(f"net_ticktime differs across nodes: {_spread(groups)} (seconds)",
                                      at(*_minority(groups)), key="net_ticktime")


@cluster_rule(
    "CLU165", "fewer-nodes-than-expected", Severity.ERROR, H,
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
    if view.expected is not None and len(members) < view.expected:
        names = [n.name for n in members]
        yield RULES["CLU165"].finding(
            f"{len(members)} of {view.expected} expected nodes answered"
            + (f": {', '.join(names)}" if names else ""), at(*names), key="expect")


def _hosts(view: ClusterView, *, failed: bool) -> Iterator[tuple[HostReport, Location]]:
    """Hosts whose EPMD failed (failed=True), or answered with an empty list (failed=False)."""
    for h in view.hosts:
        if (h.error_kind is not None) == failed and (failed or not h.registered):
            yield h, Location(url=f"epmd://{h.address}:{h.port}")


@cluster_rule(
    "CLU166", "epmd-unreachable", Severity.ERROR, H,
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
        yield RULES["CLU166"].finding(h.error, where, key=h.error_kind)


@cluster_rule(
    "CLU167", "epmd-empty", Severity.WARNING, H,
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
        yield RULES["CLU167"].finding(f"EPMD on {h.address}:{h.port} lists no nodes", where, key="empty")


@cluster_rule(
    "CLU168", "discovery-failed", Severity.ERROR, H,
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
        yield RULES["CLU168"].finding(f"{p.query}: {p.detail}", Location(url=f"dns:{p.query}{suffix}"), key=p.source)


@cluster_rule(
    "CLU169", "remote-call-failed", Severity.WARNING, M,
    title="A remote call on a reachable node failed, so part of its picture is missing",
    why="""
        The doctor asks each node through rex, the standard rpc server. A failing call means a
        busy node (timeout), a stopped rex, or a restricted node: the checks that need the
        answer could not run on that node.
    """,
    fix="""
        Check the node's load; run again with a longer --timeout.
    """,
)
def call_failed(view: ClusterView) -> Iterable[Finding]:
    for n in view.members():
        if n.facts.failed:
            calls = ", ".join(sorted(n.facts.failed))
            first = next(iter(n.facts.failed.values()))
            yield RULES["CLU169"].finding(f"{n.name}: {len(n.facts.failed)} remote calls failed ({calls}): {first}",
                                          at(n.name), key="calls")


@cluster_rule(
    "CLU170", "node-not-discovered", Severity.INFO, M,
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
        yield RULES["CLU170"].finding(f"{name} is connected to members but was not discovered", at(name), key="seen")


@cluster_rule(
    "CLU171", "partial-mesh", Severity.WARNING, H,
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
            yield RULES["CLU171"].finding(f"{len(missing)} of {total} links missing between {len(group)} nodes: {shown}",
                                          at(*sorted({n for pair in missing for n in pair})), key="mesh")

"""Cluster rules about the nodes themselves: version skew, limits, load, tick time, failed calls."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from phoenix_ops.cluster.ruledef import MEMBERS, H, M, at, usage_rule
from phoenix_ops.cluster.view import ClusterView
from phoenix_ops.findings import Finding, Severity
from phoenix_ops.rule import rule

RUN_QUEUE_FACTOR = 2  # run queue above this many times the online schedulers


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


@rule(
    "CLU159", "otp-version-skew", Severity.WARNING, M, kind="cluster", subject=MEMBERS,
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
    getters = (("OTP release", lambda n: n.facts.otp_release), ("ERTS version", lambda n: n.facts.erts_version))
    for label, getter in getters:
        groups = _skew(view, getter)
        if groups:
            yield otp_skew.finding(f"{label} differs across nodes ({ROLLING}): {_spread(groups)}",
                                          at(*_minority(groups)), key=label)


@rule(
    "CLU160", "app-version-skew", Severity.WARNING, M, kind="cluster", subject=MEMBERS,
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
            yield app_skew.finding(f"application {app} runs at different versions ({ROLLING}): "
                                          f"{_spread(groups)}", at(*_minority(groups)), key=app)


process_limit_near = usage_rule(
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


atom_limit_near = usage_rule(
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


@rule(
    "CLU163", "run-queue-high", Severity.WARNING, M, kind="cluster", subject=MEMBERS,
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
            yield run_queue.finding(f"{n.name} has {queue} processes waiting to run on {schedulers} schedulers",
                                          at(n.name), key="run_queue")


@rule(
    "CLU164", "net-ticktime-mismatch", Severity.WARNING, H, kind="cluster", subject=MEMBERS,
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
        yield ticktime.finding(f"net_ticktime differs across nodes: {_spread(groups)} (seconds)",
                                      at(*_minority(groups)), key="net_ticktime")


@rule(
    "CLU169", "remote-call-failed", Severity.WARNING, M, kind="cluster", subject=MEMBERS,
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
        failed = n.facts.failed | (n.facts.phoenix.failed if n.facts.phoenix else {})
        if failed:
            calls = ", ".join(sorted(failed))
            first = next(iter(failed.values()))
            yield call_failed.finding(f"{n.name}: {len(failed)} remote calls failed ({calls}): {first}",
                                          at(n.name), key="calls")

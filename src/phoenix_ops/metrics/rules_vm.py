"""Metrics rules about the BEAM itself: resources near their limits, memory, the run queue."""

from __future__ import annotations

from collections.abc import Iterator

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.metrics import names
from phoenix_ops.metrics.view import MetricsView, scraped
from phoenix_ops.rule import Subject, rule

H, M = Confidence.HIGH, Confidence.MEDIUM


def _schedulers(view: MetricsView) -> float | None:
    online = view.find(names.SCHEDULERS)
    return online[0].value if online else view.limits.schedulers


def _mib(n: float) -> str:
    return f"{n / 2**20:.0f} MiB"


@rule(
    "OBS100", "beam-resource-near-limit", Severity.ERROR, H, kind="metrics",
    subject=scraped("process, atom, port or ETS count",
                    lambda view: any(view.find(names.COUNTS[r]) for r in names.RESOURCES)),
    title="Processes, atoms, ports or ETS tables are near the VM's limit",
    why="""
        The BEAM has fixed ceilings: 262,144 processes, 1,048,576 atoms and 65,536 ports by
        default. Reaching one crashes the node (atoms) or makes every spawn or socket fail
        (processes, ports). A count that nears its limit is a leak or a load the node was not
        sized for.
    """,
    fix="""
        Find what grows (`:erlang.system_info/1`, `:recon.proc_count/2`): an atom leak from
        `String.to_atom/1` on input, processes that never exit, sockets left open. Raise the
        limit with `+P`, `+t` or `+Q` in rel/vm.args.eex only once the growth is understood.
    """,
)
def near_limit(view: MetricsView) -> Iterator[Finding]:
    for resource in names.RESOURCES:
        counts = view.find(names.COUNTS[resource])
        limits = view.find(names.LIMITS[resource])
        if not counts:
            continue
        limit = limits[0].value if limits else names.DEFAULT_LIMITS.get(resource)
        used = counts[0]
        if limit and used.value > view.limits.usage * limit:
            source = used.name if limits else f"{used.name} against the default limit"
            yield near_limit.finding(
                f"{resource} count {used.value:.0f} is {used.value / limit:.0%} of the limit {limit:.0f} "
                f"({source}; threshold {view.limits.usage:.0%})", view.at(used.name), key=resource,
                confidence=H if limits else M)


@rule(
    "OBS101", "beam-memory-near-container-limit", Severity.ERROR, H, kind="metrics",
    subject=Subject("no --memory-limit given", lambda view: bool(view.limits.memory_limit))
    & scraped("BEAM memory total", lambda view: bool(view.find(names.MEMORY))),
    title="The node's memory is near the container's limit",
    why="""
        A container that crosses its memory limit is killed by the kernel's OOM killer, with no
        crash dump and no graceful shutdown: every connection and in-flight job on the node is cut.
    """,
    fix="""
        Raise the container's memory limit or lower the node's use (large binaries held by
        long-lived processes, ETS tables that grow, mailboxes that back up), and alert well before
        the limit (see `gen alerts`).
    """,
)
def memory_near_limit(view: MetricsView) -> Iterator[Finding]:
    cap = view.limits.memory_limit
    found = view.find(names.MEMORY)
    used = names.memory_bytes(found[0].name, found[0].value)
    if used > view.limits.memory_share * cap:
        yield memory_near_limit.finding(
            f"BEAM memory {_mib(used)} is {used / cap:.0%} of the {_mib(cap)} limit "
            f"({found[0].name}; threshold {view.limits.memory_share:.0%})", view.at(found[0].name), key="memory")


@rule(
    "OBS102", "beam-run-queue-long", Severity.WARNING, M, kind="metrics",
    subject=scraped("run queue length, or no scheduler count (give --schedulers)",
                    lambda view: bool(view.find(names.RUN_QUEUE)) and bool(_schedulers(view))),
    title="The run queue is long for the number of schedulers: the node is CPU-bound",
    why="""
        Processes waiting in the run queue are ready to run but get no CPU. A queue that stays
        above a couple of processes per scheduler means every request waits, and latency climbs
        long before CPU graphs look alarming.
    """,
    fix="""
        Give the node more CPUs (and check that the schedulers match them: `+S` follows the
        container's CPU quota only from OTP 23 on), or find the busy processes with
        `:recon.proc_window(:reductions, 10, 1000)`.
    """,
)
def run_queue(view: MetricsView) -> Iterator[Finding]:
    queue, schedulers = view.find(names.RUN_QUEUE), _schedulers(view)
    if queue[0].value > view.limits.run_queue_factor * schedulers:
        yield run_queue.finding(
            f"run queue {queue[0].value:.0f} with {schedulers:.0f} scheduler(s) (threshold "
            f"{view.limits.run_queue_factor:g} per scheduler; {queue[0].name})", view.at(queue[0].name),
            key="run-queue")

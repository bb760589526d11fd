"""The cluster as a plain text table, one row per node, then the partitions."""

from __future__ import annotations

from phoenix_ops.cluster.view import ClusterView, NodeReport, count, describe_groups

COLUMNS = ("node", "state", "otp", "erts", "processes", "atoms", "runq/sched", "memory", "uptime", "tick", "sees")


def _share(used: int | None, limit: int | None) -> str:
    return f"{used}/{limit} ({used / limit:.0%})" if used is not None and limit else "-"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if days else f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _state(n: NodeReport) -> str:
    if not n.reached:
        return n.error_kind or "not checked"
    return "hidden" if n.hidden else "ok (tls)" if n.tls else "ok"


def _row(n: NodeReport, members: set[str]) -> tuple[str, ...]:
    f = n.facts
    if f is None:
        return (n.name, _state(n)) + ("-",) * (len(COLUMNS) - 2)
    memory = f.memory.get("total")
    sees = len(set(f.visible or ()) & members)
    return (
        n.name, _state(n), f.otp_release or "-", f.erts_version or "-",
        _share(f.process_count, f.process_limit), _share(f.atom_count, f.atom_limit),
        f"{f.run_queue if f.run_queue is not None else '-'}/{f.schedulers or '-'}",
        f"{memory / 2**20:.0f} MiB" if memory else "-", _duration(f.uptime_seconds),
        f"{f.net_ticktime}s" if f.net_ticktime else "-",
        "-" if f.visible is None or n.hidden else f"{sees}/{len(members) - (n.name in members)}",
    )


def node_rows(view: ClusterView) -> list[tuple[str, ...]]:
    """One row per node, reached ones first."""
    members = {n.name for n in view.members()}
    return [_row(n, members) for n in sorted(view.nodes, key=lambda n: (not n.reached, n.name))]


def render_table(view: ClusterView) -> str:
    rows = [COLUMNS, *node_rows(view)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    groups = view.partitions()
    if not view.nodes:
        lines = ["no nodes found"]
    elif len(groups) > 1:
        lines.append(f"\npartitions ({len(groups)}): {describe_groups(groups)}")
    elif groups:
        lines.append(f"\n{count(len(groups[0]), 'connected member')}")
    lines.append(f"checked {count(len(view.nodes), 'node')} on {count(len(view.hosts), 'EPMD host')} "
                 f"in {view.seconds:.2f}s")
    return "\n".join(lines) + "\n"

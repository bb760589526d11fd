"""The jobs view as plain text: queues, nodes with executing jobs, failing workers, the table."""

from __future__ import annotations

from phoenix_ops.jobs.view import JobsView, duration, size


def _grid(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]


def render_table(view: JobsView) -> str:
    live = view.live_peers()
    leader = ", ".join(f"{p.node} ({p.name})" for p in live) if live else \
        "none (no oban_peers table)" if view.peers is None else "none"
    lines = [f"{view.database} · schema {view.prefix} · Oban schema "
             f"v{view.schema_version if view.schema_version is not None else '?'} · leader: {leader}", ""]
    if view.queues:
        lines += _grid(("queue", "available", "oldest due", "scheduled", "late", "executing", "retryable"), [
            (q.queue, str(q.available), duration(q.overdue) if q.available else "-", str(q.scheduled),
             str(q.scheduled_overdue), str(q.executing), str(q.retryable)) for q in view.queues])
    else:
        lines.append("no pending jobs")
    if view.nodes:
        lines += [""] + _grid(("node", "executing", "longest", "stale"), [
            (n.node or "?", str(n.executing), duration(n.oldest), str(n.stale)) for n in view.nodes])
    failing = [w for w in view.workers if w.retryable or w.discarded_day or w.errors_day]
    if failing:
        lines += [""] + _grid(("worker", "retryable", "discarded 1h/1d", "errors 1h/1d", "most common error"), [
            (w.worker, str(w.retryable), f"{w.discarded_hour}/{w.discarded_day}", f"{w.errors_hour}/{w.errors_day}",
             w.top_error or "-") for w in failing])
    t = view.table
    finished = ", ".join(f"{f.state} (oldest {duration(f.oldest)})" for f in view.finished) or "none"
    lines += ["", f"table {size(t.table_bytes)} + indexes {size(t.index_bytes)}; {t.live_tuples} live rows, "
                  f"{t.dead_tuples} dead; finished: {finished}"]
    return "\n".join(lines) + "\n"

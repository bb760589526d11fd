"""Jobs rules about work that does not move: orphans, no leader, stalled queues, backlogs."""

from __future__ import annotations

from collections.abc import Iterator

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.jobs.view import JobsView, duration
from phoenix_ops.rule import Subject, rule

H, M = Confidence.HIGH, Confidence.MEDIUM
PEERS_TABLE = Subject("no oban_peers table (Oban before 2.11 elects no leader there)", lambda view: view.peers is not None)
# Queues are judged while Oban runs them: without a live leader JOB101 says why nothing moves.
RUNNING = Subject("no live Oban leader: nothing runs the queues (JOB101 says why)", lambda view: bool(view.live_peers()),
                  lambda view: "no oban_peers table: whether Oban runs cannot be told" if view.peers is None else None)


@rule(
    "JOB100", "oban-orphaned-jobs", Severity.ERROR, M, kind="jobs",
    title="Jobs are `executing` on a node that is gone",
    why="""
        A deploy or crash that kills a node mid-job leaves its jobs in the `executing` state: no
        node will run them again until Oban's Lifeline plugin rescues them, and Lifeline is not
        enabled by default (and waits 60 minutes when it is). The work is silently lost or late:
        the e-mail is never sent, the payment never captured.
    """,
    fix="""
        Enable `Oban.Plugins.Lifeline` (with a `rescue_after` longer than your longest job), and
        stop nodes gracefully so Oban can finish or hand back jobs: give the release a shutdown
        grace period longer than Oban's `shutdown_grace_period` (15 s by default).

        Pass the running nodes with `--live-node` so nodes that are alive but only run long jobs are
        not taken for dead.
    """,
)
def orphans(view: JobsView) -> Iterator[Finding]:
    live = view.live_nodes()
    sure = H if view.limits.live_nodes else M
    for n in view.nodes:
        if n.stale and n.node not in live:
            who = f"node {n.node}" if n.node else "no recorded node"
            workers = ", ".join(n.workers[:3]) + (" …" if len(n.workers) > 3 else "")
            yield orphans.finding(
                f"{n.stale} job(s) executing on {who} for {duration(n.oldest)} at most (workers {workers}); "
                f"{n.node or 'it'} is not a live Oban peer and started no job in the last "
                f"{duration(view.limits.grace)}", view.at(node=n.node), key=n.node, confidence=sure)


@rule(
    "JOB101", "oban-no-live-leader", Severity.ERROR, H, kind="jobs",
    subject=PEERS_TABLE & Subject("no job in oban_jobs: nothing for a leader to run",
                                  lambda view: bool(view.queues or view.finished)),
    title="No live Oban leader: Cron, Pruner, Lifeline and the Stager are not running",
    why="""
        Oban elects one leader per instance through `oban_peers`; only the leader runs the
        plugins that must run once per cluster: Cron schedules, the Pruner deletes old jobs,
        Lifeline rescues orphans, and the Stager moves scheduled jobs to available. With no
        unexpired peer row, none of them runs, and nothing says so.
    """,
    fix="""
        Check that a node with Oban is running and can reach the database, that `peer:` is not
        set to `false` and that `plugins:` is not `false` in the Oban config of the nodes that
        should lead.
    """,
)
def no_leader(view: JobsView) -> Iterator[Finding]:
    if view.live_peers():
        return
    if view.peers:
        last = max(view.peers, key=lambda p: p.expires_at)
        since = f"the last leader, {last.node}, expired {duration((view.now - last.expires_at).total_seconds())} ago"
    else:
        since = "oban_peers is empty"
    yield no_leader.finding(f"no live Oban leader: {since}", view.at(table="oban_peers"), key="leader")


@rule(
    "JOB102", "oban-queue-stalled", Severity.ERROR, H, kind="jobs", subject=RUNNING,
    title="A queue's available jobs are past due while Oban is running",
    why="""
        Available jobs whose time has come long ago, while a leader is alive, mean no running
        node processes the queue: it is missing from every node's `queues:` config, paused, or
        limited to 0, or every slot is held by a job that never ends.
    """,
    fix="""
        List the queue in `config :my_app, Oban, queues: [...]` of the nodes that should run it,
        resume it if it was paused (`Oban.resume_queue/1`), and look for jobs that never finish.
    """,
)
def stalled(view: JobsView) -> Iterator[Finding]:
    for q in view.queues:
        if q.available and q.overdue > view.limits.stall:
            yield stalled.finding(
                f"queue {q.queue}: {q.available} available job(s), the oldest {duration(q.overdue)} past due "
                f"(limit {duration(view.limits.stall)}), {q.executing} executing", view.at(queue=q.queue),
                key=q.queue)


@rule(
    "JOB103", "oban-queue-backlog", Severity.WARNING, H, kind="jobs",
    title="A queue holds more available jobs than it can work off",
    why="""
        A deep queue means jobs wait: users see their e-mail or export late, and a backlog that
        keeps growing ends in a table so large that every Oban query slows down.
    """,
    fix="""
        Raise the queue's concurrency limit or add nodes that run it, make the worker faster, or
        insert fewer jobs (unique jobs, batching). Alert on the depth (see `gen alerts`).
    """,
)
def backlog(view: JobsView) -> Iterator[Finding]:
    for q in view.queues:
        if q.available > view.limits.max_depth:
            yield backlog.finding(
                f"queue {q.queue}: {q.available} available jobs (limit {view.limits.max_depth}), the oldest "
                f"waiting {duration(q.overdue)}", view.at(queue=q.queue), key=q.queue)


@rule(
    "JOB104", "oban-scheduled-overdue", Severity.WARNING, H, kind="jobs",
    title="Scheduled jobs whose time has passed are not made available",
    why="""
        Oban's Stager moves `scheduled` (and `retryable`) jobs to `available` when their time
        comes. Scheduled jobs long past their time mean the Stager does not run: no leader, or
        Oban's plugins are disabled on every node, so snoozed, retried and scheduled jobs never run.
    """,
    fix="""
        Make sure a node runs Oban with its default plugins (the Stager needs no configuration)
        and can take leadership; see JOB101.
    """,
)
def scheduled_overdue(view: JobsView) -> Iterator[Finding]:
    for q in view.queues:
        if q.scheduled_overdue:
            yield scheduled_overdue.finding(
                f"queue {q.queue}: {q.scheduled_overdue} scheduled job(s) more than "
                f"{duration(view.limits.stall)} past their time, the oldest by {duration(q.scheduled_late)}",
                view.at(queue=q.queue), key=q.queue)

"""Jobs rules about failing workers and the table itself: retries, discards, errors, pruning,
bloat and the schema version."""

from __future__ import annotations

from collections.abc import Iterator

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.jobs.view import COUNT_CAP, MIN_DEAD, JobsView, duration, size
from phoenix_ops.rule import Subject, rule

H, M = Confidence.HIGH, Confidence.MEDIUM


def _top(w) -> str:
    return f"; most common error ({w.top_error_count}×): {w.top_error}" if w.top_error else ""


@rule(
    "JOB105", "oban-retryable-pileup", Severity.WARNING, H, kind="jobs",
    title="A worker has many jobs waiting to be retried",
    why="""
        Retryable jobs failed and wait for their next attempt with backoff. Many of one worker
        means it fails again and again (a dead dependency, a bug, a bad deploy), and each retry
        costs a slot and a database round trip.
    """,
    fix="""
        Read the worker's errors (`phoenix-ops jobs` shows the most common one), fix the cause,
        and give permanent failures `{:discard, reason}` or `{:cancel, reason}` instead of raising.
    """,
)
def retryable_pileup(view: JobsView) -> Iterator[Finding]:
    for w in view.workers:
        if w.retryable > view.limits.max_retryable:
            yield retryable_pileup.finding(
                f"worker {w.worker}: {w.retryable} retryable jobs (limit {view.limits.max_retryable}){_top(w)}",
                view.at(worker=w.worker), key=w.worker)


@rule(
    "JOB106", "oban-jobs-discarded", Severity.WARNING, H, kind="jobs",
    title="A worker's jobs were discarded: they ran out of attempts",
    why="""
        A discarded job will never run again: whatever it was meant to do is lost unless someone
        notices. Oban keeps them until the Pruner deletes them, so they are the only trace.
    """,
    fix="""
        Fix the error, then retry the discarded jobs (`Oban.retry_all_jobs/1` with a query on
        the worker), and alert on discards (see `gen alerts`).
    """,
)
def discarded(view: JobsView) -> Iterator[Finding]:
    for w in view.workers:
        if w.discarded_day:
            loud = w.discarded_hour >= view.limits.max_discards
            yield discarded.finding(
                f"worker {w.worker}: {w.discarded_hour} job(s) discarded in the last hour, {w.discarded_day} in the "
                f"last day{_top(w)}", view.at(worker=w.worker), key=w.worker,
                severity=None if loud else Severity.INFO)


@rule(
    "JOB107", "oban-worker-errors", Severity.WARNING, H, kind="jobs",
    title="A worker's attempts fail often",
    why="""
        Failed attempts are retried, so they do not show as lost work, but they hide a fault (a
        timeout, a dependency down) and multiply the load on whatever is failing.
    """,
    fix="""
        Read the most common error shown, fix its cause, and raise only for errors worth
        retrying.
    """,
)
def worker_errors(view: JobsView) -> Iterator[Finding]:
    for w in view.workers:
        if w.errors_hour > view.limits.max_errors:
            yield worker_errors.finding(
                f"worker {w.worker}: {w.errors_hour} failed attempt(s) in the last hour (limit "
                f"{view.limits.max_errors}), {w.errors_day} in the last day{_top(w)}",
                view.at(worker=w.worker), key=w.worker)


@rule(
    "JOB108", "oban-not-pruned", Severity.WARNING, M, kind="jobs",
    title="Finished jobs are kept far longer than the retention: the Pruner is not running",
    why="""
        Oban keeps completed, cancelled and discarded jobs until the Pruner deletes them. Without
        it (the plugin not configured, or no leader to run it) `oban_jobs` grows forever, and
        every query Oban makes, including fetching the next job, gets slower.
    """,
    fix="""
        Add `Oban.Plugins.Pruner` to `plugins:` with a `max_age` that fits your needs; give
        `--retention` if yours is longer than a week.
    """,
)
def not_pruned(view: JobsView) -> Iterator[Finding]:
    old = [f for f in view.finished if f.oldest > view.limits.retention]
    if old:
        listed = ", ".join(f"{f.old_text(COUNT_CAP)} {f.state} (oldest {duration(f.oldest)})" for f in old)
        yield not_pruned.finding(
            f"finished jobs older than the retention of {duration(view.limits.retention)}: {listed}; "
            f"the table holds {size(view.table.total_bytes)}", view.at(), key="pruner")


@rule(
    "JOB109", "oban-table-bloat", Severity.WARNING, M, kind="jobs",
    title="oban_jobs carries many dead rows: autovacuum is not keeping up",
    why="""
        Every job changes state several times, and each change leaves a dead row behind. When
        autovacuum falls behind on `oban_jobs`, the table and its indexes bloat and Oban's fetch
        query scans dead rows on every poll.
    """,
    fix="""
        Make autovacuum visit the table more often:
        `ALTER TABLE oban_jobs SET (autovacuum_vacuum_scale_factor = 0.01)`, and look for
        long-running transactions that hold back vacuum.
    """,
)
def bloat(view: JobsView) -> Iterator[Finding]:
    t = view.table
    total = t.live_tuples + t.dead_tuples
    if t.dead_tuples >= MIN_DEAD and t.dead_tuples > view.limits.dead_share * total:
        vacuumed = f"last autovacuum {t.last_autovacuum:%Y-%m-%d %H:%M} UTC" if t.last_autovacuum else \
            "never autovacuumed since the statistics were reset"
        yield bloat.finding(
            f"oban_jobs has {t.dead_tuples} dead rows against {t.live_tuples} live ({t.dead_tuples / total:.0%}); "
            f"{vacuumed}; table {size(t.table_bytes)}, indexes {size(t.index_bytes)}", view.at(), key="bloat")


# Oban release -> the schema version its migrations reach (Oban.Migrations.Postgres @current_version).
SCHEMA_FOR = ((2, 17, 12), (2, 11, 11))


def wanted_schema(version: str) -> int | None:
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return None
    return next((schema for ma, mi, schema in SCHEMA_FOR if (major, minor) >= (ma, mi)), None)


@rule(
    "JOB110", "oban-schema-behind", Severity.ERROR, H, kind="jobs",
    subject=Subject("the Oban version in use is unknown: --project reads it from mix.lock",
                    lambda view: bool(view.lock_version) and wanted_schema(view.lock_version) is not None,
                    lambda view: f"no schema version is known for Oban {view.lock_version}" if view.lock_version
                    else None),
    title="The database's Oban schema is older than the Oban the project uses",
    why="""
        Each Oban release expects its migrations to have run: a schema left behind misses
        columns, indexes or the `oban_peers` table, and Oban fails at run time or quietly
        disables leadership.
    """,
    fix="""
        Add a migration that calls `Oban.Migration.up(version: N)` for the version shown, and run
        it before the new release starts.
    """,
)
def schema_behind(view: JobsView) -> Iterator[Finding]:
    wanted = wanted_schema(view.lock_version)
    if view.schema_version is None:
        yield schema_behind.finding(
            f"oban_jobs carries no schema version comment; Oban {view.lock_version} expects v{wanted}",
            view.at(), key="schema", confidence=Confidence.LOW)
    elif view.schema_version < wanted:
        yield schema_behind.finding(
            f"Oban schema is v{view.schema_version}, but Oban {view.lock_version} (mix.lock) expects v{wanted}",
            view.at(), key="schema")

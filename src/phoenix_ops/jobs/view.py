"""What `jobs` read from Oban's tables: counts, ages, workers and queues — never a job's args."""

from __future__ import annotations

import datetime as dt

from phoenix_ops.findings import Location
from phoenix_ops.record import asdict, field, record

HOUR, DAY = 3600, 86400


@record(frozen=True)
class Limits:
    """Thresholds of the jobs rules, each a command-line flag."""

    grace: float = 300.0  # an executing job older than this on a node not known live is an orphan
    stall: float = 300.0  # available (or scheduled) jobs past due by more than this: nothing runs them
    max_depth: int = 10_000  # available jobs in one queue
    max_retryable: int = 100  # retryable jobs of one worker
    max_discards: int = 10  # discards of one worker in the last hour
    max_errors: int = 100  # failed attempts of one worker in the last hour
    retention: float = 7 * DAY  # finished jobs older than this: the Pruner is not keeping up
    dead_share: float = 0.2  # dead tuples above this share of the table (and MIN_DEAD of them)
    live_nodes: tuple[str, ...] = ()  # nodes known to be running (from the cluster), besides the peers


MIN_DEAD = 10_000
COUNT_CAP = 100_000  # finished jobs past the retention are counted up to this many


@record(frozen=True)
class Peer:
    name: str  # the Oban instance (one row per instance: its leader)
    node: str
    started_at: dt.datetime
    expires_at: dt.datetime


@record
class QueueStats:
    queue: str
    available: int = 0
    overdue: float = 0.0  # seconds the oldest available job is past its scheduled_at
    scheduled: int = 0
    scheduled_overdue: int = 0  # scheduled jobs whose time has come more than `stall` ago
    scheduled_late: float = 0.0  # seconds the oldest of those is late
    executing: int = 0
    retryable: int = 0


@record
class NodeWork:
    node: str
    executing: int
    oldest: float  # seconds since the oldest executing job on the node started
    newest: float  # seconds since the newest one started
    stale: int = 0  # executing jobs started more than `grace` ago
    workers: list[str] = field(default_factory=list)  # workers of those stale jobs, most frequent first


@record
class WorkerFailures:
    worker: str
    retryable: int = 0
    discarded_hour: int = 0
    discarded_day: int = 0
    errors_hour: int = 0
    errors_day: int = 0
    top_error: str = ""  # the most common error of the day: first line, cut before any data
    top_error_count: int = 0


@record
class Finished:
    state: str  # completed, discarded or cancelled
    oldest: float  # seconds since the oldest one's scheduled_at (the Pruner's measure)
    old: int = 0  # how many are older than the retention, counted up to COUNT_CAP + 1

    def old_text(self, cap: int) -> str:
        return f"more than {cap}" if self.old > cap else str(self.old)


@record
class TableStats:
    total_bytes: int
    table_bytes: int
    index_bytes: int
    live_tuples: int
    dead_tuples: int
    last_autovacuum: dt.datetime | None


@record
class JobsView:
    database: str  # the database URL without password: where the findings point
    prefix: str
    schema_version: int | None  # from the table comment Oban's migrations write
    now: dt.datetime  # the database's clock, in UTC like Oban's timestamps
    peers: list[Peer] | None  # None: no oban_peers table (schema before v11)
    queues: list[QueueStats]
    nodes: list[NodeWork]
    workers: list[WorkerFailures]
    finished: list[Finished]
    table: TableStats
    limits: Limits = field(default_factory=Limits)
    lock_version: str | None = None  # Oban's version in the project's mix.lock

    def live_peers(self) -> list[Peer]:
        return [p for p in self.peers or () if p.expires_at > self.now]

    def live_nodes(self) -> set[str]:
        """Nodes known to run: a live leader, the nodes given as live, and those that started a job
        within the grace period."""
        recent = {n.node for n in self.nodes if n.newest <= self.limits.grace}
        return {p.node for p in self.live_peers()} | set(self.limits.live_nodes) | recent

    def total(self, what: str) -> int:
        return sum(getattr(q, what) for q in self.queues)

    def at(self, **subject: str) -> Location:
        """A location in this database: the table, or one queue / worker / node of it."""
        fragment = "&".join(f"{k}={v}" for k, v in subject.items())
        return Location(url=f"{self.database}/{self.prefix}.oban_jobs" + (f"#{fragment}" if fragment else ""))

    def to_dict(self) -> dict:
        out = asdict(self)
        out["now"] = self.now.isoformat()
        out["limits"]["live_nodes"] = list(self.limits.live_nodes)
        for p in out["peers"] or ():
            p["started_at"], p["expires_at"] = p["started_at"].isoformat(), p["expires_at"].isoformat()
        vacuum = out["table"]["last_autovacuum"]
        out["table"]["last_autovacuum"] = vacuum.isoformat() if vacuum else None
        return out


def duration(seconds: float) -> str:
    """3d4h, 2h05m, 7m30s, 12s."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if days else f"{hours}h{minutes:02d}m" if hours else \
        f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def size(nbytes: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes} B"

"""Plant Oban jobs and peers in the states a test needs, by SQL on Oban's real schema."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import psycopg

# What must never reach a report: user data in args and in error texts.
SECRET_ARG = "alice@example.com"


@dataclass
class Planter:
    dsn: str

    def sql(self, statement: str, params=()) -> list[tuple]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def now(self) -> dt.datetime:
        return self.sql("SELECT timezone('UTC', now())")[0][0]

    def job(self, state: str, *, queue: str = "default", worker: str = "App.Workers.Mailer", count: int = 1,
            scheduled: float = 0, attempted: float | None = None, node: str | None = None,
            discarded: float | None = None, completed: float | None = None, errors: list[tuple[float, str]] = (),
            attempt: int = 1) -> None:
        """`count` jobs; times are seconds before now (negative: in the future)."""
        now = self.now()

        def ago(seconds: float | None):
            return None if seconds is None else now - dt.timedelta(seconds=seconds)
        errs = [json.dumps({"at": ago(s).isoformat() + "Z", "attempt": 1, "error": text}) for s, text in errors]
        self.sql(
            "INSERT INTO oban_jobs (state, queue, worker, args, errors, attempt, max_attempts, scheduled_at, "
            "attempted_at, attempted_by, discarded_at, completed_at) "
            "SELECT %s, %s, %s, %s, %s::jsonb[], %s, 20, %s, %s, %s, %s, %s FROM generate_series(1, %s)",
            (state, queue, worker, json.dumps({"email": SECRET_ARG, "n": 1}), errs, attempt, ago(scheduled),
             ago(attempted), [node, "0a1b2c3d"] if node else None, ago(discarded), ago(completed), count))

    def peer(self, node: str, *, expires_in: float = 30, name: str = "Oban") -> None:
        now = self.now()
        self.sql("INSERT INTO oban_peers (name, node, started_at, expires_at) VALUES (%s, %s, %s, %s)",
                 (name, node, now - dt.timedelta(minutes=10), now + dt.timedelta(seconds=expires_in)))

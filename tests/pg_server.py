"""A real PostgreSQL for the tests: initdb into its own temp dir, run as the `postgres` user (the
server refuses root) on a free loopback port, stopped and removed at teardown.

    with PgServer.start() as pg:                 # or the session fixture `postgres` (a DSN)
        dsn = create_database(pg.dsn)            # a fresh, empty database
        dsn = create_database(pg.dsn, template="oban")   # a copy of a prepared one

Fails loudly when the server cannot start: the tests that need it never skip.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

BIN = Path("/usr/lib/postgresql/15/bin")
USER = "postgres"  # the OS user that owns the data dir, and the database superuser
# Durability off: test data is thrown away, and fsync dominates start-up on a busy machine.
FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=50",
        "shared_buffers=64MB")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run as the `postgres` OS user when we are root; as ourselves otherwise."""
    return ["runuser", "-u", USER, "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class PgServer:
    root: Path
    port: int
    proc: subprocess.Popen

    @property
    def dsn(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls, tries: int = 3) -> PgServer:
        """initdb once, then start on a free port (another port if a racing process took it)."""
        if not (BIN / "postgres").exists():
            raise RuntimeError(f"PostgreSQL binaries not found in {BIN}: install Debian's postgresql")
        # Not pytest's tmp_path: it sits under a root-only directory the postgres user cannot enter.
        root = Path(tempfile.mkdtemp(prefix="phoenix-ops-pg-"))
        try:
            if os.geteuid() == 0:
                owner = pwd.getpwnam(USER)
                os.chown(root, owner.pw_uid, owner.pw_gid)
            data = root / "data"
            done = subprocess.run(
                _as_postgres([str(BIN / "initdb"), "-D", str(data), "-U", USER, "-A", "trust",
                              "-E", "UTF8", "--locale=C", "--no-sync"]),
                capture_output=True, text=True, timeout=120)
            if done.returncode:
                raise RuntimeError(f"initdb failed: {done.stderr.strip()[-2000:]}")
            last = ""
            for _ in range(tries):
                port = free_port()
                # The server's log goes to a file: a pipe nobody reads would block it once full.
                with open(root / "postgres.log", "ab") as log:
                    proc = subprocess.Popen(
                        _as_postgres([str(BIN / "postgres"), "-D", str(data), "-k", str(root), "-p", str(port),
                                      "-c", "listen_addresses=127.0.0.1", *[a for c in FAST for a in ("-c", c)]]),
                        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
                server = cls(root, port, proc)
                try:
                    server._wait_ready()
                    return server
                except RuntimeError as exc:
                    last = str(exc)
                    server._kill()
            raise RuntimeError(f"PostgreSQL did not start after {tries} tries: {last}")
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.root / "postgres.log").read_text(errors="replace")
                raise RuntimeError(f"postgres exited with {self.proc.returncode}: {log.strip()[-2000:]}")
            try:
                psycopg.connect(self.dsn, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections on port {self.port} within {timeout} s")

    def _kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Fast shutdown (SIGINT to the postmaster), then SIGKILL if it lingers; remove the data."""
        try:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGINT)
                try:
                    self.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    self._kill()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def with_database(dsn: str, name: str) -> str:
    """The same server's URL pointing at another database."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    return f"postgresql://{info.get('user', USER)}@{info['host']}:{info['port']}/{name}"


def create_database(dsn: str, template: str | None = None, name: str | None = None) -> str:
    """Create a new database (empty, or a copy of `template`) on the server of `dsn`; its DSN."""
    name = name or f"t_{uuid.uuid4().hex[:12]}"
    sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)
    return with_database(dsn, name)


def drop_database(dsn: str, name: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- pytest fixtures (tests/conftest.py exposes them to every test) --------------------------------

@pytest.fixture(scope="session")
def postgres():
    """The DSN of a real PostgreSQL server for the whole session (one per xdist worker)."""
    with PgServer.start() as server:
        yield server.dsn


@pytest.fixture
def pg_database(postgres):
    """The DSN of a fresh, empty database, dropped after the test."""
    dsn = create_database(postgres)
    yield dsn
    drop_database(postgres, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])

"""Oban's real schema in a test database, made by Oban's own migrations (tests/oban_schema, a tiny
Mix project on the phoenix-stack sources, compiled once into the cache dir and kept).

    migrate(dsn)                        # schema v12 (Oban 2.18) in `public`
    migrate(dsn, version=11, prefix="jobs")

Cache: `$PHOENIX_OPS_CACHE/oban-schema/<hash>/` or `<repo>/.cache/oban-schema/<hash>/`; concurrent
builders wait on an fcntl lock."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
SOURCES = Path(__file__).resolve().parent / "oban_schema"
TIMEOUT = 900.0


def stack_dir() -> Path:
    for candidate in (os.environ.get("PHOENIX_STACK"), REPO.parent / "shared" / "phoenix-stack",
                      Path("/work/shared/phoenix-stack")):
        if candidate and (Path(candidate) / "deps.tar.gz").is_file():
            return Path(candidate)
    raise RuntimeError("phoenix-stack not found: set PHOENIX_STACK to the folder holding deps.tar.gz")


def _key(stack: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in SOURCES.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(SOURCES)).encode() + b"\0" + path.read_bytes() + b"\0")
    h.update((stack / "deps.tar.gz").read_bytes() + (stack / "offline_scm.exs").read_bytes())
    return h.hexdigest()[:16]


def _env(work: Path, stack: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(work / "home"), "LANG": "C.UTF-8",
            "MIX_ENV": "prod", "PHOENIX_STACK": str(stack), "PHOENIX_STACK_DEPS": str(work / "deps")}


def build() -> tuple[Path, dict[str, str]]:
    """The compiled Mix project and the environment to run it in (built at most once per hash)."""
    stack = stack_dir()
    base = Path(os.environ.get("PHOENIX_OPS_CACHE") or REPO / ".cache") / "oban-schema"
    work = base / _key(stack)
    work.mkdir(parents=True, exist_ok=True)
    env = _env(work, stack)
    with open(work / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (work / "built").exists():
            shutil.rmtree(work / "app", ignore_errors=True)
            with tarfile.open(stack / "deps.tar.gz") as tar:
                tar.extractall(work, filter="tar")
            shutil.copytree(SOURCES, work / "app")
            (work / "home").mkdir(exist_ok=True)
            done = subprocess.run(["mix", "compile"], cwd=work / "app", env=env, capture_output=True, text=True,
                                  timeout=TIMEOUT)
            if done.returncode:
                raise RuntimeError(f"building the Oban migrator failed:\n{(done.stdout + done.stderr)[-4000:]}")
            (work / "built").write_text("ok\n")
    return work / "app", env


def migrate(dsn: str, version: int = 12, prefix: str = "public") -> None:
    """Run Oban's migrations up to `version` into `prefix` of the database at `dsn`."""
    app, env = build()
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    url = f"ecto://{info.get('user', 'postgres')}@{info['host']}:{info['port']}/{info['dbname']}"
    env = {**env, "DATABASE_URL": url, "OBAN_VERSION": str(version), "OBAN_PREFIX": prefix}
    done = subprocess.run(["mix", "run", "--no-start", "--no-compile", "-e", "ObanSchema.migrate()"],
                          cwd=app, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"Oban's migrations failed:\n{(done.stdout + done.stderr)[-4000:]}")

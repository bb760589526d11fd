"""The real Phoenix application of the tests (tests/phoenix_app): built once into a cache keyed on
its sources and the phoenix-stack, then started as a `mix release` on free loopback ports.

Cache: `$PHOENIX_OPS_CACHE/phoenix-fixture/` or `<repo>/.cache/phoenix-fixture/`; concurrent
builders (xdist workers, other checkouts sharing the cache) wait on an fcntl lock. The stack comes
from `$PHOENIX_STACK` or ../shared/phoenix-stack beside the repository. Run this file to build and
print the timings: `python tests/phoenix_fixture.py [1|2]`."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
APP_SOURCES = Path(__file__).resolve().parent / "phoenix_app"
APP = "phx_fixture"
LOOPBACK = "127.0.0.1"
BOOT_TIMEOUT = 60.0  # boot to the first 200 on /health takes 1-3 s on an idle machine
BUILD_TIMEOUT = 1200.0
# What a default start looks like: phx.new's prod config, reachable at http://127.0.0.1:PORT with
# localhost as the endpoint's host (the test certificates are for localhost).
BASE_ENV = {"PHX_SERVER": "true", "PHX_HOST": "localhost", "PHX_IP": LOOPBACK, "LANG": "C.UTF-8"}


def stack_dir() -> Path:
    for candidate in (os.environ.get("PHOENIX_STACK"), REPO.parent / "shared" / "phoenix-stack",
                      Path("/work/shared/phoenix-stack")):
        if candidate and (Path(candidate) / "deps.tar.gz").is_file():
            return Path(candidate)
    raise RuntimeError("phoenix-stack not found: set PHOENIX_STACK to the folder holding deps.tar.gz")


def cache_root() -> Path:
    base = os.environ.get("PHOENIX_OPS_CACHE")
    return (Path(base) if base else REPO / ".cache") / "phoenix-fixture"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def stack_key(stack: Path) -> str:
    h = hashlib.sha256()
    for name in ("deps.tar.gz", "offline_scm.exs", "versions.txt"):
        h.update(name.encode() + b"\0" + (stack / name).read_bytes())
    return h.hexdigest()[:12]


def source_key() -> str:
    """A hash of every fixture source file: any change means a new build of the app."""
    h = hashlib.sha256()
    for path in sorted(p for p in APP_SOURCES.rglob("*") if p.is_file() and p.suffix != ".md"):
        h.update(str(path.relative_to(APP_SOURCES)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


@dataclass(frozen=True)
class FixtureBuild:
    generation: int  # 1, or 2: a new migration and a changed asset
    version: str  # the release version, 0.<generation>.0
    source: Path  # the app's sources as built (a phx.new-shaped Mix project, for `check`)
    release: Path  # _build/prod/rel/phx_fixture
    tarball: Path  # the `mix release` tarball
    seconds: float  # how long the build took (0 when it came from the cache)

    @property
    def bin(self) -> Path:
        return self.release / "bin" / APP


def _run(argv: list[str], cwd: Path, env: dict, log: Path) -> None:
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        done = subprocess.run(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
    if done.returncode:
        tail = log.read_text(errors="replace")[-4000:]
        raise RuntimeError(f"fixture build step {' '.join(argv)} failed ({done.returncode}):\n{tail}")


def _compiled_libraries(work: Path, stack_id: str) -> Path | None:
    """A finished build with the same stack: its compiled libraries are reused (they sit at the same
    paths), so an edit of the app costs seconds, not a full compile of the stack."""
    for done in sorted(work.parent.glob(f"{stack_id}-*/v*.done"), key=lambda p: p.stat().st_mtime, reverse=True):
        build = done.with_suffix("") / "_build"
        if build.is_dir():
            return build
    return None


def _build_into(work: Path, stack: Path, stack_id: str, generation: int) -> None:
    deps = work.parent / f"stack-{stack_id}" / "deps"
    if not deps.is_dir():
        with tarfile.open(stack / "deps.tar.gz") as tar:
            tar.extractall(deps.parent, filter="tar")
    src = work / f"v{generation}"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(APP_SOURCES, src, ignore=shutil.ignore_patterns("v2"))
    if generation >= 2:
        shutil.copytree(APP_SOURCES / "v2", src, dirs_exist_ok=True)
    if seed := _compiled_libraries(work, stack_id):
        shutil.copytree(seed, src / "_build", symlinks=True)
        shutil.rmtree(src / "_build" / "prod" / "lib" / APP, ignore_errors=True)
        shutil.rmtree(src / "_build" / "prod" / "rel", ignore_errors=True)
        for tarball in (src / "_build" / "prod").glob("*.tar.gz"):
            tarball.unlink()
    (work / "home").mkdir(exist_ok=True)
    env = _mix_env(work / "home", stack, deps, generation)
    log = work / f"build-v{generation}.log"
    for argv in (["mix", "compile"], ["mix", "assets.deploy"], ["mix", "release", "--overwrite"]):
        _run(argv, src, env, log)


def _mix_env(home: Path, stack: Path, deps: Path, generation: int) -> dict:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
            "MIX_ENV": "prod", "MIX_REBAR3": shutil.which("rebar3") or "/usr/bin/rebar3",
            "PHOENIX_STACK": str(stack), "PHOENIX_DEPS": str(deps), "FIXTURE_VSN": str(generation)}


def copy_built(build: FixtureBuild, dest: Path) -> Path:
    """The build's project with its compiled _build (every library and the app, mtimes kept, so Mix
    finds nothing stale) but without its release: `release_in` then costs seconds, not a compile."""
    shutil.copytree(build.source, dest, symlinks=True,
                    ignore=lambda d, names: {"rel"} | {n for n in names if n.endswith(".tar.gz")}
                    if Path(d).name == "prod" and Path(d).parent.name == "_build" else set())
    return dest


def release_in(project: Path, generation: int) -> Path:
    """`mix release` of a copy of the fixture project (see copy_built), as edited since; its tarball."""
    stack = stack_dir()
    deps = cache_root() / f"stack-{stack_key(stack)}" / "deps"
    (project / ".home").mkdir(exist_ok=True)
    _run(["mix", "release", "--overwrite"], project, _mix_env(project / ".home", stack, deps, generation),
         project / ".home" / "release.log")
    return project / "_build" / "prod" / f"{APP}-0.{generation}.0.tar.gz"


KEEP_BUILDS = 3  # newest builds kept in the cache; older ones go once unused for STALE_SECONDS
STALE_SECONDS = 6 * 3600


def _prune(root: Path, current: Path) -> None:
    """Each edit of the app makes a new build (~45 MB per version): drop old ones nobody used lately."""
    builds = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith("stack-") and d != current),
                    key=lambda d: d.stat().st_mtime, reverse=True)
    for old in builds[KEEP_BUILDS:]:
        if time.time() - old.stat().st_mtime > STALE_SECONDS:
            shutil.rmtree(old, ignore_errors=True)


def build_fixture(generation: int = 1) -> FixtureBuild:
    """The release of the fixture app, built at most once per source hash for every process."""
    stack = stack_dir()
    stack_id = stack_key(stack)
    work = cache_root() / f"{stack_id}-{source_key()}"
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"v{generation}"
    version = f"0.{generation}.0"
    done = work / f"v{generation}.done"
    # One lock for the whole cache: builds share the extracted stack and seed from each other.
    with open(cache_root() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        seconds = 0.0
        if not done.exists():
            started = time.monotonic()
            _build_into(work, stack, stack_id, generation)
            seconds = time.monotonic() - started
            done.write_text(json.dumps({"seconds": round(seconds, 1)}))
            _prune(cache_root(), work)
        os.utime(work)  # marks the build as in use, for _prune
    rel = src / "_build" / "prod" / "rel" / APP
    return FixtureBuild(generation, version, src, rel, src / "_build" / "prod" / f"{APP}-{version}.tar.gz", seconds)


def start_epmd(port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(["epmd", "-port", str(port), "-address", LOOPBACK], stdout=open(log, "wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.5).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"epmd did not listen on {port}: {log.read_text(errors='replace')}") from None
            time.sleep(0.05)


@dataclass
class PhoenixNode:
    """One running release."""
    build: FixtureBuild
    ip: str
    port: int
    env: dict
    log: Path
    proc: subprocess.Popen
    name: str | None = None  # the node name (name@127.0.0.1) when distribution is on
    secret_key_base: str = ""

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}"

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def release_command(self, *args: str, timeout: float = 60.0) -> str:
        """`bin/phx_fixture ARGS` with this node's environment (rpc, eval)."""
        done = subprocess.run([str(self.build.bin), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done.stdout

    def rpc(self, expr: str) -> str:
        return self.release_command("rpc", expr)

    def wait_healthy(self, timeout: float = BOOT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the release exited ({self.proc.returncode}):\n{self.log_text()[-4000:]}")
            try:
                if self.get("/health", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"no 200 on /health after {timeout:.0f}s:\n{self.log_text()[-4000:]}")
            time.sleep(0.1)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM is an orderly init:stop() for the VM; the process group is killed if it lingers."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass


@dataclass
class PhoenixLab:
    """Starts releases for one test (or session) and stops every one at close, even after a failure."""
    tmp: Path
    build: FixtureBuild
    cookie: str = field(default_factory=lambda: secrets.token_hex(16))
    nodes: list[PhoenixNode] = field(default_factory=list)
    epmd_port: int | None = None
    _epmd: subprocess.Popen | None = None

    def ensure_epmd(self) -> int:
        """One private EPMD for the lab's distributed nodes (never the machine's 4369)."""
        if self._epmd is None:
            self.tmp.mkdir(parents=True, exist_ok=True)
            self.epmd_port = free_port()
            self._epmd = start_epmd(self.epmd_port, self.tmp / "epmd.log")
        return self.epmd_port

    def start(self, env: dict | None = None, *, build: FixtureBuild | None = None, name: str | None = None,
              cookie: str | None = None, secret_key_base: str | None = None, database: str | None = None,
              migrate: bool = False, wait: bool = True, ip: str = LOOPBACK, port: int | None = None) -> PhoenixNode:
        """A release on a free port (or `port`, on `ip`: 127.0.0.2 gives a second node the same port,
        as behind one name). `name` turns distribution on (name@127.0.0.1 in the lab's EPMD);
        `database` is an Ecto URL (see ecto_url) that starts Repo and Oban; `migrate` runs the
        release's migrations first; `env` overrides anything (the knobs in config/runtime.exs)."""
        build = build or self.build
        port = port or free_port()
        label = name or f"web{len(self.nodes)}"
        root = self.tmp / f"{label}-{port}"
        (root / "tmp").mkdir(parents=True, exist_ok=True)
        skb = secret_key_base or secrets.token_urlsafe(48)
        full = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root), **BASE_ENV, "PHX_IP": ip,
                "PORT": str(port), "SECRET_KEY_BASE": skb, "RELEASE_TMP": str(root / "tmp"),
                "ERL_CRASH_DUMP": str(root / "erl_crash.dump"),  # not in the current directory
                "RELEASE_COOKIE": cookie or self.cookie}
        if name:
            full |= {"RELEASE_DISTRIBUTION": "name", "RELEASE_NODE": f"{name}@{LOOPBACK}",
                     "ERL_EPMD_PORT": str(self.ensure_epmd())}
        else:
            full["RELEASE_DISTRIBUTION"] = "none"
        if database:
            full["DATABASE_URL"] = database
        full |= env or {}
        log = root / "release.log"
        node = PhoenixNode(build, ip, port, full, log, None, f"{name}@{LOOPBACK}" if name else None, skb)  # type: ignore[arg-type]
        if migrate:
            node.release_command("eval", "PhxFixture.Release.migrate()", timeout=120)
        node.proc = subprocess.Popen([str(build.bin), "start"], env=full, stdout=open(log, "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.nodes.append(node)
        if wait:
            node.wait_healthy()
        return node

    def close(self) -> None:
        for node in self.nodes:
            node.stop()
        if self._epmd is not None:
            self._epmd.terminate()
            self._epmd.wait(timeout=10)


def ecto_url(dsn: str) -> str:
    """Ecto's DATABASE_URL for a libpq DSN (a URL or key=value pairs); trust auth, no password."""
    import psycopg
    parts = psycopg.conninfo.conninfo_to_dict(dsn)
    return f"ecto://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}"


# --- pytest fixtures (tests/conftest.py exposes them to every test) --------------------------------

@pytest.fixture(scope="session")
def phoenix_build() -> FixtureBuild:
    """The fixture app's release (version 0.1.0), built once for every worker and run."""
    return build_fixture(1)


@pytest.fixture(scope="session")
def phoenix_build_v2(phoenix_build) -> FixtureBuild:
    """The next version (0.2.0): one more migration and a changed asset."""
    return build_fixture(2)


@pytest.fixture
def phoenix(tmp_path, phoenix_build):
    """Starts releases for one test: `phoenix.start(env={...})`; all are stopped at teardown."""
    lab = PhoenixLab(tmp_path / "phoenix", phoenix_build)
    yield lab
    lab.close()


if __name__ == "__main__":
    import sys
    import tempfile
    gen = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    t0 = time.monotonic()
    fixture = build_fixture(gen)
    print(f"built v{gen} in {fixture.seconds:.1f}s (call {time.monotonic() - t0:.1f}s): {fixture.release}")
    with tempfile.TemporaryDirectory() as tmp:
        lab = PhoenixLab(Path(tmp), fixture)
        try:
            t1 = time.monotonic()
            n = lab.start()
            print(f"boot to /health {time.monotonic() - t1:.1f}s; / -> {n.get('/')[0]}")
        finally:
            lab.close()

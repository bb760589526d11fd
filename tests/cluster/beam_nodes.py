"""Real BEAM nodes on loopback for the cluster tests and benchmark: one EPMD per session, free ports,
a temp HOME, and every process killed at the end even when a test fails."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

LOOPBACK = "127.0.0.1"
START_TIMEOUT = 40.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((LOOPBACK, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {LOOPBACK}:{port} after {timeout}s") from None
            time.sleep(0.02)


@dataclass
class NodeSpec:
    name: str  # the part before @127.0.0.1
    cookie: str
    args: list[str] = field(default_factory=list)  # extra erl arguments
    eval: str = ""  # Erlang expressions run before the node reports ready, each ending in a comma
    peers: list[str] = field(default_factory=list)  # names to connect to before ready
    host: str = LOOPBACK  # "::1" starts an IPv6 node (inet6_tcp), as on Fly.io's private network

    @property
    def node(self) -> str:
        return f"{self.name}@{self.host}"


@dataclass
class Started:
    spec: NodeSpec
    proc: subprocess.Popen
    log: Path


class Beam:
    """A private EPMD and the nodes registered with it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.epmd_port = free_port()
        self.procs: list[subprocess.Popen] = []
        self.nodes: dict[str, Started] = {}
        self._lock = threading.Lock()
        self.env = dict(os.environ, HOME=str(self.home), ERL_EPMD_PORT=str(self.epmd_port), LANG="C.UTF-8")
        self.env.pop("RELEASE_COOKIE", None)
        epmd = self._spawn(["epmd", "-port", str(self.epmd_port), "-address", f"{LOOPBACK},::1"], root / "epmd.log")
        wait_for_port(self.epmd_port)
        if epmd.poll() is not None:  # the port was taken between our check and epmd's bind
            raise RuntimeError(f"epmd exited: {(root / 'epmd.log').read_text(errors='replace')}")

    def _spawn(self, argv: list[str], log: Path, env: dict | None = None, cwd: Path | None = None) -> subprocess.Popen:
        out = open(log, "wb")
        try:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env or self.env, cwd=cwd or self.root, start_new_session=True)
        finally:
            out.close()
        with self._lock:
            self.procs.append(proc)
        return proc

    def start(self, *specs: NodeSpec) -> None:
        """Start nodes in parallel and wait until each has registered and reached its peers."""
        with ThreadPoolExecutor(max_workers=max(1, len(specs))) as pool:
            list(pool.map(self._start_one, specs))

    def _start_one(self, spec: NodeSpec) -> None:
        log = self.root / f"{spec.name}.log"
        pings = "".join(f"W(W, '{p}@{LOOPBACK}'), " for p in spec.peers)
        program = (
            "W = fun(F, P) -> case net_adm:ping(P) of pong -> ok; pang -> timer:sleep(50), F(F, P) end end, "
            f"{pings}{spec.eval} io:format(\"ready~n\")."
        )
        interface = "{0,0,0,0,0,0,0,1}" if ":" in spec.host else "{127,0,0,1}"
        inet6 = ["-proto_dist", "inet6_tcp"] if ":" in spec.host else []
        argv = ["erl", "-noinput", "-name", spec.node, "-setcookie", spec.cookie, "-start_epmd", "false", *inet6,
                "-kernel", "inet_dist_use_interface", interface, *spec.args, "-eval", program]
        proc = self._spawn(argv, log)
        self.nodes[spec.name] = Started(spec, proc, log)
        self._await_line(proc, log, "ready", spec.node)

    def start_release(self, script: Path, name: str, cookie: str) -> None:
        """Start a Mix release in the foreground as name@127.0.0.1, and wait for it in EPMD."""
        env = dict(self.env, RELEASE_DISTRIBUTION="name", RELEASE_NODE=f"{name}@{LOOPBACK}", RELEASE_COOKIE=cookie,
                   ELIXIR_ERL_OPTIONS="-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}")
        log = self.root / f"{name}.log"
        proc = self._spawn([str(script), "start"], log, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while name not in self.registered():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"release {name} did not start:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.1)

    def _await_line(self, proc: subprocess.Popen, log: Path, line: str, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            text = log.read_text(errors="replace") if log.exists() else ""
            if line in text.splitlines():
                return
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start (exit {proc.poll()}):\n{text[-2000:]}")
            time.sleep(0.03)

    def stop_node(self, name: str) -> None:
        started = self.nodes.pop(name)
        _kill(started.proc)

    def registered(self) -> set[str]:
        """Names EPMD lists, read with the epmd tool rather than the code under test."""
        out = subprocess.run(["epmd", "-port", str(self.epmd_port), "-names"], capture_output=True,
                             text=True, env=self.env, timeout=5).stdout
        return {line.split()[1] for line in out.splitlines() if line.startswith("name ")}

    def close(self) -> None:
        for proc in reversed(self.procs):
            _kill(proc)


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


class EpmdRegistration:
    """Register a name in a real EPMD with ALIVE2_REQ, as a node does, pointing at any port.

    The registration lasts while this connection stays open: that is how a node whose
    distribution listener died, or a port taken by something else, looks to its peers.
    """

    def __init__(self, epmd_port: int, name: str, port: int) -> None:
        self.sock = socket.create_connection((LOOPBACK, epmd_port), timeout=5)
        body = struct.pack(">BHBBHHH", 120, port, 77, 0, 6, 5, len(name)) + name.encode() + struct.pack(">H", 0)
        self.sock.sendall(struct.pack(">H", len(body)) + body)
        reply = self.sock.recv(16)
        if len(reply) < 2 or reply[0] not in (118, 121) or reply[1] != 0:
            raise RuntimeError(f"EPMD refused to register {name}: {reply!r}")

    def close(self) -> None:
        self.sock.close()

"""A deploy lab on loopback: several sshd "hosts" (each with its own release root and HTTP port), an
nginx balancing over them, and a steady load through it that counts every failed request."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from live.live_servers import free_port, wait_port

NGINX = "/usr/sbin/nginx"
SSHD = "/usr/sbin/sshd"


def free_pair() -> int:
    """A port whose next one is free too (blue-green runs the new colour on port + 1), below the
    kernel's ephemeral range: a node restarted on its port would otherwise find it taken, now and
    then, by one of the thousands of client connections the load opens meanwhile."""
    import random
    import socket
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    while True:
        port = random.randrange(low // 2, low - 1)
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 1))
                return port
        except OSError:
            continue


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it, parents first (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a process that just ended
        children.setdefault(parent, []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop(0))
        todo += children.get(tree[-1], [])
    return tree


@dataclass
class SshHost:
    ssh_port: int
    http_port: int
    root: Path
    proc: subprocess.Popen

    frozen: list[int] = field(default_factory=list)  # process groups of the releases it ran when frozen

    def freeze(self) -> None:
        """The whole host stops answering, as one powered off or cut off would: its sshd, every session
        it serves and every release it runs are stopped. Open connections stay up and silent, new ones
        are accepted by the kernel and never answered."""
        run = self.root / "run"
        self.frozen = [int(p.read_text()) for p in run.glob("*.pid")] if run.exists() else []
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, sig: int) -> None:
        for pid in process_tree(self.proc.pid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass  # a session that just ended
        for group in self.frozen:
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                pass


@dataclass
class Lab:
    tmp: Path
    hosts: list[SshHost] = field(default_factory=list)
    procs: list[subprocess.Popen] = field(default_factory=list)
    nginx_port: int = 0
    known_hosts: Path | None = None
    identity: Path | None = None
    epmd_port: int = 0
    cookie_file: Path | None = None

    def start_hosts(self, count: int, forwarding: bool = True) -> None:
        """`count` sshd hosts; without `forwarding`, their sshd opens no TCP tunnel (AllowTcpForwarding no)."""
        Path("/run/sshd").mkdir(exist_ok=True)
        keys = self.tmp / "keys"
        keys.mkdir(parents=True)
        self.identity = keys / "client"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.identity)], check=True)
        (keys / "authorized_keys").write_text((keys / "client.pub").read_text())
        hostkey = keys / "hostkey"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey)], check=True)
        known = []
        for i in range(count):
            port, http = free_port(), free_pair()
            root, home = self.tmp / f"host{i}", self.tmp / f"home{i}"
            root.mkdir()
            home.mkdir()
            cfg = self.tmp / f"sshd{i}.conf"
            # A deploy user's own home: the shell each command runs in (bash, run by sshd, sources
            # ~/.bashrc) reads none of this machine's login set-up (a pyenv init costs 0.2 s a command).
            cfg.write_text(f"ListenAddress 127.0.0.1\nHostKey {hostkey}\nPidFile {self.tmp}/sshd{i}.pid\n"
                           f"SetEnv HOME={home}\n"
                           f"AuthorizedKeysFile {keys}/authorized_keys\nPermitRootLogin prohibit-password\n"
                           "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
                           "MaxStartups 100\nMaxSessions 100\n" + ("" if forwarding else "AllowTcpForwarding no\n"))
            proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(cfg), "-p", str(port)], stdout=subprocess.DEVNULL,
                                    stderr=open(self.tmp / f"sshd{i}.log", "wb"))
            self.procs.append(proc)
            wait_port(port, proc, timeout=15.0)
            self.hosts.append(SshHost(port, http, root, proc))
            known.append(f"[127.0.0.1]:{port} {(keys / 'hostkey.pub').read_text().split(' ', 2)[0]} "
                         f"{(keys / 'hostkey.pub').read_text().split(' ', 2)[1]}")
        self.known_hosts = keys / "known_hosts"
        self.known_hosts.write_text("\n".join(known) + "\n")

    def start_nginx(self) -> None:
        nginx = self.tmp / "nginx"
        nginx.mkdir()
        self.nginx_port = free_port()
        servers = "".join(f"    server 127.0.0.1:{h.http_port};\n" for h in self.hosts)
        (nginx / "upstream.conf").write_text(f"upstream app {{\n{servers}}}\n")
        temp = "".join(f"{k}_temp_path {nginx}/{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (nginx / "nginx.conf").write_text(
            f"pid {nginx}/nginx.pid;\nerror_log {nginx}/error.log;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\n{temp}access_log off;\ninclude {nginx}/upstream.conf;\n"
            f"server {{ listen 127.0.0.1:{self.nginx_port};\n"
            "  location / { proxy_pass http://app; proxy_next_upstream error timeout http_502 http_503;\n"
            "    proxy_set_header Host localhost; proxy_connect_timeout 2s; }\n"
            "  location /socket/ { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Host localhost;\n"
            "    proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection upgrade; } }\n}\n")
        proc = subprocess.Popen([NGINX, "-p", str(nginx), "-c", str(nginx / "nginx.conf"), "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        wait_port(self.nginx_port, proc, timeout=15.0)

    def retry_after(self, seconds: float) -> None:
        """nginx gives up on a node that has not answered a request within `seconds` and sends the
        request to another node (proxy_next_upstream timeout), as production balancers are set up:
        a node that hangs costs its requests that delay instead of nginx's default minute."""
        conf = self.tmp / "nginx" / "nginx.conf"
        conf.write_text(conf.read_text().replace("proxy_connect_timeout 2s;",
                                                 f"proxy_connect_timeout 2s; proxy_read_timeout {seconds:g}s;"))
        subprocess.run(self.reload.split(), check=True, capture_output=True)

    @property
    def reload(self) -> str:
        nginx = self.tmp / "nginx"
        return f"{NGINX} -p {nginx} -c {nginx}/nginx.conf -s reload"

    def plan(self, strategy: str = "rolling", env_file: Path | None = None, **extra) -> str:
        hosts = "".join(f'[[deploy.hosts]]\nssh = "root@127.0.0.1:{h.ssh_port}"\nport = {h.http_port}\n'
                        f'root = "{h.root}"\n' for h in self.hosts)
        more = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in extra.items())
        return (f'[deploy]\nstrategy = "{strategy}"\nroot = "{self.tmp}/unused"\nhealth = "/health"\n'
                f'ready = "/health"\nstop-timeout = 15\n'
                f'migrate = ""\n' + (f'env-file = "{env_file}"\n' if env_file else "") + more + hosts +
                f'[deploy.balancer]\nupstream-file = "{self.tmp}/nginx/upstream.conf"\nupstream = "app"\n'
                f'reload = "{self.reload}"\n')

    def distributed(self, env_file: Path) -> Path:
        """`env_file` plus distribution: a private EPMD, one cookie, one node name per host (the hosts
        share this machine, so the start script's working directory names it) and libcluster's list
        of the three nodes."""
        from phoenix_fixture import start_epmd
        self.epmd_port = free_port()
        self.procs.append(start_epmd(self.epmd_port, self.tmp / "epmd.log"))
        cookie = secrets.token_hex(16)
        self.cookie_file = self.tmp / "cookie"
        self.cookie_file.write_text(cookie)
        path = self.tmp / "distributed.env"
        path.write_text(env_file.read_text() + "RELEASE_DISTRIBUTION=name\n"
                        'RELEASE_NODE="node-$(basename "${PWD%/releases/*}")@127.0.0.1"\n'
                        f"RELEASE_COOKIE={cookie}\nERL_EPMD_PORT={self.epmd_port}\n"
                        f"CLUSTER_HOSTS={','.join(self.node_names)}\n")
        return path

    def faulty(self, env_file: Path, host: SshHost, version: str, **knobs: str) -> Path:
        """`env_file` plus `knobs` for one release on one host only."""
        return self.only_on(env_file, host, version, " ".join(f"{k}={v}" for k, v in knobs.items()))

    def only_on(self, env_file: Path, host: SshHost, version: str, shell: str) -> Path:
        """`env_file` plus `shell`, run for one release on one host only: the start script sources the
        env file from that release's directory, so a `case` on the working directory picks it out."""
        path = self.tmp / "faulty.env"
        path.write_text(env_file.read_text() + f'case "$PWD" in */{host.root.name}/releases/{version}) '
                        f"{shell};; esac\n")
        return path

    @property
    def node_names(self) -> list[str]:
        return [f"node-{h.root.name}@127.0.0.1" for h in self.hosts]

    def close(self) -> None:
        for h in self.hosts:
            if h.proc.poll() is None:
                h.thaw()
        for h in self.hosts:  # releases the deploy started: their pid files say where
            for pidfile in (h.root / "run").glob("*.pid") if (h.root / "run").exists() else []:
                try:
                    os.killpg(int(pidfile.read_text().strip()), 9)
                except (ProcessLookupError, ValueError, PermissionError):
                    pass
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


class HeldSocket:
    """A Phoenix channel socket held open through the balancer, a heartbeat every half second. When a
    stopped node closes it, it reconnects at once (as phoenix.js does); `gap` is the longest time
    between two answered heartbeats, reconnection included."""

    def __init__(self, url: str):
        self.url, self.stop_flag = url, threading.Event()
        self.gap, self.closed = 0.0, 0
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect
        last, ref = None, 0
        while not self.stop_flag.is_set():
            opened = False
            try:
                with connect(self.url, origin="http://localhost", open_timeout=5) as ws:
                    opened = True
                    while not self.stop_flag.is_set():
                        ref += 1
                        ws.send(json.dumps([None, str(ref), "phoenix", "heartbeat", {}]))
                        if json.loads(ws.recv(timeout=5))[4].get("status") == "ok":
                            now = time.monotonic()
                            self.gap = max(self.gap, now - last) if last else 0.0
                            last = now
                        time.sleep(0.5)
            except (OSError, TimeoutError, WebSocketException):
                self.closed += opened
                time.sleep(0.1)

    def __enter__(self) -> HeldSocket:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_flag.set()
        self.thread.join(timeout=15)


class Load:
    """Requests through the balancer, one after another on a few threads, until stopped."""

    def __init__(self, url: str, threads: int = 4):
        self.url, self.stop_flag = url, threading.Event()
        self.ok = 0
        self.failures: list[str] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(threads)]

    def _loop(self) -> None:
        while not self.stop_flag.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=10) as reply:
                    reply.read()
                    good = reply.status == 200
                    said = str(reply.status)
            except urllib.error.HTTPError as exc:
                good, said = False, str(exc.code)
            except OSError as exc:
                good, said = False, type(exc).__name__
            with self.lock:
                if good:
                    self.ok += 1
                else:
                    self.failures.append(said)
            time.sleep(0.01)

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=15)

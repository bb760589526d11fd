"""The deploy plan: `[deploy]` in `.phoenix-ops.toml`, checked before anything connects.

    [deploy]
    strategy = "rolling"                 # rolling | blue-green | canary
    batch = 1                            # rolling: nodes replaced at once
    root = "/srv/shop"                   # releases/<version>/, the `current` link, run/ and log/
    port = 4000                          # the release's HTTP port (blue-green also uses port + 1)
    health = "/health"                   # liveness, and the readiness path the gate waits for
    ready = "/health/ready"
    session-page = "/"                   # a page that writes a session once and keeps it (a form's CSRF token)
    env-file = "/srv/shop/shared/prod.env"   # on each host, sourced before start and migrations
    migrate = "bin/migrate"              # run once from the new release (empty: no migrations)
    stop-timeout = 30                    # seconds between SIGTERM and SIGKILL
    canary-window = 30                   # canary: seconds of traffic the metric gate watches
    ready-timeout = 60                   # seconds a started release has to answer its ready path
    keep-releases = 5                    # releases kept on each host after a deploy (0: every one)
    [[deploy.hosts]]
    ssh = "deploy@10.0.0.11:22"          # address = "10.0.0.11"; port, root override the defaults
    [deploy.balancer]
    upstream-file = "/etc/nginx/conf.d/shop_upstream.conf"
    upstream = "shop"
    reload = "nginx -s reload"
    ssh = "deploy@10.0.0.10"             # where the balancer runs; absent: on this machine
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from phoenix_ops.command import UsageError
from phoenix_ops.record import field, record

STRATEGIES = ("rolling", "blue-green", "canary")


@record(frozen=True)
class Host:
    user: str
    host: str
    ssh_port: int
    address: str  # where the balancer and the gates reach its HTTP port
    port: int
    root: str

    @property
    def label(self) -> str:
        return f"{self.host}:{self.ssh_port}" if self.ssh_port != 22 else self.host

    def url(self, port: int | None = None) -> str:
        return f"http://{self.address}:{port or self.port}"


@record(frozen=True)
class Balancer:
    upstream_file: str
    upstream: str
    reload: str
    ssh: Host | None = None


@record(frozen=True)
class Plan:
    hosts: tuple[Host, ...]
    strategy: str = "rolling"
    batch: int = 1
    health: str = "/health"
    ready: str = "/health/ready"
    env_file: str | None = None
    migrate: str = "bin/migrate"
    stop_timeout: float = 30.0
    canary_window: float = 30.0
    ready_timeout: float = 60.0
    balancer: Balancer | None = None
    session_page: str = "/"
    keep_releases: int = 5
    extra: dict = field(default_factory=dict)


def parse_ssh(spec: str, *, port: int, root: str, address: str | None = None) -> Host:
    """user@host[:port] (user defaults to the current one, port to 22)."""
    import getpass
    user, _, rest = spec.rpartition("@")
    host, _, ssh_port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
    host = host or rest
    try:
        number = int(ssh_port) if ssh_port else 22
    except ValueError:
        raise UsageError(f"[deploy] host {spec!r}: the SSH port is not a number") from None
    return Host(user or getpass.getuser(), host, number, address or host, port, root)


def load_plan(root: Path) -> Plan:
    path = root / ".phoenix-ops.toml"
    try:
        doc = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"no {path}: the deploy plan lives in its [deploy] table") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not TOML ({exc})") from None
    d = doc.get("deploy")
    if not isinstance(d, dict):
        raise UsageError(f"{path} has no [deploy] table")
    return plan_from(d)


def plan_from(d: dict) -> Plan:
    known = {"strategy", "batch", "root", "port", "health", "ready", "session-page", "env-file", "migrate",
             "stop-timeout", "canary-window", "ready-timeout", "keep-releases", "hosts", "balancer",
             "url", "k8s", "fly"}  # the last three are read by `deploy --target k8s|fly` (platform.py)
    unknown = sorted(set(d) - known)
    if unknown:
        raise UsageError(f"[deploy]: unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    strategy = d.get("strategy", "rolling")
    if strategy not in STRATEGIES:
        raise UsageError(f"[deploy] strategy {strategy!r}: use {', '.join(STRATEGIES)}")
    root, port = d.get("root"), d.get("port", 4000)
    if not isinstance(root, str) or not root.startswith("/"):
        raise UsageError("[deploy] root must be an absolute path on the hosts (releases go below it)")
    hosts = []
    for item in d.get("hosts") or []:
        item = {"ssh": item} if isinstance(item, str) else item
        if not isinstance(item, dict) or not isinstance(item.get("ssh"), str):
            raise UsageError("[deploy] hosts: each is \"user@host:port\" or a table with ssh = \"...\"")
        hosts.append(parse_ssh(item["ssh"], port=int(item.get("port", port)), root=item.get("root", root),
                               address=item.get("address")))
    if not hosts:
        raise UsageError("[deploy] lists no hosts")
    balancer = None
    if isinstance(d.get("balancer"), dict):
        b = d["balancer"]
        if not isinstance(b.get("upstream-file"), str):
            raise UsageError("[deploy.balancer] needs upstream-file (the nginx file holding the upstream block)")
        balancer = Balancer(b["upstream-file"], b.get("upstream", "app"), b.get("reload", "nginx -s reload"),
                            parse_ssh(b["ssh"], port=0, root="/") if isinstance(b.get("ssh"), str) else None)
    if not str(d.get("session-page", "/")).startswith("/"):
        raise UsageError("[deploy] session-page is a path on the nodes, such as \"/login\"")
    batch = int(d.get("batch", 1))
    if batch < 1:
        raise UsageError("[deploy] batch must be at least 1")
    keep = d.get("keep-releases", 5)
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 0:
        raise UsageError("[deploy] keep-releases is a number of releases (0 keeps every one)")
    return Plan(tuple(hosts), strategy, batch, d.get("health", "/health"), d.get("ready", d.get("health", "/health")),
                d.get("env-file"), d.get("migrate", "bin/migrate"), float(d.get("stop-timeout", 30)),
                float(d.get("canary-window", 30)), float(d.get("ready-timeout", 60)), balancer,
                d.get("session-page", "/"), keep)

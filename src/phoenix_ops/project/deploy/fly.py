"""fly.toml, in both formats: v1 (`[[services]]`, `http_checks`, `kill_timeout = 5`) and v2 Machines
(`[http_service]`, `[[http_service.checks]]`, `kill_timeout = "5s"`)."""

from __future__ import annotations

import re
import tomllib

from phoenix_ops.project.deploy.durations import seconds
from phoenix_ops.record import field, record


@record(frozen=True)
class Check:
    kind: str  # http, tcp, script
    path: str | None
    line: int
    grace: float | None = None
    timeout: float | None = None


@record
class Fly:
    path: str
    data: dict
    text: str
    version: str  # "v1" or "v2"
    checks: list[Check] = field(default_factory=list)
    error: str | None = None

    def line(self, key: str, table: str | None = None) -> int:
        """The line of `key = ...` (inside `[table]` when given), or of the `[key]` table header."""
        return _line(self.text, key, table)

    @property
    def app(self) -> str | None:
        return self.data.get("app")

    @property
    def env(self) -> dict[str, tuple[str, int]]:
        env = self.data.get("env") or {}
        return {str(k): (str(v), _line(self.text, str(k), "env")) for k, v in env.items()} \
            if isinstance(env, dict) else {}

    @property
    def kill_timeout(self) -> float | None:
        return seconds(self.data.get("kill_timeout"))

    @property
    def kill_signal(self) -> str | None:
        return self.data.get("kill_signal")

    @property
    def release_command(self) -> str | None:
        value = (self.data.get("deploy") or {}).get("release_command")
        return str(value) if value else None

    @property
    def strategy(self) -> str | None:
        """fly deploy's strategy; rolling when none is set."""
        return str((self.data.get("deploy") or {}).get("strategy") or "rolling")

    @property
    def services(self) -> list[dict]:
        """Every service: `[http_service]` and each `[[services]]`."""
        out = [s for s in self.data.get("services") or [] if isinstance(s, dict)]
        http = self.data.get("http_service")
        return ([http] if isinstance(http, dict) else []) + out

    @property
    def min_machines(self) -> int | None:
        values = [s.get("min_machines_running") for s in self.services]
        ints = [v for v in values if isinstance(v, int)]
        return max(ints) if ints else None

    @property
    def concurrency(self) -> list[tuple[str | None, int | None, int | None, int]]:
        """(type, soft_limit, hard_limit, line) of each service's concurrency."""
        out = []
        for s in self.services:
            c = s.get("concurrency")
            if isinstance(c, dict):
                out.append((c.get("type"), c.get("soft_limit"), c.get("hard_limit"), self.line("concurrency")))
        return out


def read_fly(path: str, text: str) -> Fly:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return Fly(path, {}, text, "v2", error=str(exc))
    v2 = "http_service" in data or "vm" in data or isinstance(data.get("kill_timeout"), str) \
        or any(isinstance(s, dict) and "auto_stop_machines" in s for s in data.get("services") or [])
    fly = Fly(path, data, text, "v2" if v2 else "v1")
    for service in fly.services:
        for key in ("checks", "http_checks", "tcp_checks"):
            for c in service.get(key) or []:
                if isinstance(c, dict):
                    kind = "tcp" if key == "tcp_checks" else c.get("type", "http" if "path" in c else "tcp")
                    fly.checks.append(Check(kind, c.get("path"), _line(text, key), seconds(c.get("grace_period")),
                                            seconds(c.get("timeout"))))
    for name, c in (data.get("checks") or {}).items():  # top-level [checks.NAME] (machine checks)
        if isinstance(c, dict):
            fly.checks.append(Check(c.get("type", "tcp"), c.get("path"), _line(text, name, "checks"),
                                    seconds(c.get("grace_period")), seconds(c.get("timeout"))))
    return fly


def _line(text: str, key: str, table: str | None = None) -> int:
    lines = text.splitlines()
    inside = table is None
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    header = re.compile(rf"^\s*\[\[?\s*(?:[\w.]+\.)?{re.escape(key)}\s*\]\]?")
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            if header.match(stripped):
                return number
            if table is not None:
                inside = stripped.strip("[]").strip() in (table, f"{table}") or stripped.startswith(f"[{table}.")
            continue
        if inside and key_re.match(line):
            return number
    return 1

"""docker compose files: services with their environment, env files, replicas and stop settings."""

from __future__ import annotations

import shlex

from phoenix_ops.patterns import lazy
from phoenix_ops.project.deploy.durations import seconds
from phoenix_ops.project.deploy.yamldocs import YamlDoc, dig, line_of
from phoenix_ops.record import field, record

_MAX_CONNECTIONS = lazy(r"max_connections\s*=\s*(\d+)")
_DEFAULTED = lazy(r"\$\{\w+:?-([^}]*)\}")


@record
class Service:
    name: str
    path: str
    line: int
    data: dict
    env: dict[str, tuple[str | None, int]] = field(default_factory=dict)  # None: passed through from the host
    env_files: list[tuple[str, bool, int]] = field(default_factory=list)  # (path, required, line)

    def get(self, *keys, default=None):
        return dig(self.data, *keys, default=default)

    @property
    def image(self) -> str:
        """The image, a `${VAR:-default}` in it read as its default (what runs when VAR is unset)."""
        return _DEFAULTED.sub(r"\1", str(self.data.get("image") or ""))

    @property
    def builds(self) -> bool:
        return "build" in self.data

    @property
    def replicas(self) -> int | None:
        value = self.get("deploy", "replicas")
        return value if isinstance(value, int) else None

    @property
    def stop_grace(self) -> float | None:
        return seconds(self.data.get("stop_grace_period"))

    @property
    def command(self) -> list[str]:
        value = self.data.get("command")
        if isinstance(value, list):
            return [str(v) for v in value]
        try:
            return shlex.split(str(value)) if value else []
        except ValueError:
            return str(value).split()

    @property
    def cpu_limit(self) -> float | None:
        value = self.get("deploy", "resources", "limits", "cpus") or self.data.get("cpus")
        try:
            return float(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    @property
    def max_connections(self) -> int | None:
        """A PostgreSQL service's `-c max_connections=N`."""
        m = _MAX_CONNECTIONS.search(" ".join(self.command))
        return int(m.group(1)) if m else None


def is_compose(doc: YamlDoc) -> bool:
    services = doc.get("services")
    return isinstance(services, dict) and "apiVersion" not in (doc.data or {}) and all(
        isinstance(s, dict) for s in services.values())


def services(doc: YamlDoc) -> list[Service]:
    out = []
    for name, data in (doc.get("services") or {}).items():
        s = Service(str(name), doc.path, line_of(data, doc.line), data)
        env = data.get("environment")
        if isinstance(env, dict):
            for k, v in env.items():
                s.env[str(k)] = (None if v is None else _literal(str(v)), line_of(env, s.line))
        elif isinstance(env, list):
            for item in env:
                key, eq, value = str(item).partition("=")
                s.env[key] = (_literal(value) if eq else None, line_of(env, s.line))
        files = data.get("env_file")
        for f in [files] if isinstance(files, (str, dict)) else files or []:
            if isinstance(f, dict):
                s.env_files.append((str(f.get("path", "")), f.get("required", True) is not False, s.line))
            else:
                s.env_files.append((str(f), True, s.line))
        out.append(s)
    return out


_INTERPOLATION = lazy(r"\$(?:\{|[A-Za-z_])")


def _literal(value: str) -> str | None:
    """The value compose passes, when the file holds it: `${YOUR_SECRET}` and `$HOST` are filled from
    the shell running `docker compose` (None: present, value unknown); `$$` is a literal `$`."""
    return None if _INTERPOLATION.search(value.replace("$$", "")) else value.replace("$$", "$")

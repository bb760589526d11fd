"""render.yaml Blueprints: services with their env vars, instance counts, health paths, pre-deploy."""

from __future__ import annotations

from phoenix_ops.project.deploy.yamldocs import YamlDoc, dig, line_of
from phoenix_ops.record import field, record


@record(frozen=True)
class EnvVar:
    key: str
    value: str | None  # a literal value; None for generated, synced-by-hand or referenced values
    line: int
    source: str = "value"  # value, generateValue, sync, fromDatabase, fromService, fromGroup


@record
class Service:
    name: str
    type: str
    path: str
    line: int
    data: dict
    env: list[EnvVar] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)  # envVarGroups it takes every key of

    def get(self, *keys, default=None):
        return dig(self.data, *keys, default=default)

    @property
    def max_instances(self) -> int | None:
        value = self.get("scaling", "maxInstances", default=self.data.get("numInstances", 1))
        return value if isinstance(value, int) else None


@record
class Blueprint:
    path: str
    services: list[Service]
    groups: dict[str, list[EnvVar]]  # envVarGroups by name


def read_blueprint(doc: YamlDoc) -> Blueprint:
    groups = {str(g.get("name")): _env(g.get("envVars"), line_of(g, doc.line))[0]
              for g in doc.get("envVarGroups") or [] if isinstance(g, dict)}
    out = []
    for data in doc.get("services") or []:
        if not isinstance(data, dict):
            continue
        s = Service(str(data.get("name", "")), str(data.get("type", "")), doc.path, line_of(data, doc.line), data)
        s.env, s.groups = _env(data.get("envVars"), s.line)
        out.append(s)
    return Blueprint(doc.path, out, groups)


def _env(items, fallback: int) -> tuple[list[EnvVar], list[str]]:
    env, groups = [], []
    for e in items if isinstance(items, list) else []:
        if not isinstance(e, dict):
            continue
        line = line_of(e, fallback)
        if "fromGroup" in e:
            groups.append(str(e["fromGroup"]))
        elif "key" in e:
            source = next((k for k in ("generateValue", "fromDatabase", "fromService") if k in e), None)
            if e.get("sync") is False:
                source = "sync"
            env.append(EnvVar(str(e["key"]), str(e["value"]) if "value" in e and source is None else None,
                              line, source or "value"))
    return env, groups

"""Kubernetes objects, picked from YAML documents by `apiVersion` and `kind` (never by file name)."""

from __future__ import annotations

from phoenix_ops.project.deploy.yamldocs import YamlDoc, dig, line_of
from phoenix_ops.record import field, record

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet", "Rollout")


@record
class Object:
    kind: str
    api_version: str
    name: str
    path: str
    line: int
    data: dict

    def get(self, *keys, default=None):
        return dig(self.data, *keys, default=default)


@record(frozen=True)
class EnvVar:
    name: str
    value: str | None  # a literal `value:`; None for `valueFrom`
    line: int
    source: str = "value"  # value, secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef
    ref: str | None = None  # the Secret or ConfigMap named by a `valueFrom`


@record
class Container:
    name: str
    line: int
    image: str | None
    command: list[str]
    env: list[EnvVar] = field(default_factory=list)
    env_from: list[tuple[str, str, int]] = field(default_factory=list)  # (Secret|ConfigMap, name, line)
    probes: dict[str, dict] = field(default_factory=dict)  # readiness/liveness/startup -> probe
    pre_stop: dict | None = None
    cpu_limit: float | None = None
    data: dict = field(default_factory=dict)


@record
class Workload:
    obj: Object
    pod: dict  # the pod spec
    containers: list[Container]
    init_containers: list[Container]

    @property
    def replicas(self) -> int | None:
        value = self.obj.get("spec", "replicas")
        return value if isinstance(value, int) else None

    @property
    def grace_period(self) -> int | None:
        value = self.pod.get("terminationGracePeriodSeconds") if isinstance(self.pod, dict) else None
        return value if isinstance(value, int) else None

    @property
    def strategy(self) -> str | None:
        if self.obj.kind == "Rollout":  # Argo Rollouts
            steps = self.obj.get("spec", "strategy", default={}) or {}
            return "canary" if "canary" in steps else "bluegreen" if "blueGreen" in steps else None
        kind = self.obj.get("spec", "strategy", "type") or self.obj.get("spec", "updateStrategy", "type")
        if kind is None and self.obj.kind in ("Deployment", "StatefulSet", "DaemonSet"):
            return "rolling"  # RollingUpdate is the default of all three
        return {"RollingUpdate": "rolling", "Recreate": "recreate", "OnDelete": "ondelete"}.get(kind, kind)


def objects(docs: list[YamlDoc]) -> list[Object]:
    out = []
    for doc in docs:
        for data in _items(doc.data):
            kind, api = data.get("kind"), data.get("apiVersion")
            if isinstance(kind, str) and isinstance(api, str):
                name = dig(data, "metadata", "name", default="") or ""
                out.append(Object(kind, api, str(name), doc.path, line_of(data, doc.line), data))
    return out


def _items(data) -> list[dict]:
    """A document, or the items of a `kind: List`."""
    if not isinstance(data, dict):
        return []
    if data.get("kind") == "List" and isinstance(data.get("items"), list):
        return [i for i in data["items"] if isinstance(i, dict)]
    return [data]


def workload(obj: Object) -> Workload | None:
    if obj.kind not in WORKLOADS:
        return None
    if obj.kind == "Pod":
        pod = obj.get("spec", default={})
    elif obj.kind == "CronJob":
        pod = obj.get("spec", "jobTemplate", "spec", "template", "spec", default={})
    else:
        pod = obj.get("spec", "template", "spec", default={})
    if not isinstance(pod, dict):
        pod = {}
    return Workload(obj, pod, _containers(pod.get("containers"), obj.line),
                    _containers(pod.get("initContainers"), obj.line))


def _containers(items, fallback: int) -> list[Container]:
    out = []
    for c in items if isinstance(items, list) else []:
        if not isinstance(c, dict):
            continue
        command = [str(w) for w in (c.get("command") or []) + (c.get("args") or [])] \
            if isinstance(c.get("command") or [], list) and isinstance(c.get("args") or [], list) else []
        container = Container(str(c.get("name", "")), line_of(c, fallback), c.get("image"), command, data=c)
        for e in c.get("env") or []:
            if isinstance(e, dict) and isinstance(e.get("name"), str):
                container.env.append(_env_var(e, line_of(e, container.line)))
        for e in c.get("envFrom") or []:
            if isinstance(e, dict):
                for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                    if isinstance(e.get(key), dict):
                        container.env_from.append((kind, str(e[key].get("name", "")), line_of(e, container.line)))
        for probe in ("readiness", "liveness", "startup"):
            if isinstance(c.get(f"{probe}Probe"), dict):
                container.probes[probe] = c[f"{probe}Probe"]
        pre_stop = dig(c, "lifecycle", "preStop")
        container.pre_stop = pre_stop if isinstance(pre_stop, dict) else None
        container.cpu_limit = cpu(dig(c, "resources", "limits", "cpu"))
        out.append(container)
    return out


def _env_var(e: dict, line: int) -> EnvVar:
    if "value" in e:
        return EnvVar(e["name"], None if e["value"] is None else str(e["value"]), line)
    source = e.get("valueFrom") if isinstance(e.get("valueFrom"), dict) else {}
    for kind in ("secretKeyRef", "configMapKeyRef", "fieldRef", "resourceFieldRef"):
        if isinstance(source.get(kind), dict):
            return EnvVar(e["name"], None, line, kind, source[kind].get("name"))
    return EnvVar(e["name"], None, line, "unknown")


def cpu(value) -> float | None:
    """CPUs in a Kubernetes quantity: `2`, `"500m"`, `0.5`."""
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return None


def probe_path(probe: dict) -> str | None:
    path = dig(probe, "httpGet", "path")
    return str(path) if path is not None else None

"""What deploy files say about the HTTP path into the app: public hosts, where TLS ends, health checks."""

from __future__ import annotations

from phoenix_ops.findings import Location
from phoenix_ops.patterns import lazy
from phoenix_ops.record import record

_URL_PATH = lazy(r"https?://[^/\s\"']+(/[^\s\"'|;&)]*)")


@record(frozen=True)
class Check:
    path: str
    label: str  # "fly shop", "kubernetes Deployment/web", "Dockerfile HEALTHCHECK"
    location: Location


def _ours(path: str) -> bool:
    """A fly.toml beside mix.exs deploys this app; one in a subfolder deploys something else (a sidecar)."""
    return "/" not in path


def _targets(project):
    return [t for t in project.deploy.targets() if t.platform != "fly" or _ours(t.path)]


def public_hosts(project) -> list[tuple[str, Location]]:
    """Hosts the deploy files say the app is reached at: `<app>.fly.dev`, PHX_HOST values, Ingress hosts."""
    deploy = project.deploy
    found = [(f"{fly.app}.fly.dev", Location(path=fly.path, line=fly.line("app")))
             for fly in deploy.fly if fly.app and _ours(fly.path)]
    for target in _targets(project):
        provided = target.provides("PHX_HOST")
        if provided is not None and provided.value and "$" not in provided.value:
            found.append((provided.value, Location(path=provided.path, line=provided.line)))
    for app, module in project.endpoint_keys():  # `System.get_env("PHX_HOST") || "shop.example.com"`
        host = project.config().get(app, module, "url", "host")
        default = getattr(host, "default", None)
        if getattr(host, "name", None) == "PHX_HOST" and isinstance(getattr(default, "value", None), str) \
                and default.value not in ("example.com", "localhost") and default.origin is not None:
            found.append((default.value, Location(path=default.origin.file, line=default.origin.line)))
    for obj in deploy.k8s:
        if obj.kind == "Ingress":
            for item in obj.get("spec", "rules") or []:
                if isinstance(item, dict) and isinstance(item.get("host"), str):
                    found.append((item["host"], Location(path=obj.path, line=obj.line)))
    seen: set[str] = set()
    return [(h, loc) for h, loc in found if not (h in seen or seen.add(h))]


def tls_at_proxy(project) -> str | None:
    """Which deploy file puts a TLS-terminating proxy in front of the app, if one does."""
    deploy = project.deploy
    fly = next((f for f in deploy.fly if _ours(f.path)), None)
    if fly is not None:
        return fly.path
    ingress = next((o for o in deploy.k8s if o.kind == "Ingress"), None)
    if ingress is not None:
        return ingress.path
    if any(s.type == "web" for bp in deploy.render for s in bp.services):
        return deploy.render[0].services[0].path
    return None


def liveness_paths(project) -> list[Check]:
    """Paths Kubernetes probes for liveness (a failure there restarts the container)."""
    if not project.deploy.k8s:  # and the YAML readers stay unimported
        return []
    from phoenix_ops.project.deploy.kubernetes import probe_path
    return [Check(path, f"kubernetes {w.obj.kind}/{w.obj.name} livenessProbe", Location(path=w.obj.path,
                                                                                       line=w.obj.line))
            for w in project.deploy.workloads() for c in w.containers[:1]
            if (path := probe_path(c.probes.get("liveness", {})))]


def platform_redirect(project) -> str | None:
    """The fly.toml whose `force_https` makes the platform redirect HTTP to HTTPS, if one does."""
    for fly in project.deploy.fly:
        if not _ours(fly.path):
            continue
        ports = [p for s in fly.services for p in s.get("ports") or [] if isinstance(p, dict)]
        if any(s.get("force_https") for s in fly.services) or any(p.get("force_https") for p in ports):
            return fly.path
    return None


def health_checks(project) -> list[Check]:
    """HTTP paths platforms probe: fly checks, Kubernetes httpGet probes, render's healthCheckPath, and a
    Dockerfile HEALTHCHECK that fetches a local URL."""
    out = [Check(path, target.label, Location(path=target.path, line=line))
           for target in _targets(project) for path, line in target.health_paths]
    for dockerfile in project.deploy.dockerfiles:
        stage = dockerfile.final
        check = stage.last("HEALTHCHECK") if stage is not None else None
        m = _URL_PATH.search(" ".join(check.args)) if check is not None else None
        if m:
            out.append(Check(m.group(1), f"{dockerfile.path} HEALTHCHECK", Location(path=dockerfile.path,
                                                                                   line=check.line)))
    return out

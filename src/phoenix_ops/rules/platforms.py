"""DEP020-DEP029 and DEP040-DEP041: what fly.toml, render.yaml, Kubernetes manifests, compose files and
Procfiles say about migrations, health checks, draining, clustering and the BEAM's CPU use."""

from __future__ import annotations

import re

from phoenix_ops.elixir.values import Atom, plain
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.project.cluster import cluster_discovery
from phoenix_ops.project.deploy.durations import seconds
from phoenix_ops.project.deploy.rel import flags_in
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.dockerfile import secret_name
from phoenix_ops.rules.migrations import MIGRATIONS
from phoenix_ops.rules.subjects import FLY, K8S, TEMPLATES, helm_only

W, E, I = Severity.WARNING, Severity.ERROR, Severity.INFO
H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
HEARTBEAT = 30  # seconds between Phoenix socket heartbeats (phoenix.js heartbeatIntervalMs)
_RELEASE_PLATFORMS = ("fly", "render", "kubernetes", "procfile")


def _at(t, line: int | None = None) -> Location:
    return Location(path=t.path, line=line or t.line)


RELEASE_TARGET = Subject("no fly, render, Kubernetes or Procfile deploy target",
                         lambda project: any(t.platform in _RELEASE_PLATFORMS for t in project.deploy.targets()),
                         helm_only)
FLY_OR_RENDER = Subject("no fly.toml or render.yaml", lambda project: bool(project.deploy.fly or project.deploy.render))
CPU_LIMIT = Subject("no deploy target sets a CPU limit",
                    lambda project: any(t.cpu_limit for t in project.deploy.targets()))


def migrates_at_boot(project) -> bool:
    """An Ecto.Migrator child (or a boot script) runs migrations whenever a node starts."""
    return any(name.startswith("Ecto.Migrator") or name.endswith(".Migrator") for name, _, _ in project.children)


@rule("DEP020", "no-migration-on-release", W, M, subject=MIGRATIONS & RELEASE_TARGET,
      title="The app uses Ecto migrations but the deploy runs none on release",
      why="""
      A new release whose code expects new columns starts against the old schema: queries fail
      until someone runs the migrations by hand, and a forgotten one surfaces in production.
      """,
      fix="""
      Run the release's migrator before the new version serves: fly `[deploy] release_command =
      "/app/bin/migrate"`, render `preDeployCommand`, a Kubernetes Job or initContainer running
      `bin/migrate`, a Procfile `release:` entry.
      """)
def no_migration_on_release(project):
    if not any(r.networked for r in project.repos) or migrates_at_boot(project):
        return
    for t in project.deploy.targets():
        if t.platform not in _RELEASE_PLATFORMS or t.migrate:
            continue
        if any("migrate" in w for w in t.command):
            continue  # the start command migrates first
        yield no_migration_on_release.finding(f"{t.label} runs no migrations on release", _at(t), key=t.label)


@rule("DEP021", "no-http-health-check", W, M, subject=FLY_OR_RENDER,
      title="The platform checks no HTTP path before routing traffic to a new instance",
      why="""
      Without an HTTP check the platform sends traffic as soon as the process (or its port) is up:
      while the endpoint or the database pool is still starting, and to an instance whose endpoint
      never started at all. A TCP check only proves the port is open.
      """,
      fix="""
      fly: `[[http_service.checks]]` with `path = "/health"`; render: `healthCheckPath`. Serve the path
      from a plug before the router so it needs no session or database.
      """)
def no_http_health_check(project):
    for t in project.deploy.targets():
        if t.platform in ("fly", "render") and not t.health_paths:
            what = "only a TCP check" if t.health_checked else "no health check"
            yield no_http_health_check.finding(f"{t.label} has {what}", _at(t), key=t.label)


def _workloads(project):
    for w in project.deploy.workloads():
        if w.obj.kind in ("Deployment", "StatefulSet", "Rollout", "DaemonSet") and w.containers:
            yield w, w.containers[0]


K8S_WORKLOADS = Subject("no Kubernetes Deployment, StatefulSet, Rollout or DaemonSet in the deploy files",
                        lambda project: any(_workloads(project)), helm_only)


@rule("DEP022", "k8s-probes-missing", W, H, subject=K8S_WORKLOADS,
      title="A Kubernetes workload has no readiness or no liveness probe",
      why="""
      Without a readiness probe a pod receives traffic before the endpoint listens and during its
      shutdown; without a liveness probe a wedged BEAM is never restarted.
      """,
      fix="Add `readinessProbe` and `livenessProbe` with `httpGet` on a health path served before the router.")
def k8s_probes(project):
    for w, c in _workloads(project):
        missing = [p for p in ("readiness", "liveness") if p not in c.probes]
        if missing:
            yield k8s_probes.finding(f"{w.obj.kind}/{w.obj.name} container {c.name} has no "
                                     f"{' or '.join(missing)} probe", Location(path=w.obj.path, line=c.line),
                                     key=f"{w.obj.name}:{c.name}")


@rule("DEP023", "k8s-no-drain", W, M, subject=K8S_WORKLOADS,
      title="A Kubernetes workload stops pods without a drain period",
      why="""
      Kubernetes sends SIGTERM while the pod is still listed as an endpoint: for a few seconds load
      balancers keep sending it requests and new WebSocket connections, which fail once the BEAM
      stops listening. A preStop sleep keeps it serving until it is out of rotation.
      """,
      fix="""
      Add `lifecycle: {preStop: {exec: {command: ["sleep", "5"]}}}` (or an HTTP preStop) and a
      `terminationGracePeriodSeconds` covering preStop plus the app's own shutdown.
      """)
def k8s_no_drain(project):
    for w, c in _workloads(project):
        if c.pre_stop is None:
            grace = "" if w.grace_period is None else f" (terminationGracePeriodSeconds {w.grace_period})"
            yield k8s_no_drain.finding(f"{w.obj.kind}/{w.obj.name} has no preStop drain{grace}",
                                       Location(path=w.obj.path, line=c.line), key=w.obj.name)


def _kubernetes_strategy(project, d) -> bool:
    """libcluster's Kubernetes strategies have their own recipe check (CLU009)."""
    if not d.source.startswith("libcluster:"):
        return False
    strategy = plain(project.config().get("libcluster", "topologies", d.source.split(":", 1)[1], "strategy"))
    return isinstance(strategy, Atom) and strategy.name.startswith("Cluster.Strategy.Kubernetes")


def _dns_discovery(project):
    """Peers found through DNS records a Kubernetes Service must provide (Fly's .internal needs none)."""
    return [d for d in cluster_discovery(project) if d.kind in ("dns_a", "dns_srv")
            and not (d.query or "").endswith(".internal") and not _kubernetes_strategy(project, d)]


DNS_DISCOVERY = Subject("no node discovery through DNS records (DNSCluster, libcluster DNSPoll)",
                        lambda project: bool(_dns_discovery(project)))


@rule("DEP024", "k8s-no-headless-service", E, M, subject=K8S & DNS_DISCOVERY,
      title="DNS clustering is configured but no headless Service exists",
      why="""
      dns_cluster and libcluster's DNSPoll find peers on Kubernetes through a headless Service
      (`clusterIP: None`), whose DNS name lists every pod. A normal Service resolves to one virtual
      IP: the nodes never connect and PubSub, Presence and distributed state silently stay per pod.
      """,
      fix="Add a Service with `clusterIP: None` selecting the app's pods and name it in the discovery query.")
def k8s_headless(project):
    dns = _dns_discovery(project)
    headless = {o.name for o in project.deploy.k8s if o.kind == "Service" and o.get("spec", "clusterIP") == "None"}
    for d in dns:
        name = (d.query or "").split(".")[0]
        if headless and (not name or name in headless):
            continue
        where = Location(path=d.origin.file, line=d.origin.line) if d.origin else Location(path="config/runtime.exs")
        missing = f"no headless Service named {name}" if name and headless else "no headless Service"
        yield k8s_headless.finding(f"{d.source} discovers peers through DNS but the manifests hold {missing}",
                                   where, key=d.source)


@rule("DEP025", "k8s-literal-secret-env", E, H, subject=K8S_WORKLOADS,
      title="A Kubernetes manifest holds a secret as a literal env value",
      why="Manifests live in git and in `kubectl get -o yaml`: anyone who reads either has the secret.",
      fix="Move the value into a Secret and use `valueFrom: {secretKeyRef: ...}` or `envFrom: [{secretRef: ...}]`.")
def k8s_literal_secret(project):
    for w in project.deploy.workloads():
        for c in w.containers + w.init_containers:
            for e in c.env:
                if e.value and secret_name(e.name) and not e.value.startswith("$"):
                    yield k8s_literal_secret.finding(f"{w.obj.kind}/{w.obj.name} sets {e.name} as a literal",
                                                     Location(path=w.obj.path, line=e.line),
                                                     key=f"{w.obj.name}:{e.name}")


def _uses_sockets(project) -> bool:
    return any(e.sockets for e in project.endpoints) or project.has_dep("phoenix_live_view")


_TIMEOUT_ANNOTATIONS = ("nginx.ingress.kubernetes.io/proxy-read-timeout", "nginx.ingress.kubernetes.io/proxy-send-timeout",
                        "haproxy.org/timeout-client", "traefik.ingress.kubernetes.io/idle-timeout")


SOCKETS = Subject("the app serves no socket or LiveView", _uses_sockets)
PROXY = Subject("no fly.toml or Kubernetes Ingress",
                lambda project: bool(project.deploy.fly) or any(o.kind == "Ingress" for o in project.deploy.k8s))


@rule("DEP026", "websocket-unfriendly-proxy", W, M, subject=SOCKETS & PROXY,
      title="A proxy setting cuts or miscounts WebSocket connections",
      why="""
      LiveView and channels keep one WebSocket per tab open for hours. fly's `type = "requests"`
      concurrency counts each socket as a request in flight for its whole life, so a few hundred tabs
      fill the limit and new visitors queue; an idle timeout shorter than the 30 s socket heartbeat
      closes every quiet socket, and clients reconnect in a loop.
      """,
      fix="""
      fly: `type = "connections"` with limits sized for open sockets; ingress idle/read timeouts well
      above 30 s (e.g. `nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"`).
      """)
def websocket_unfriendly(project):
    for fly in project.deploy.fly:
        for kind, soft, hard, line in fly.concurrency:
            if kind == "requests":
                yield websocket_unfriendly.finding(f"{fly.path} limits concurrency by requests (soft {soft}, hard "
                                                   f"{hard}) while the app holds WebSockets",
                                                   Location(path=fly.path, line=line), key=fly.path)
    for o in project.deploy.k8s:
        if o.kind != "Ingress":
            continue
        for key, value in (o.get("metadata", "annotations", default={}) or {}).items():
            if key in _TIMEOUT_ANNOTATIONS:
                limit = seconds(value)
                if limit is not None and limit <= HEARTBEAT:
                    yield websocket_unfriendly.finding(f"Ingress/{o.name} {key} is {value}, not above the "
                                                       f"{HEARTBEAT} s socket heartbeat",
                                                       Location(path=o.path, line=o.line), key=f"{o.name}:{key}")


@rule("DEP027", "deploy-template-not-evaluated", I, L, subject=TEMPLATES,
      title="A deploy manifest is a template (Helm) and was not evaluated",
      why="""
      Helm and other Go templates are YAML only after rendering with values. Their probes, env and
      replicas are unknown to this audit, so the Kubernetes rules could not judge them.
      """,
      fix="Render the chart (`helm template . > rendered.yaml`) and audit the output, or review it by hand.")
def template_not_evaluated(project):
    for rel in project.deploy.templates:
        yield template_not_evaluated.finding(f"{rel} is a template: not evaluated", Location(path=rel, line=1),
                                             key=rel)


@rule("DEP028", "fly-kill-signal", W, H, subject=FLY,
      title="fly stops the app with a signal other than SIGTERM",
      why="""
      fly sends SIGINT unless `kill_signal` says otherwise. The BEAM shuts down gracefully only on
      SIGTERM (since OTP 19.3); SIGINT stops it at once, cutting requests and jobs.
      """,
      fix='`kill_signal = "SIGTERM"` in fly.toml, with a `kill_timeout` covering the app\'s shutdown.')
def fly_kill_signal(project):
    for fly in project.deploy.fly:
        signal = (fly.kill_signal or "SIGINT").upper()
        if signal != "SIGTERM":
            how = "is not set (fly sends SIGINT)" if fly.kill_signal is None else f"is {fly.kill_signal}"
            yield fly_kill_signal.finding(f"{fly.path}: kill_signal {how}",
                                          Location(path=fly.path, line=fly.line("kill_signal")), key=fly.path)


def vm_flags(project):
    """Emulator flags from rel/vm.args.eex and ERL_FLAGS/ERL_AFLAGS wherever deploy files set them."""
    out = [(f, project.deploy.vm_args_path) for f in project.deploy.vm_args]
    env_sh = project.deploy.env_sh
    for name in ("ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS"):
        if env_sh and env_sh.get(name):
            out += [(f, env_sh.path) for f in flags_in(env_sh.get(name).value, env_sh.get(name).line)]
        for t in project.deploy.targets():
            p = t.provides(name)
            if p and p.value:
                out += [(f, p.path) for f in flags_in(p.value, p.line)]
    return out


def _schedulers(value: str) -> int | None:
    m = re.match(r"(\d+)", value)
    return int(m.group(1)) if m else None


@rule("DEP040", "vm-schedulers-over-cpu-limit", W, M, subject=CPU_LIMIT,
      title="The BEAM is told to run more schedulers than the CPUs its container may use",
      why="""
      `+S N` fixes N scheduler threads. With a CPU limit below N, the threads compete for a quota
      they exhaust early in every period: the container is throttled and latency jumps (the BEAM
      sizes itself to the quota when no `+S` is given, since OTP 23).
      """,
      fix="Remove `+S` and let the BEAM read the CPU quota, or set it no higher than the limit.")
def vm_schedulers(project):
    limits = [(t, t.cpu_limit) for t in project.deploy.targets() if t.cpu_limit]
    for flag, path in vm_flags(project):
        if flag.flag == "+S" and (n := _schedulers(flag.value)):
            for t, cpus in limits:
                if n > max(1, int(cpus + 0.999)):
                    yield vm_schedulers.finding(f"+S {flag.value} starts {n} schedulers; {t.label} allows "
                                                f"{cpus:g} CPU", Location(path=path, line=flag.line),
                                                key=f"{path}:{t.label}")


@rule("DEP041", "vm-busy-wait-shared-cpu", I, M, subject=CPU_LIMIT,
      title="The BEAM busy-waits on a CPU-limited container",
      why="""
      Idle schedulers spin for a while before sleeping. On a fractional or shared CPU that spinning
      spends the quota doing nothing, and the container is throttled when real work arrives.
      """,
      fix="Add `+sbwt none +sbwtdcpu none +sbwtdio none` to rel/vm.args.eex (or ERL_FLAGS).")
def vm_busy_wait(project):
    flags = {f.flag for f, _ in vm_flags(project) if f.value == "none"}
    if "+sbwt" in flags:
        return
    for t in project.deploy.targets():
        if t.cpu_limit is not None and t.cpu_limit < 2:
            yield vm_busy_wait.finding(f"{t.label} is limited to {t.cpu_limit:g} CPU and schedulers busy-wait "
                                       "(no +sbwt none)", _at(t), key=t.label)

"""Deploy targets: each place the app runs, with what the files say about it in one shape.

A target answers, whatever its platform: which env variables it provides (and whether more may come
from somewhere no file shows: `fly secrets`, an `envFrom` Secret, an `EnvironmentFile`), how many
instances may run at once, how long and with which signal it stops the BEAM, which HTTP paths it
checks, what it runs on release (migrations), and how it rolls out. Platform defaults are stated
where a file is silent (fly: 5 s SIGINT; Kubernetes: 30 s; compose and `docker stop`: 10 s; systemd: 90 s);
a bare Dockerfile may be run by anything, so its 10 s is a guess.
"""

from __future__ import annotations

import re

from phoenix_ops.patterns import has_word, lazy, mentions
from phoenix_ops.project.deploy.dockerfile import Dockerfile, command_words
from phoenix_ops.project.run_mode import starts_the_app
from phoenix_ops.record import field, record

# Images of the services around the app, by a part of their name (`confluentinc/cp-kafka`,
# `docker.elastic.co/elasticsearch/elasticsearch`, `otel/opentelemetry-collector`).
SERVICE_IMAGES = frozenset({
    "postgres", "postgis", "timescaledb", "redis", "valkey", "mysql", "mariadb", "mongo", "nginx", "caddy", "traefik",
    "minio", "localstack", "mailhog", "mailpit", "memcached", "rabbitmq", "nats", "elasticsearch", "opensearch",
    "prometheus", "grafana", "jaeger", "otel", "zookeeper", "kafka", "clickhouse", "pgbouncer", "meilisearch",
    "typesense", "adminer", "pgadmin"})
_OS_IMAGES = frozenset({"alpine", "busybox"})
# What every Fly Machine is started with (fly.io/docs/machines/runtime-environment), and PRIMARY_REGION
# when fly.toml names one.
FLY_RUNTIME_ENV = ("FLY_APP_NAME", "FLY_MACHINE_ID", "FLY_ALLOC_ID", "FLY_REGION", "FLY_PUBLIC_IP", "FLY_IMAGE_REF",
                   "FLY_MACHINE_VERSION", "FLY_PRIVATE_IP", "FLY_PROCESS_GROUP", "FLY_VM_MEMORY_MB")
_PHX_SERVER = lazy(r"^\s*(?:export\s+)?PHX_SERVER=|PHX_SERVER=\S+\s+exec", re.M)
_MIGRATE = lazy(r"\bmigrate\b|ecto\.migrate|Release\.migrate|Ecto\.Migrator")


@record(frozen=True)
class Provided:
    name: str
    value: str | None  # the literal value, when the file holds one
    path: str
    line: int
    how: str = "env"  # env, secret, configmap, generated, sync, dockerfile, bin/server, passthrough, platform


@record
class Target:
    platform: str  # fly, kubernetes, compose, systemd, render, procfile, docker
    name: str
    path: str
    line: int
    env: dict[str, Provided] = field(default_factory=dict)
    open_env: list[str] = field(default_factory=list)  # where more variables may come from, unread
    instances: int | None = None  # the most instances the files allow at once
    instances_note: str = ""
    stop_timeout: float | None = None
    stop_timeout_default: bool = False  # the platform's default: no file sets it
    stop_signal: str | None = None
    exec_form: bool | None = None  # the BEAM is PID 1 and receives the stop signal
    health_paths: list[tuple[str, int]] = field(default_factory=list)
    health_checked: bool = False  # any health check at all (TCP counts)
    migrate: str | None = None  # what runs on release before the new version starts
    migrate_line: int = 0
    strategy: str | None = None  # rolling, bluegreen, canary, immediate, recreate
    cpu_limit: float | None = None
    command: list[str] = field(default_factory=list)
    dockerfile: Dockerfile | None = None

    @property
    def label(self) -> str:
        return f"{self.platform} {self.name}".strip() if self.name else self.platform

    def provides(self, name: str) -> Provided | None:
        return self.env.get(name)


def targets(deploy) -> list[Target]:
    out = [*_fly(deploy), *_kubernetes(deploy), *_compose(deploy), *_systemd(deploy), *_render(deploy),
           *_procfile(deploy)]
    used = {t.dockerfile.path for t in out if t.dockerfile is not None}
    for d in deploy.dockerfiles:  # one no other target runs, if it is an image of the app to run
        if d.path not in used and d.final is not None and "/" not in d.path and not d.builds_for_dev() \
                and not _service_image(d.final.image, built=True) and _beam_image(d) and (d.runs or d.builds_release):
            out.append(_docker(deploy, d))
    return out


def _beam_image(dockerfile: Dockerfile) -> bool:
    """Whether a Dockerfile builds or holds Elixir: an Elixir or Erlang base, a `mix` step, a release
    copied in. A Python service or a C builder beside the app is not it."""
    said = " ".join([*(s.image for s in dockerfile.stages),
                     *(i.script for s in dockerfile.stages for i in s.instructions
                       if i.cmd in ("RUN", "COPY", "CMD", "ENTRYPOINT"))]).lower()
    return mentions(said, ("elixir", "erlang", "hexpm/", "mix ", "_build", "/rel/", "bin/server", "beam"))


def for_development(path: str) -> bool:
    """`Dockerfile.dev`, `dev.Dockerfile`, `docker-compose.ci.yml`, `compose.tests.yml`,
    `.devcontainer/docker-compose.yml`, `test/e2e/...`, a compose service named `dev` or `test-runner`:
    a deploy file or service whose name or folder says it builds or runs no production app (a folder
    by whole words only: `devops/` is no `dev/`)."""
    *folders, name = path.lower().split("/")
    for generic in ("dockerfile", "docker-compose", "compose"):
        name = name.removeprefix(generic)
    return mentions(name, ("dev", "test", "gitpod", "local", "debug")) or has_word(name, "ci", start=False) \
        or has_word(name, "gha") or any(mentions(f, ("test", "e2e")) or f in _DEVELOPMENT_FOLDERS for f in folders)


_DEVELOPMENT_FOLDERS = (".devcontainer", "dev", "development", "ci", "local")


def _image_names(image: str) -> list[str]:
    """The parts of an image's name, lower-case, without tag or digest (`ghcr.io/acme/shop:1.2`:
    ghcr.io, acme, shop)."""
    return [part.split("@")[0].split(":")[0].lower() for part in image.split("/")]


def _service_image(image: str, built: bool) -> bool:
    """Whether `image`, pulled or the base a Dockerfile builds on, runs a service around the app:
    a service built `FROM postgres:17` runs PostgreSQL as one pulling the image would. An app's own
    image is often built on a bare OS image."""
    names = {name.removeprefix("cp-") for name in _image_names(image)}
    return not names.isdisjoint(SERVICE_IMAGES) or (not built and not names.isdisjoint(_OS_IMAGES))


def _with_image(deploy, t: Target, dockerfile: Dockerfile | None) -> Target:
    """ENV, CMD and signal handling that the image brings to a target."""
    t.dockerfile = dockerfile
    stage = dockerfile.final if dockerfile else None
    if stage is not None:
        for name, (value, line) in stage.env.items():
            t.env.setdefault(name, Provided(name, value, dockerfile.path, line, "dockerfile"))
        entry = stage.last("ENTRYPOINT") or stage.last("CMD")
        if entry is not None:
            t.exec_form = entry.exec_form
            if not t.command:
                t.command = [*(command_words(stage.last("ENTRYPOINT")) if stage.last("ENTRYPOINT") else []),
                             *(command_words(stage.last("CMD")) if stage.last("CMD") else [])]
        signal = stage.last("STOPSIGNAL")
        if signal is not None and signal.args and t.stop_signal is None:
            t.stop_signal = signal.args[0]
    _bin_server(deploy, t)
    return t


def _bin_server(deploy, t: Target) -> None:
    """The release's bin/server sets PHX_SERVER before it starts the release."""
    script = deploy.bin_server
    if script and any(w.endswith("bin/server") for w in t.command) and "PHX_SERVER" not in t.env:
        m = _PHX_SERVER.search(script)
        if m:
            line = script[: m.start()].count("\n") + 1
            t.env["PHX_SERVER"] = Provided("PHX_SERVER", "true", "rel/overlays/bin/server", line, "bin/server")


def _fly(deploy) -> list[Target]:
    out = []
    for fly in deploy.fly:
        t = Target("fly", fly.app or "", fly.path, 1, open_env=["fly secrets (not in any file)"])
        for name, (value, line) in fly.env.items():
            t.env[name] = Provided(name, value, fly.path, line)
        for name in (*FLY_RUNTIME_ENV, *(["PRIMARY_REGION"] if fly.data.get("primary_region") else [])):
            t.env.setdefault(name, Provided(name, None, fly.path, 1, "platform"))
        build = fly.data.get("build") or {}
        prebuilt = isinstance(build, dict) and build.get("image")
        dockerfile = None if prebuilt else deploy.dockerfile(_join(fly.path, build.get("dockerfile"))
                                                              if isinstance(build, dict) and build.get("dockerfile")
                                                              else _join(fly.path, "Dockerfile"))
        processes = fly.data.get("processes")
        if isinstance(processes, dict) and processes:
            t.command = str(next(iter(processes.values()))).split()
        t.stop_timeout, t.stop_timeout_default = fly.kill_timeout, fly.kill_timeout is None
        if t.stop_timeout is None:
            t.stop_timeout = 5.0
        t.stop_signal = fly.kill_signal or "SIGINT"
        t.health_paths = [(c.path, c.line) for c in fly.checks if c.path]
        t.health_checked = bool(fly.checks)
        t.migrate, t.migrate_line = fly.release_command, fly.line("release_command", "deploy")
        t.strategy = fly.strategy
        t.instances = None
        t.instances_note = (f"min_machines_running = {fly.min_machines}; the machine count is set by `fly scale`"
                            if fly.min_machines else "machine count set by `fly scale count` (fly launch makes 2)")
        vm = fly.data.get("vm")
        cpus = [v.get("cpus") for v in vm if isinstance(v, dict)] if isinstance(vm, list) else []
        t.cpu_limit = float(cpus[0]) if cpus and isinstance(cpus[0], (int, float)) else None
        out.append(_with_image(deploy, t, dockerfile))
    return out


def _kubernetes(deploy) -> list[Target]:
    if not deploy.k8s:  # and the YAML readers stay unimported
        return []
    from phoenix_ops.project.deploy.kubernetes import probe_path
    from phoenix_ops.project.deploy.yamldocs import line_of
    workloads = deploy.workloads()
    secrets = {o.name: set((o.get("data") or {}) | (o.get("stringData") or {})) for o in deploy.k8s
               if o.kind == "Secret"}
    maps = {o.name: set(o.get("data") or {}) for o in deploy.k8s if o.kind == "ConfigMap"}
    hpa = {o.get("spec", "scaleTargetRef", "name"): o.get("spec", "maxReplicas") for o in deploy.k8s
           if o.kind == "HorizontalPodAutoscaler"}
    jobs = [w for w in workloads if w.obj.kind in ("Job", "CronJob")]
    out = []
    for w in workloads:
        if w.obj.kind in ("Job", "CronJob", "Pod") or not w.containers:
            continue
        c = w.containers[0]
        t = Target("kubernetes", f"{w.obj.kind}/{w.obj.name}", w.obj.path, w.obj.line)
        for e in c.env:
            how = {"secretKeyRef": "secret", "configMapKeyRef": "configmap"}.get(e.source, "env")
            t.env[e.name] = Provided(e.name, e.value, w.obj.path, e.line, how)
        for kind, name, line in c.env_from:
            known = (secrets if kind == "Secret" else maps).get(name)
            if known is None:
                t.open_env.append(f"{kind} {name} (keys not in any file)")
                continue
            for key in known:
                t.env.setdefault(key, Provided(key, None, w.obj.path, line, kind.lower()))
        t.command = c.command
        replicas = w.replicas if w.replicas is not None else 1
        most = hpa.get(w.obj.name)
        t.instances = max(replicas, most) if isinstance(most, int) else replicas
        t.instances_note = f"HorizontalPodAutoscaler maxReplicas {most}" if isinstance(most, int) else "replicas"
        t.stop_timeout, t.stop_timeout_default = (w.grace_period, False) if w.grace_period is not None \
            else (30.0, True)
        t.stop_signal = "SIGTERM"
        t.health_paths = [(p, line_of(probe, c.line)) for probe in c.probes.values() if (p := probe_path(probe))]
        t.health_checked = bool(c.probes)
        t.strategy = w.strategy
        t.cpu_limit = c.cpu_limit
        migrating = [x for x in [*w.init_containers, *(c2 for j in jobs for c2 in j.containers)]
                     if _MIGRATE.search(" ".join(x.command))]
        if migrating:
            t.migrate, t.migrate_line = " ".join(migrating[0].command), migrating[0].line
        out.append(_with_image(deploy, t, deploy.dockerfile()))  # the image is most likely the root Dockerfile's
    return out


# Variables only a Phoenix app is given: a compose service setting one runs the app.
_APP_ONLY_ENV = ("SECRET_KEY_BASE", "PHX_HOST", "PHX_SERVER")


def _compose(deploy) -> list[Target]:
    """A target per compose service that runs the app. In a file where some service surely does
    (it starts the release or `mix phx.server`, is given SECRET_KEY_BASE, PHX_HOST or PHX_SERVER,
    or builds the release), only those; in one where none surely does, those that may: built from
    a Dockerfile that builds or holds Elixir and is not based on a service image (a database, a
    broker, a proxy), or pulling an image named for one of the project's apps. `db` and
    `test-runner` beside `web` are not the app."""
    by_file: dict[str, list[tuple[Target, bool, bool]]] = {}  # (target, surely, maybe) per file
    for s in deploy.compose:
        build = s.data.get("build")
        df = build.get("dockerfile") if isinstance(build, dict) else None
        context = build.get("context", ".") if isinstance(build, dict) else build
        dockerfile = deploy.dockerfile(_join(s.path, f"{context or '.'}/{df or 'Dockerfile'}")) if s.builds else None
        if for_development(s.path) or for_development(s.name) or dockerfile is not None and (
                for_development(dockerfile.path) or dockerfile.builds_for_dev()):
            continue  # a development or CI environment
        built_from = dockerfile.final.image if dockerfile is not None and dockerfile.final is not None else ""
        t = Target("compose", s.name, s.path, s.line)
        for name, (value, line) in s.env.items():
            t.env[name] = Provided(name, value, s.path, line, "env" if value is not None else "passthrough")
        for path, _, line in s.env_files:
            rel = _join(s.path, path)
            if rel in deploy.env_files:
                for e in deploy.env_files[rel][0]:
                    t.env.setdefault(e.key, Provided(e.key, e.value, rel, e.line, "env_file"))
            else:
                t.open_env.append(f"env_file {path} (not in the project)")
        t.command = s.command
        t.instances, t.instances_note = s.replicas or 1, "deploy.replicas"
        grace = s.stop_grace
        t.stop_timeout, t.stop_timeout_default = (grace, False) if grace is not None else (10.0, True)
        t.stop_signal = s.data.get("stop_signal")
        t.health_checked = "healthcheck" in s.data
        t.cpu_limit = s.cpu_limit
        _with_image(deploy, t, dockerfile)
        t.stop_signal = t.stop_signal or "SIGTERM"
        surely = starts_the_app(" ".join(t.command)) or any(name in t.env for name in _APP_ONLY_ENV) \
            or dockerfile is not None and dockerfile.builds_release
        maybe = not _service_image(built_from if s.builds else s.image, built=s.builds) and (
            _beam_image(dockerfile) if dockerfile is not None else s.builds or _names_the_app(s.image, deploy.app_names))
        by_file.setdefault(s.path, []).append((t, surely, maybe))
    out = []
    for services in by_file.values():
        known = any(surely for _, surely, _ in services)
        out += [t for t, surely, maybe in services if (surely if known else maybe)]
    return out


def _names_the_app(image: str, apps: tuple[str, ...]) -> bool:
    """Whether a part of an image's name holds the name of one of the project's Mix apps
    (`ghcr.io/acme/shop:1.2` for :shop, `my-app` for :my_app)."""
    parts = [name.replace("-", "_") for name in _image_names(image)]
    return any(app in part for app in apps for part in parts)


def _systemd(deploy) -> list[Target]:
    out = []
    for unit in deploy.systemd:
        start = unit.get("Service", "ExecStart")
        t = Target("systemd", unit.path.rsplit("/", 1)[-1], unit.path, start.line if start else 1)
        for name, (value, line) in unit.environment().items():
            t.env[name] = Provided(name, value, unit.path, line)
        for path, _, line in unit.environment_files():
            t.open_env.append(f"EnvironmentFile {path}")
        t.command = unit.exec_start()
        t.exec_form = True
        timeout = unit.stop_timeout()
        t.stop_timeout, t.stop_timeout_default = (timeout, False) if timeout is not None else (90.0, True)
        signal = unit.get("Service", "KillSignal")
        t.stop_signal = signal.value if signal else "SIGTERM"
        t.instances, t.instances_note = 1, "one unit per host"
        pre = unit.get("Service", "ExecStartPre")
        if pre is not None and _MIGRATE.search(pre.value):
            t.migrate, t.migrate_line = pre.value, pre.line
        _bin_server(deploy, t)
        out.append(t)
    return out


def _render(deploy) -> list[Target]:
    out = []
    for bp in deploy.render:
        for s in bp.services:
            if s.type not in ("web", "worker", "pserv", "private_service", "background_worker"):
                continue
            t = Target("render", s.name, s.path, s.line)
            for e in [*s.env, *(e for g in s.groups for e in bp.groups.get(g, []))]:
                t.env.setdefault(e.key, Provided(e.key, e.value, s.path, e.line, e.source))
            for g in s.groups:
                if g not in bp.groups:
                    t.open_env.append(f"envVarGroup {g} (not in the blueprint)")
            t.instances, t.instances_note = s.max_instances, "numInstances / scaling.maxInstances"
            path = s.data.get("healthCheckPath")
            t.health_paths = [(str(path), s.line)] if path else []
            t.health_checked = bool(path)
            pre = s.data.get("preDeployCommand")
            if pre:
                t.migrate, t.migrate_line = str(pre), s.line
            t.strategy = "rolling"
            delay = s.data.get("maxShutdownDelaySeconds")
            t.stop_timeout, t.stop_timeout_default = (float(delay), False) if isinstance(delay, int) else (30.0, True)
            t.stop_signal = "SIGTERM"
            command = s.data.get("startCommand") or s.data.get("dockerCommand")
            t.command = str(command).split() if command else []
            dockerfile = deploy.dockerfile(str(s.data.get("dockerfilePath", "./Dockerfile")).removeprefix("./")) \
                if s.data.get("runtime", s.data.get("env")) == "docker" else None
            out.append(_with_image(deploy, t, dockerfile))
    return out


def _procfile(deploy) -> list[Target]:
    if not deploy.procfile or deploy.fly or deploy.render:
        return []
    web = next((p for p in deploy.procfile if p.name == "web"), deploy.procfile[0])
    t = Target("procfile", web.name, deploy.procfile_path or "Procfile", web.line,
               open_env=["the platform's config vars (not in any file)"])
    t.command = web.command.split()
    t.stop_timeout, t.stop_timeout_default, t.stop_signal = 30.0, True, "SIGTERM"
    release = next((p for p in deploy.procfile if p.name == "release"), None)
    if release is not None:
        t.migrate, t.migrate_line = release.command, release.line
    _bin_server(deploy, t)
    return [t]


def _docker(deploy, dockerfile: Dockerfile) -> Target:
    t = Target("docker", dockerfile.path, dockerfile.path, dockerfile.final.line,
               open_env=["`docker run -e` / the orchestrator (not in any file)"])
    # `docker stop` waits 10 s; what really runs the image is unknown, so rules hold this value loosely.
    t.stop_timeout, t.stop_timeout_default, t.stop_signal = 10.0, True, None
    t = _with_image(deploy, t, dockerfile)
    t.stop_signal = t.stop_signal or "SIGTERM"
    return t


def _join(base_file: str, rel: str) -> str:
    """A path named in a file, relative to that file's directory, normalised."""
    folder = base_file.rpartition("/")[0]
    parts: list[str] = []
    for part in f"{folder}/{rel}".split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)

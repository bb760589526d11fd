"""Deploy files, each read once by a real parser in `load_project`: facts for rules, never judgements.

`project.deploy` is a `Deploy`:

    deploy.dockerfiles     [Dockerfile]   BuildKit's parser: stages, ARGs resolved in FROM, ENV per stage,
                                          heredocs, `--mount` flags, exec/shell form (dockerfile.py)
    deploy.dockerignore    {dir: [pattern]}   each .dockerignore, by the directory it sits in
    deploy.fly             [Fly]          fly.toml v1 and v2: env, kill_timeout/signal, checks, release
                                          command, strategy, concurrency, min machines (fly.py)
    deploy.k8s             [Object]       Kubernetes objects from any YAML file, picked by apiVersion and
                                          kind; `workload(obj)` gives containers, probes, env, grace period
                                          (kubernetes.py)
    deploy.templates       [str]          YAML files that are Helm/Go templates: not evaluated
    deploy.compose         [Service]      docker compose services: environment, env_file, replicas,
                                          stop_grace_period, cpus, a PostgreSQL max_connections (compose.py)
    deploy.render          [Blueprint]    render.yaml services, envVars, groups (render.py)
    deploy.systemd         [Unit]         unit files with repeated keys and quoted assignments (systemd.py)
    deploy.procfile        [Process]      `name: command` entries of the Procfile (procfile.py)
    deploy.env_sh          EnvScript      rel/env.sh.eex exports (rel.py)
    deploy.vm_args         [VmFlag]       rel/vm.args.eex flags (rel.py)
    deploy.bin_server      str | None     rel/overlays/bin/server, the script that sets PHX_SERVER
    deploy.env_files       {path: ([Entry], [Malformed])}   .env-style files, by the one dotenv reader
    deploy.problems        [(path, line, message)]          files that do not parse

Every fact carries its file and line. `deploy.targets()` (targets.py) turns them into one
`Target` per place the app is deployed (fly app, Kubernetes workload, compose service, systemd unit,
render service, Procfile, bare Docker image): the env it provides (and whether more may come from
somewhere unreadable), instance counts, stop signal and timeout, health check paths, migration on
release, rollout strategy and CPU limit, so rules compare platforms without knowing their files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from phoenix_ops.patterns import lazy
from phoenix_ops.record import field, record

# Each reader is imported when a file of its kind is found: a project without Kubernetes manifests
# never loads the YAML reader (start-up is most of what `check` costs on a small project).
if TYPE_CHECKING:
    from phoenix_ops.project.deploy.compose import Service as ComposeService
    from phoenix_ops.project.deploy.dockerfile import Dockerfile
    from phoenix_ops.project.deploy.fly import Fly
    from phoenix_ops.project.deploy.kubernetes import Object
    from phoenix_ops.project.deploy.procfile import Process
    from phoenix_ops.project.deploy.rel import EnvScript, VmFlag
    from phoenix_ops.project.deploy.render import Blueprint
    from phoenix_ops.project.deploy.systemd import Unit
    from phoenix_ops.project.dotenv import Entry, Malformed

_YAML_DIRS_SKIPPED = (".github/", ".gitlab/", ".circleci/", "assets/", "test/", ".buildkite/")
_COMPOSE_NAME = lazy(r"(^|/)(docker-)?compose[\w.-]*\.ya?ml$")


@record
class Deploy:
    dockerfiles: list[Dockerfile] = field(default_factory=list)
    dockerignore: dict[str, list[str]] = field(default_factory=dict)
    fly: list[Fly] = field(default_factory=list)
    k8s: list[Object] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    compose: list[ComposeService] = field(default_factory=list)
    render: list[Blueprint] = field(default_factory=list)
    systemd: list[Unit] = field(default_factory=list)
    procfile: list[Process] = field(default_factory=list)
    procfile_path: str | None = None
    env_sh: EnvScript | None = None
    vm_args: list[VmFlag] = field(default_factory=list)
    vm_args_path: str | None = None
    bin_server: str | None = None
    env_files: dict[str, tuple[list[Entry], list[Malformed]]] = field(default_factory=dict)
    problems: list[tuple[str, int, str]] = field(default_factory=list)
    app_names: tuple[str, ...] = ()  # the Mix apps of the project: an image named for one runs it
    _targets: list | None = field(default=None, repr=False, compare=False)  # targets(), made once

    @property
    def present(self) -> bool:
        """Whether any file says how the app is deployed."""
        return bool(self.dockerfiles or self.fly or self.k8s or self.templates or self.compose or self.render
                    or self.systemd or self.procfile)

    def dockerfile(self, path: str | None = None) -> Dockerfile | None:
        """The Dockerfile at `path`, or the one at the root (the one `docker build .` and fly use)."""
        wanted = path or "Dockerfile"
        return next((d for d in self.dockerfiles if d.path == wanted), None) or (
            None if path else next(iter(self.dockerfiles), None))

    def workloads(self):
        if not self.k8s:  # and the YAML readers stay unimported
            return []
        from phoenix_ops.project.deploy.kubernetes import workload
        return [w for w in map(workload, self.k8s) if w is not None]

    def targets(self):
        """One Target per place the app runs (a dozen rules ask; the files were read once)."""
        if self._targets is None:
            from phoenix_ops.project.deploy.targets import targets
            self._targets = targets(self)
        return self._targets


def read_deploy(paths: list[str], read) -> Deploy:
    """Read every deploy file among `paths` (relative), with `read(rel) -> str | None`."""
    d = Deploy()
    for rel in sorted(paths):
        name = rel.rsplit("/", 1)[-1]
        lower = name.lower()
        if lower.startswith(("dockerfile", "containerfile")) or lower.endswith(".dockerfile"):
            _dockerfile(d, rel, read(rel))
        elif name == ".dockerignore":
            d.dockerignore[rel.rpartition("/")[0]] = _patterns(read(rel) or "")
        elif name.startswith("fly") and name.endswith(".toml") and _name_characters(name[3:-5], empty=True):
            _fly(d, rel, read(rel))
        elif lower.endswith((".service", ".service.eex")):
            _unit(d, rel, read(rel))
        elif lower.endswith((".yml", ".yaml")):
            _yaml(d, rel, read)
        elif rel == "Procfile":  # the platforms (Heroku, Gigalixir, Dokku) read the root's only
            from phoenix_ops.project.deploy.procfile import read_procfile
            d.procfile_path, d.procfile = rel, read_procfile(read(rel) or "")
        elif rel == "rel/env.sh.eex":
            from phoenix_ops.project.deploy.rel import read_env_script
            d.env_sh = read_env_script(rel, read(rel) or "")
        elif rel == "rel/vm.args.eex":
            from phoenix_ops.project.deploy.rel import read_vm_args
            d.vm_args_path, d.vm_args = rel, read_vm_args(read(rel) or "")
        elif rel == "rel/overlays/bin/server":
            d.bin_server = read(rel)
        elif env_file_name(name):
            from phoenix_ops.project.dotenv import parse_dotenv
            d.env_files[rel] = parse_dotenv((read(rel) or "").removeprefix("\ufeff"), rel)
    return d


def env_file_name(name: str) -> bool:
    """`.env`, `.env.prod`, `prod.env` or `.envrc`."""
    return name in (".env", ".envrc") or (name.startswith(".env.") and _name_characters(name[5:])) \
        or (name.endswith(".env") and _name_characters(name[:-4]))


def _name_characters(text: str, *, empty: bool = False) -> bool:
    """Letters, digits, `_`, `.` and `-` only (and at least one, unless `empty`)."""
    return (empty or text != "") and all(c.isalnum() or c in "_.-" for c in text)


def _dockerfile(d: Deploy, rel: str, text: str | None) -> None:
    from phoenix_ops.project.deploy.dockerfile import read_dockerfile

    if text is None:
        return
    parsed = read_dockerfile(rel, text)
    if parsed.error:
        d.problems.append((rel, 1, f"does not parse as a Dockerfile: {parsed.error}"))
    d.dockerfiles.append(parsed)


def _fly(d: Deploy, rel: str, text: str | None) -> None:
    from phoenix_ops.project.deploy.fly import read_fly

    if text is None:
        return
    parsed = read_fly(rel, text)
    if parsed.error:
        d.problems.append((rel, 1, f"does not parse as TOML: {parsed.error}"))
    else:
        d.fly.append(parsed)


def _unit(d: Deploy, rel: str, text: str | None) -> None:
    from phoenix_ops.project.deploy.systemd import read_unit

    if text is not None and "[Service]" in text:
        d.systemd.append(read_unit(rel, text))


def _yaml(d: Deploy, rel: str, read) -> None:
    from phoenix_ops.project.deploy import compose, render
    from phoenix_ops.project.deploy.kubernetes import objects
    from phoenix_ops.project.deploy.yamldocs import read_yaml

    name = rel.rsplit("/", 1)[-1]
    compose_name, blueprint = bool(_COMPOSE_NAME.search(rel)), name in ("render.yaml", "render.yml")
    if rel.startswith(_YAML_DIRS_SKIPPED) and not (compose_name or blueprint):
        return
    text = read(rel)
    if text is None:
        return
    looks_k8s = "apiVersion" in text and "kind" in text
    if not (compose_name or blueprint or looks_k8s):
        return
    parsed = read_yaml(rel, text)
    if parsed.template:
        if looks_k8s:
            d.templates.append(rel)
        return
    if parsed.error:
        d.problems.append((rel, parsed.error_line or 1, f"does not parse as YAML: {parsed.error}"))
        return
    for doc in parsed.docs:
        if blueprint and isinstance(doc.data, dict) and "services" in doc.data and not compose.is_compose(doc):
            d.render.append(render.read_blueprint(doc))
        elif compose.is_compose(doc):
            d.compose.extend(compose.services(doc))
    d.k8s.extend(objects(parsed.docs))


def _patterns(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]

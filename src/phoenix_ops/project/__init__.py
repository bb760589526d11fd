"""The Project model: everything rules need, read and parsed once."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from phoenix_ops.elixir.evaluate import ENV_FUNS
from phoenix_ops.elixir.limits import PROJECT_BUDGET, Budget
from phoenix_ops.elixir.modules import Module, has_alias, modules, walk_calls
from phoenix_ops.elixir.parser import text
from phoenix_ops.elixir.syntax import call_args, call_parts
from phoenix_ops.elixir.values import KW, Atom, EnvRead, Expr, Origin, Value, plain
from phoenix_ops.project.config import ConfigView, evaluate_config
from phoenix_ops.project.deploy import Deploy, read_deploy
from phoenix_ops.project.files import FileSet, SourceFile, scan
from phoenix_ops.project.lib_reads import lib_env_reads, uncalled
from phoenix_ops.project.migrations import Migration, migration_files, read_migration
from phoenix_ops.project.mix import MixProject, read_lock, read_mix
from phoenix_ops.project.run_mode import MIX, RELEASE, RunMode, run_mode
from phoenix_ops.project.usage import (
    CLIENT_FILES,
    USAGE_TRIGGERS,
    Usage,
    health_path,
    read_client,
    read_handler,
    read_module,
    scan_markers,
)
from phoenix_ops.project.web import (
    Child,
    Endpoint,
    Router,
    application_children,
    read_endpoint,
    read_router,
)
from phoenix_ops.reading import read_regular, reading
from phoenix_ops.record import Derived, field, record

# Byte markers of the lib files worth a parse tree; all other files are never parsed.
LIB_TRIGGERS = (b"Phoenix.Endpoint", b"Phoenix.Router", b":router", b"use Application", b"Ecto.Migrator",
                b"System.get_env", b"System.fetch_env", b"Ecto.Repo", b"compile_env", b"Phoenix.Presence",
                *USAGE_TRIGGERS)


class NotAPhoenixProject(Exception):
    """The given directory holds no Phoenix application."""


@record
class Problem:
    """Something about the files themselves: a parse error, an unreadable file, a missing import."""

    kind: str  # "syntax", "unreadable", "import", "budget"
    file: str
    line: int
    message: str
    important: bool = True  # config and mix.exs must be understood; other files less so


@record
class Repo:
    otp_app: str
    module: str
    file: str
    line: int
    adapter: str | None = None
    reads_env_in_init: bool = False  # `init/2` fills the config at runtime

    @property
    def networked(self) -> bool:
        """In-memory and file adapters have no URL, pool or TLS to configure."""
        return not any(word in (self.adapter or "") for word in ("SQLite", "Etso", "Mnesia", "Exqlite"))


@record
class Project(Derived):
    root: Path
    files: FileSet
    mix: MixProject
    apps: list[MixProject]
    env: str
    lock: dict[str, str] = field(default_factory=dict)
    endpoints: list[Endpoint] = field(default_factory=list)
    routers: list[Router] = field(default_factory=list)
    children: list[tuple[str, str, int]] = field(default_factory=list)  # (module, file, line)
    child_specs: list[Child] = field(default_factory=list)  # the same children, with their start argument
    children_complete: bool = True  # every application's children list was read to the end
    presence: list[tuple[str, str, int]] = field(default_factory=list)  # modules that `use Phoenix.Presence`
    migrators: list[tuple[str, str, int]] = field(default_factory=list)  # modules calling Ecto.Migrator
    lib_reads: list[EnvRead] = field(default_factory=list)
    repos: list[Repo] = field(default_factory=list)
    compile_env: list[tuple[str, str, str, int]] = field(default_factory=list)  # (app, key, file, line)
    usage: Usage = field(default_factory=Usage)
    problems: list[Problem] = field(default_factory=list)
    tracked: set[str] | None = None  # files tracked by git, when the project is a git checkout
    repo_prefix: str = ""  # where the project sits inside its git repository ("elixir/"), for SARIF
    config_dir: str = "config"
    deploy: Deploy = field(default_factory=Deploy)  # deploy files, read once (project/deploy/)
    _views: dict[str, ConfigView] = field(default_factory=dict)
    # Evaluation steps left for the whole project (mix.exs files, then each environment's config).
    work: Budget = field(default_factory=lambda: Budget(PROJECT_BUDGET))
    # Facts many rules and their subjects ask (health paths, the Dockerfiles that build the release),
    # derived once when first asked: see Derived.
    _derived: dict[Callable, Any] = field(default_factory=dict, repr=False, compare=False)
    _texts: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)

    def config(self, env: str | None = None) -> ConfigView:
        env = env or self.env
        if env not in self._views:
            view = evaluate_config(self.files, self.config_dir, env, self.work)
            provider = self.config_provider()
            if provider is not None:  # it loads config at boot from somewhere the audit cannot read
                view.shadow((), provider)
            self._views[env] = view
            if env == self.env:
                for p in view.problems:
                    # A git-ignored secrets file (prod.secret.exs) is missing by design: its values are unknown.
                    ignored = p.target is not None and _git_ignored(self.root, p.target)
                    message = f"{p.message} (git-ignored: the values it sets are unknown)" if ignored else p.message
                    self.problems.append(Problem(p.kind, p.file, p.line, message, not ignored))
        return self._views[env]

    def config_provider(self) -> Value | None:
        """A release config provider (other than the runtime.exs reader), if mix.exs declares one."""
        releases = self.mix.releases
        for _, spec in releases.items if isinstance(releases, KW) else []:
            providers = spec.get("config_providers") if isinstance(spec, KW) else None
            if providers is not None:
                return Expr(f"config_providers: {getattr(providers, 'text', '...')}",
                            origin=Origin(self.mix.file, providers.origin.line if providers.origin else 1, "runtime"))
        return None

    @property
    def envs(self) -> list[str]:
        """Every Mix environment with its own config file, the audited one included."""
        prefix = f"{self.config_dir}/"
        names = {p[len(prefix):-4] for p in self.files.files
                 if p.startswith(prefix) and p.count("/") == prefix.count("/") and p.endswith(".exs")}
        return sorted((names - {"config", "runtime", "releases"}) - {n for n in names if "." in n} | {self.env})

    def endpoint_keys(self) -> list[tuple[str, str]]:
        """(otp_app, module) of every endpoint, as config addresses them."""
        found = [(e.otp_app or self.mix.app or "", e.module) for e in self.endpoints]
        if found:
            return found
        view = self.config()
        return sorted((app, key) for app in self.otp_apps for key in view.keys(app) if key.endswith("Endpoint"))

    def repo_keys(self) -> list[tuple[str, str]]:
        """(otp_app, module) of every networked Ecto repo the audited env starts (its `ecto_repos`)."""
        view = self.config()
        listed = {a.name for app in self.otp_apps for a in _list(plain(view.get(app, "ecto_repos")))
                  if isinstance(a, Atom)}
        found = [(r.otp_app, r.module) for r in self.repos
                 if r.networked and not r.reads_env_in_init and (not listed or r.module in listed)]
        if found or self.repos:
            return found
        return sorted((app, key) for app in self.otp_apps for key in view.keys(app) if key.endswith(".Repo"))

    def has_dep(self, name: str) -> bool:
        return any(m.has_dep(name) for m in [self.mix, *self.apps])

    @property
    def otp_apps(self) -> list[str]:
        return [m.app for m in [self.mix, *self.apps] if m.app]

    def text(self, rel: str) -> str | None:
        """A small non-Elixir file (deploy files, rel/ scripts), read on first demand: readers of
        the same file (each RUN of a Dockerfile naming a copied script) see one reading."""
        if rel not in self._texts:
            try:
                data = read_regular(self.root / rel)
            except OSError:  # unreadable, not a regular file (a FIFO, a link to a device) or too large
                data = b"\0"
            self._texts[rel] = None if b"\0" in data[:4096] else data.decode(errors="replace")
        return self._texts[rel]

    def exists(self, rel: str) -> bool:
        return rel in self.files.files or rel in self.files.others

    @cached_property
    def migrations(self) -> list[Migration]:
        """Every repo's migrations, oldest first (parsed on first use: `env` never needs them)."""
        extra = []
        view = self.config()
        for repo in self.repos:
            priv = plain(view.get(repo.otp_app, repo.module, "priv"))
            if isinstance(priv, str):
                extra.append(priv.rstrip("/") + "/migrations")
        found = [read_migration(src) for src in migration_files(self.files, extra)]
        return sorted(found, key=lambda m: (m.version, m.path))

    @cached_property
    def docker_build_vars(self) -> set[str]:
        """Variables the project's Dockerfiles declare with ARG or ENV (deliberate build-time values)."""
        return {name for d in self.deploy.dockerfiles for name in d.declared()}

    @cached_property
    def run_mode(self) -> RunMode:
        """How the app runs in production, with the files that say so."""
        return run_mode(self)

    @property
    def release_mode(self) -> str:
        """"mix" when the files show the app runs `mix phx.server`; "release" otherwise (assumed when unknown)."""
        return MIX if self.run_mode.mode == MIX else RELEASE

    def summary(self) -> dict:
        return {"root": str(self.root), "app": self.mix.app, "umbrella": self.mix.umbrella,
                "apps": [a.app for a in self.apps], "env": self.env,
                "phoenix": self.lock.get("phoenix"),
                "run_mode": self.run_mode.summary(),
                "repo_prefix": self.repo_prefix}


def _list(value) -> list:
    """A list setting as a list; any other shape (`ecto_repos: 1` does not boot either) as none."""
    return value if isinstance(value, list) else []


class SeveralProjects(NotAPhoenixProject):
    """A folder holding more than one Phoenix project, none of them named."""

    def __init__(self, path: Path, roots: list[Path]):
        self.roots = roots
        listed = ", ".join(str(r) for r in roots)
        super().__init__(f"{path} holds {len(roots)} Phoenix projects: {listed}; name one")


def find_root(path: Path) -> Path:
    """The project at `path`, or the one Phoenix project in a subdirectory (SeveralProjects if many)."""
    roots = find_projects(path)
    if len(roots) > 1:
        raise SeveralProjects(path, roots)
    return roots[0]


def find_projects(path: Path) -> list[Path]:
    """The project at `path` itself, else the Phoenix projects one or two levels down (monorepos keep
    the app in elixir/ or backend/); when none of those uses Phoenix, the first Mix project."""
    if not path.exists():
        raise NotAPhoenixProject(f"{path}: no such directory")
    if not path.is_dir():
        raise NotAPhoenixProject(f"{path}: not a directory (give the directory that holds mix.exs)")
    if (path / "mix.exs").is_file():
        umbrella = path.resolve().parent.parent
        # An umbrella child reads its config from the umbrella root (`config_path: "../../config/..."`).
        if b"../../config/config.exs" in _read_or_empty(path / "mix.exs") and (umbrella / "mix.exs").is_file() \
                and b"apps_path" in _read_or_empty(umbrella / "mix.exs"):
            return [umbrella]
        return [path]
    found: list[Path] = []
    for depth in (1, 2):
        for mix in sorted(path.glob("/".join(["*"] * depth) + "/mix.exs")):
            inside_another = any(root in mix.parents for root in found)
            if not inside_another and not any(part in ("deps", "_build", "node_modules") for part in mix.parts):
                found.append(mix.parent)
    if not found:
        raise NotAPhoenixProject(f"{path}: no mix.exs here or in a subdirectory; not an Elixir project")
    return [root for root in found if _uses_phoenix(root)] or found[:1]


def _uses_phoenix(root: Path) -> bool:
    """A cheap look at mix.exs, mix.lock and umbrella apps' mix.exs for the :phoenix dependency."""
    files = [root / "mix.exs", root / "mix.lock", *root.glob("apps/*/mix.exs")]
    return any(b"{:phoenix," in data or b'"phoenix":' in data for data in map(_read_or_empty, files))


def _read_or_empty(path: Path) -> bytes:
    try:
        return read_regular(path)
    except OSError:
        return b""  # the scan reports it



def _other_projects(fs, apps: list[MixProject]) -> tuple[str, ...]:
    """Folders holding a Mix project of their own beside this one (a helper app): their deploy files
    deploy that project, not this one."""
    own = {a.dir for a in apps}
    return tuple(f"{folder}/" for rel in fs.files if rel.endswith("/mix.exs")
                 if (folder := rel.rpartition("/")[0]) not in own)


def load_project(path: Path, env: str = "prod") -> Project:
    root = find_root(Path(path))
    fs = scan(root)
    mix_src = fs.get("mix.exs")
    if mix_src is None:
        raise NotAPhoenixProject(f"{root}/mix.exs cannot be read")
    work = Budget(PROJECT_BUDGET)
    mix = read_mix(mix_src, env, work)
    apps: list[MixProject] = []
    if mix.umbrella:
        apps_path = getattr(mix.get("apps_path"), "value", "apps") or "apps"
        apps = [read_mix(src, env, work) for rel, src in sorted(fs.files.items())
                if rel.startswith(f"{apps_path}/") and rel.count("/") == 2 and rel.endswith("/mix.exs")]
    project = Project(root, fs, mix, apps, env, work=work)
    if env not in ("prod", "dev", "test") and not project.exists(f"{project.config_dir}/{env}.exs"):
        known = ", ".join(e for e in project.envs if e != env) or "none"
        raise ValueError(f"no {project.config_dir}/{env}.exs: environments with a config file: {known}")
    lock = fs.get("mix.lock")
    project.lock = read_lock(lock) if lock else {}
    _read_lib(project)
    # A deps list built by code may hide :phoenix; an endpoint module is evidence enough.
    if not project.has_dep("phoenix") and "phoenix" not in project.lock and not project.endpoints:
        raise NotAPhoenixProject(f"{root}: a Mix project, but no app depends on :phoenix and no module "
                                 f"uses Phoenix.Endpoint")
    project.problems.extend(Problem("unreadable", i.path, 1, i.message, False) for i in fs.issues)
    project.problems.extend(Problem(*p) for m in [mix, *apps] for p in m.problems)
    _read_handlers(project)
    read_client(project.usage, {rel: project.text(rel) for rel in CLIENT_FILES if rel in fs.others})
    others = _other_projects(fs, apps)
    project.deploy = read_deploy([p for p in [*fs.others, *(p for p in fs.files if p.startswith("rel/"))]
                                  if not p.startswith(others)], project.text)
    project.deploy.app_names = tuple(sorted({m.app for m in [mix, *apps] if m.app}))
    project.problems.extend(Problem("syntax", rel, line, message) for rel, line, message in project.deploy.problems)
    project.tracked, project.repo_prefix = _git_tracked(root)
    project.config()
    for src in [fs.get("mix.exs"), *[fs.get(a.file) for a in apps], *_config_files(fs)]:
        if src is not None:
            _syntax(project, src, important=True)
    return project


def _config_files(fs: FileSet) -> list[SourceFile]:
    return [f for p, f in fs.files.items() if p.endswith(".exs") and "/config/" in "/" + p]


def _read_lib(project: Project) -> None:
    for rel, src in project.files.files.items():
        if not rel.endswith(".ex"):
            continue
        if project.env != "test" and (rel.startswith("test/") or "/test/" in rel):
            continue  # test/support is compiled in the test env only
        scan_markers(project.usage, rel, src.data)
        if not any(t in src.data for t in LIB_TRIGGERS):
            continue
        _syntax(project, src, important=False)
        try:
            with reading(rel):
                for mod in modules(src.tree):
                    _classify(project, mod, rel)
                project.lib_reads.extend(lib_env_reads(src, project.env))
        except RecursionError:  # pathologically deep nesting: skip the file, say so
            project.problems.append(Problem("unreadable", rel, 1, "skipped: nesting too deep to read", False))
    if dead := uncalled(project.lib_reads, project.files):  # code that never runs raises nothing
        project.lib_reads = [r for r in project.lib_reads if r.within not in dead]


def _read_handlers(project: Project) -> None:
    """Read the modules that answer health paths, and the endpoints' own plugs (they may answer paths too)."""
    wanted = {r.module for router in project.routers for r in router.routes
              if r.module and health_path(r.path, r.module)}
    wanted |= {p.module for e in project.endpoints for p in e.plugs
               if p.module[:1].isupper() and not p.module.startswith(("Plug.", "Phoenix."))}
    for name in wanted:
        needle = f"defmodule {name} ".encode()
        for rel, src in project.files.files.items():
            if rel.endswith(".ex") and needle in src.data:
                for mod in modules(src.tree):
                    if mod.name == name:
                        project.usage.handlers[name] = read_handler(mod, rel)
                break


def _classify(project: Project, mod: Module, rel: str) -> None:
    # Walking a module's tree is the cost here: each walk below runs only when its needle is in the file.
    data = project.files.get(rel).data
    if mod.uses_module("Phoenix.Endpoint"):
        project.endpoints.append(read_endpoint(mod, rel, project.env))
    elif mod.uses_module("Phoenix.Router") or any(u.endswith("Web") and b":router" in data for u, _ in mod.uses):
        project.routers.append(read_router(mod, rel, project.env))
    if mod.uses_module("Application"):
        specs, complete = application_children(mod, rel, project.env)
        project.children_complete = project.children_complete and complete
        project.child_specs.extend(specs)
        project.children.extend((c.module, c.file, c.line) for c in specs)
    if mod.uses_module("Phoenix.Presence"):
        project.presence.append((mod.name, rel, mod.node.start_point[0] + 1))
    if mod.uses_module("Ecto.Repo"):
        app = _use_option(mod, "Ecto.Repo", "otp_app") or project.mix.app or ""
        init = mod.functions("init").get("init", [])
        reads_env = any((call_parts(c)[0] == "System" and call_parts(c)[1] in ENV_FUNS)
                        or text(c).startswith(("Confex", "Config")) for stmt in init for c in walk_calls(stmt))
        project.repos.append(Repo(app, mod.name, rel, mod.node.start_point[0] + 1,
                                  _use_option(mod, "Ecto.Repo", "adapter"), reads_env))
    if b"compile_env" in data:
        for call in walk_calls(mod.node):
            if call_parts(call) in (("Application", "compile_env"), ("Application", "compile_env!")):
                args = call_args(call)
                if len(args) >= 2 and args[0].type == "atom" and args[1].type == "atom":
                    project.compile_env.append((text(args[0])[1:], text(args[1])[1:], rel, call.start_point[0] + 1))
    if b"Telemetry.Metrics" in data:
        read_module(project.usage, mod, rel)
    if b"Ecto.Migrator" in data and has_alias(mod.node, "Ecto.Migrator"):
        project.migrators.append((mod.name, rel, mod.node.start_point[0] + 1))


def _use_option(mod: Module, used: str, key: str) -> str | None:
    for name, node in mod.uses:
        args = call_args(node)
        if name == used and len(args) > 1 and args[-1].type == "keywords":
            for pair in args[-1].named_children:
                k, v = pair.child_by_field_name("key"), pair.child_by_field_name("value")
                if k is not None and v is not None and text(k).rstrip(": ") == key and v.type in ("atom", "alias"):
                    return text(v).lstrip(":")
    return None


def _syntax(project: Project, src: SourceFile, *, important: bool) -> None:
    for p in src.problems:
        project.problems.append(Problem("syntax", src.path, p.line, f"does not parse: {p.text}", important))


def _git_ignored(root: Path, rel: str) -> bool:
    if not _in_git_checkout(root):
        return False
    import subprocess

    try:
        return subprocess.run(["git", "-C", str(root), "check-ignore", "-q", rel], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _in_git_checkout(root: Path) -> bool:
    """Whether git could know the project: a .git beside it or above, or GIT_DIR set. Asking git
    outside a checkout costs a process start for a certain no."""
    if os.environ.get("GIT_DIR"):
        return True
    here = root.resolve()
    return any((d / ".git").exists() for d in (here, *here.parents))


def _git_tracked(root: Path) -> tuple[set[str] | None, str]:
    if not _in_git_checkout(root):
        return None, ""
    import subprocess

    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=10)
        if top.returncode != 0:
            return None, ""
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--full-name", "."], capture_output=True,
                             timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None, ""
    prefix = os.path.relpath(root.resolve(), Path(top.stdout.strip()).resolve()).replace(os.sep, "/")
    prefix = "" if prefix == "." else prefix + "/"
    return {p[len(prefix):] for p in out.stdout.decode(errors="replace").split("\0") if p.startswith(prefix)}, prefix

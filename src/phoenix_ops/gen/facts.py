"""What the generators need to know about a project, read from the Project model and the env contract."""

from __future__ import annotations

import re

from phoenix_ops.elixir.values import KW
from phoenix_ops.patterns import lazy
from phoenix_ops.project import Project
from phoenix_ops.project.cluster import Discovery, cluster_discovery
from phoenix_ops.project.shutdown import stop_budget
from phoenix_ops.record import field, record
from phoenix_ops.rules.health import health_paths

# Versions used when the project names none; the pairs are published together as hexpm/elixir images.
DEFAULT_ELIXIR, DEFAULT_OTP, DEFAULT_DEBIAN = "1.17.3", "27.1.2", "bookworm-20241016-slim"
# Environment the release scripts or the platform provide themselves: never asked of the operator.
PROVIDED = {"PHX_SERVER", "RELEASE_COOKIE", "RELEASE_NODE", "RELEASE_DISTRIBUTION", "POD_IP", "FLY_APP_NAME",
            "FLY_PRIVATE_IP", "FLY_IMAGE_REF", "PORT", "ECTO_IPV6", "DNS_CLUSTER_QUERY"}


@record
class AppFacts:
    root: str
    app: str  # the OTP app (snake_case)
    module: str  # its Elixir namespace (Shop)
    release: str  # the release name in mix.exs (the app's by default)
    endpoint: str | None
    repos: list[str]
    oban: bool
    assets: bool  # the project builds assets (an `assets.deploy` alias)
    cluster: str | None  # "libcluster", "dns_cluster" or None
    health_path: str | None  # a path the router or endpoint already serves
    elixir: str
    otp: str
    debian: str
    required_env: list[str] = field(default_factory=list)  # what the operator must provide in prod
    optional_env: list[str] = field(default_factory=list)
    migrator: str | None = None  # an existing module calling Ecto.Migrator
    server_script: bool = False  # rel/overlays/bin/server exists or is being generated
    discovery: list[str] = field(default_factory=list)  # how nodes find each other (project/cluster.py kinds)
    headless_service: str | None = None  # the DNS name the project's discovery asks, when it names one
    stop_seconds: int = 0  # what the platform allows the BEAM to stop (project/shutdown.py)
    core_dir: str = ""  # the directory of the app that owns the repos ("apps/shop/" in an umbrella)
    web_dir: str = ""  # the directory of the app that holds the endpoint
    umbrella: bool = False

    @property
    def web_module(self) -> str:
        return self.endpoint.rsplit(".", 1)[0] if self.endpoint else f"{self.module}Web"

    @property
    def core_app(self) -> str:
        """The app whose config lists the repos (`ecto_repos`): the umbrella child that owns them."""
        return self.core_dir.rstrip("/").rsplit("/", 1)[-1] if self.core_dir else self.app

    @property
    def probe_path(self) -> str:
        return self.health_path or "/health"


def camelize(app: str) -> str:
    return "".join(part.capitalize() for part in app.split("_"))


def app_facts(project: Project) -> AppFacts:
    from phoenix_ops.envcontract.contract import build_contract

    app = project.mix.app or (project.apps[0].app if project.apps else None) or project.root.name
    endpoints = [e.module for e in project.endpoints]
    contract = build_contract(project, [project.env])
    required = sorted(v.name for v in contract.in_env(project.env)
                      if v.required_in(project.env) and v.name not in PROVIDED)
    optional = sorted(v.name for v in contract.in_env(project.env)
                      if v.name not in required and v.name not in PROVIDED and "runtime" in v.phases)
    elixir, otp = _versions(project)
    discoveries = cluster_discovery(project)
    return AppFacts(
        root=str(project.root), app=app, module=_namespace(project, app), release=_release_name(project, app),
        endpoint=endpoints[0] if endpoints else None,
        repos=sorted({r.module for r in project.repos if r.networked}),
        oban=project.has_dep("oban"), assets=_builds_assets(project),
        cluster="libcluster" if project.has_dep("libcluster") else "dns_cluster" if project.has_dep("dns_cluster")
        else None,
        health_path=_health_path(project), elixir=elixir, otp=otp, debian=DEFAULT_DEBIAN,
        required_env=required, optional_env=optional,
        migrator=project.migrators[0][0] if project.migrators else None,
        server_script=project.text("rel/overlays/bin/server") is not None,
        discovery=[d.kind for d in discoveries], headless_service=_service_name(discoveries),
        stop_seconds=stop_budget(project),
        core_dir=_app_dir(project.repos[0].file if project.repos else project.mix.file),
        web_dir=_app_dir(project.endpoints[0].file if project.endpoints else project.mix.file),
        umbrella=project.mix.umbrella)


def _app_dir(file: str) -> str:
    """The Mix app a source file belongs to, as a path prefix: "" at the root, "apps/shop/" in an umbrella."""
    head, sep, _ = file.partition("lib/")
    return head if sep and (not head or head.endswith("/")) else ""


def _service_name(discoveries: list[Discovery]) -> str | None:
    """The headless Service a Kubernetes DNS discovery asks for (`shop-headless` of `shop-headless.ns.svc...`)."""
    for d in discoveries:
        if d.kind in ("dns_a", "dns_srv") and d.query and not d.query.endswith(".internal"):
            return d.query.split(".")[0]
    return None


def _namespace(project: Project, app: str) -> str:
    for module in [e.module for e in project.endpoints] + [r.module for r in project.repos]:
        return module.split(".")[0].removesuffix("Web")
    return camelize(app)


def _release_name(project: Project, app: str) -> str:
    releases = project.mix.releases
    if isinstance(releases, KW) and releases.items:
        return releases.items[0][0]
    return app


def _builds_assets(project: Project) -> bool:
    aliases = project.mix.get("aliases")
    return isinstance(aliases, KW) and aliases.get("assets.deploy") is not None


def _health_path(project: Project) -> str | None:
    """A health path a route serves, or a plug of the endpoint answers before the router: the one
    the HLT rules find first."""
    return next((p.path for p in health_paths(project)), None)


_TOOL_VERSION = lazy(r"^(elixir|erlang)\s+(\S+)", re.M)


def _versions(project: Project) -> tuple[str, str]:
    """Elixir and OTP from .tool-versions (asdf, mise), else versions published together as an image."""
    found = dict(_TOOL_VERSION.findall(project.text(".tool-versions") or ""))
    elixir = found.get("elixir", "").split("-otp-")[0]
    otp = found.get("erlang", "")
    return (elixir, otp) if elixir and otp else (DEFAULT_ELIXIR, DEFAULT_OTP)

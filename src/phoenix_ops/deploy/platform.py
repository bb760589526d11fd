"""`deploy --target k8s|fly`: the platform's own rollout (`kubectl rollout`, `fly deploy`) wrapped in the
pre-flight, gates, journal and rollback of SSH deploys. The platform moves the traffic; phoenix-ops
refuses what would break the release before anything changes, gates what can be seen from outside
once the platform says it is done, and puts the previous image back when a gate says no.

    [deploy]
    url = "https://shop.example.com"   # the public address the gates use (fly: https://<app>.fly.dev)
    ready = "/health/ready"            # the readiness path, on the URL and on every instance (default: the
                                       # workload's readiness or health check path, else /)
    ready-timeout = 60
    session-page = "/"                 # a page that writes a session once (a form's CSRF token) and keeps it
    [deploy.k8s]
    deployment = "shop"       # default: the one Deployment in the project's manifests
    namespace = "prod"        # default: the manifest's (else kubectl's current namespace)
    container = "shop"        # default: the Deployment's first container
    context = "prod-cluster"  # kubectl --context (default: the current context)
    port = 4000               # the container's HTTP port, for port-forward (default: its first containerPort)
    timeout = 300             # seconds `kubectl rollout status` waits
    [deploy.fly]
    app = "shop"              # default: fly.toml's app
    config = "fly.toml"
    strategy = "rolling"      # rolling | bluegreen | canary | immediate (default: fly.toml's, else rolling)
    timeout = 300             # seconds each machine has to become healthy (fly deploy --wait-timeout)
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol

import httpx

from phoenix_ops.command import UsageError
from phoenix_ops.deploy import gates, migrations
from phoenix_ops.deploy.engine import DeployFailed
from phoenix_ops.deploy.gates import GateFailed, Node
from phoenix_ops.deploy.journal import Journal, Run, step
from phoenix_ops.deploy.tool import ToolFailed
from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.record import field, record

TARGETS = ("k8s", "fly")
GRACE_SECONDS = 60.0  # beyond the platform's own timeout, before a silent CLI is killed


@record(frozen=True)
class PlatformPlan:
    target: str
    url: str | None
    ready: str | None = None
    ready_timeout: float = 60.0
    session_page: str = "/"
    settings: dict = field(default_factory=dict)  # [deploy.k8s] or [deploy.fly]


def load_platform_plan(root: Path, target: str) -> PlatformPlan:
    if target not in TARGETS:
        raise UsageError(f"--target {target!r}: use ssh (the default), {' or '.join(TARGETS)}")
    path = root / ".phoenix-ops.toml"
    try:
        doc = tomllib.loads(path.read_text()) if path.exists() else {}
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not TOML ({exc})") from None
    d = doc.get("deploy") or {}
    settings = (d.get(target) or {}) if isinstance(d, dict) else None
    if not isinstance(settings, dict):
        raise UsageError(f"{path}: [deploy] and [deploy.{target}] must be tables")
    return PlatformPlan(target, d.get("url"), d.get("ready", d.get("health")),
                        float(d.get("ready-timeout", 60)), d.get("session-page", "/"), settings)


class Platform(Protocol):
    """What `deploy` needs of a platform; kubernetes.py and fly.py hold one each."""
    target: str
    label: str  # what is rolled out: deployment/shop, fly app shop
    strategy: str
    project_target: object  # the project's Target (project/deploy/targets.py) for the workload

    def rollout(self, image: str) -> list[tuple[str, Callable[[], Awaitable[object]]]]: ...
    def undo(self, previous: dict[str, str]) -> list[tuple[str, Callable[[], Awaitable[object]]]]: ...
    def restore(self, previous: dict[str, str]) -> list[tuple[str, Callable[[], Awaitable[object]]]]: ...
    def instances(self, image: str) -> AbstractAsyncContextManager[list[Node]]: ...
    async def current(self) -> dict[str, str]: ...
    async def migration_listing(self) -> str: ...
    def commands(self, image: str) -> list[str]: ...


def open_platform(plan: PlatformPlan, project) -> Platform:
    if plan.target == "k8s":
        from phoenix_ops.deploy.kubernetes import Kubernetes
        return Kubernetes.from_project(plan, project)
    from phoenix_ops.deploy.fly import Fly
    return Fly.from_project(plan, project)


def ready_path(plan: PlatformPlan, platform: Platform) -> str:
    """[deploy] ready, else the path the platform's own checks use (a readiness probe first), else /."""
    paths = [p for p, _ in platform.project_target.health_paths]
    return plan.ready or next((p for p in paths if "ready" in p), None) or next(iter(paths), "/")


def url_of(plan: PlatformPlan, platform: Platform) -> str | None:
    return (plan.url or getattr(platform, "default_url", None) or "").rstrip("/") or None


# --- pre-flight ---------------------------------------------------------------------------------

def env_problems(project, target) -> tuple[list[Finding], list[Finding]]:
    """The env contract on the workload the platform runs: (what refuses the deploy, what is noted)."""
    from phoenix_ops.envcontract.check import CONTRACT_INCOMPLETE, UNKNOWN_VARIABLE
    from phoenix_ops.envcontract.contract import build_contract
    from phoenix_ops.envcontract.targets import check_target
    skipped = {CONTRACT_INCOMPLETE.id, UNKNOWN_VARIABLE.id}  # about the config, not about this workload
    found = [f for f in check_target(build_contract(project, ["prod"]), "prod", target) if f.rule_id not in skipped]
    blocking = [f for f in found if f.severity >= Severity.ERROR and f.confidence >= Confidence.HIGH]
    return blocking, [f for f in found if f not in blocking]


def project_migrations(root: Path) -> set[str]:
    """Migration versions in the project: what the image built from it carries."""
    listing = "\n".join(str(p.relative_to(root)) for p in root.glob("**/priv/**/migrations/*.exs")
                        if "deps" not in p.relative_to(root).parts and "_build" not in p.relative_to(root).parts)
    return migrations.versions_in_listing(listing)


def refuse_env(project, target, say) -> None:
    """Before the cluster is asked anything: a workload whose env breaks the release's boot."""
    blocking, noted = env_problems(project, target)
    for f in noted:
        say(f"note: {f.rule_id} {f.message}")
    if blocking:
        listed = "; ".join(f"{f.rule_id} {f.message}" for f in blocking[:5])
        raise UsageError(f"refused: the {target.label} workload would not boot ({listed}); nothing was changed")


async def refuse_migrations(root: Path, platform: Platform, say) -> None:
    """Pending migrations (the project's, not in the running version) that break the old code."""
    ours = project_migrations(root)
    try:
        deployed = migrations.versions_in_listing(await platform.migration_listing())
    except ToolFailed as exc:
        say(f"the running version's migrations cannot be listed ({exc}): every migration counts as pending")
        deployed = set()
    unsafe = migrations.unsafe_pending(root, ours - deployed)
    if unsafe:
        listed = "; ".join(f"{f.rule_id} {f.location.path}:{f.location.line} {f.message}" for f in unsafe[:5])
        raise DeployFailed(f"refused: {len(unsafe)} pending migration finding(s) break the old code that keeps "
                           f"serving during a {platform.strategy} rollout ({listed}); split the migration, or pass "
                           f"--allow-unsafe-migrations; nothing was changed", True)


# --- gates --------------------------------------------------------------------------------------

async def before(url: str | None, page: str, say) -> dict[str, str] | None:
    """A session the old version issues through the public URL, for the session gate after the rollout."""
    if url is None:
        return None
    try:
        jar = await gates.issued_session(url, page)
    except httpx.HTTPError as exc:
        say(f"no session taken from the old version at {url}{page} ({type(exc).__name__}): the session gate is skipped")
        return None
    if jar is None:
        say(gates.uncompared(url, page))
    return jar


async def gate(plan: PlatformPlan, platform: Platform, image: str, url: str | None, session, say,
               run: Run | None, journal: Journal) -> None:
    """Readiness and assets on every instance (reached one by one), readiness through the public URL,
    and the old version's session accepted by the new one."""
    ready = ready_path(plan, platform)

    async def on_instances() -> None:
        async with platform.instances(image) as nodes:
            if not nodes:
                raise GateFailed(f"{platform.label}: no instance runs {image}")
            for node in nodes:
                await gates.ready(node.url, ready, plan.ready_timeout, node.headers)
            await gates.assets_everywhere(nodes)
            say(f"{len(nodes)} instance(s) ready, every digested asset answers on each")
    await step(journal, run, say, "ready and assets on every instance", on_instances)
    if url is None:
        say("no [deploy] url: readiness through the public address and the session gate are skipped")
        return
    await step(journal, run, say, f"ready at {url}", lambda: gates.ready(url, ready, plan.ready_timeout))
    if session is not None:
        await step(journal, run, say, "sessions", lambda: gates.accepts_session(url, session, "the old version",
                                                                                 plan.session_page))


# --- the run ------------------------------------------------------------------------------------

async def run_platform(root: Path, plan: PlatformPlan, journal: Journal, image: str, run: Run | None, say,
                       allow_unsafe_migrations: bool) -> str:
    from phoenix_ops.project import load_project
    project = load_project(root, env="prod")
    platform = open_platform(plan, project)
    url = url_of(plan, platform)
    resumed = run is not None
    if run is None:
        refuse_env(project, platform.project_target, say)
        try:
            previous = await platform.current()
            if not allow_unsafe_migrations:
                await refuse_migrations(root, platform, say)
        except ToolFailed as exc:
            raise UsageError(f"{exc}; nothing was changed") from None
        run = Run(f"{int(time.time())}-{image.rsplit(':', 1)[-1]}", image, image, {platform.label: previous},
                  strategy=platform.strategy, app=platform.label, target=plan.target)
        journal.write(deploy=run.id, event="start", tarball=image, version=image, previous=run.previous,
                      strategy=platform.strategy, app=platform.label, target=plan.target)
    previous = run.previous[platform.label]
    started = time.monotonic()
    if resumed:
        session = None
        say("resumed: the old version may be gone, so the session gate compares nothing")
    else:
        session = await before(url, plan.session_page, say)
    try:
        for name, action in platform.rollout(image):
            await step(journal, run, say, name, action)
        await gate(plan, platform, image, url, session, say, run, journal)
    except (ToolFailed, GateFailed, OSError) as exc:
        say(f"failed: {exc}; rolling back")
        problems = await _steps(platform.undo(previous), say)
        result = "failed" if problems else "rolled back"
        journal.write(deploy=run.id, event="end", result=result, reason=str(exc), problems=problems)
        raise DeployFailed(f"{exc}; " + ("rollback incomplete: " + "; ".join(problems) if problems
                                        else f"rolled back: {previous.get('image')} serves again"),
                           not problems) from None
    journal.write(deploy=run.id, event="end", result="finished")
    return f"deployed {image} to {platform.label} in {time.monotonic() - started:.1f} s\n"


async def _steps(steps, say) -> list[str]:
    """Run every step even after one fails; what failed is returned."""
    problems = []
    for name, action in steps:
        say(name)
        try:
            await action()
        except (ToolFailed, GateFailed, OSError) as exc:
            problems.append(str(exc))
    return problems


async def rollback_platform(root: Path, plan: PlatformPlan, journal: Journal, run: Run, say) -> str:
    """`rollback` after a platform deploy: the image the journal says ran before, put back."""
    from phoenix_ops.project import load_project
    platform = open_platform(plan, load_project(root, env="prod"))
    previous = run.previous.get(platform.label)
    if previous is None:
        raise UsageError(f"the last deploy rolled out {next(iter(run.previous), 'nothing')}, not {platform.label}")
    problems = await _steps(platform.restore(previous), say)
    journal.write(deploy=run.id, event="end", result="failed" if problems else "rolled back", problems=problems)
    if problems:
        raise DeployFailed("rollback incomplete: " + "; ".join(problems), False)
    return f"rolled back {run.version}: {previous.get('image')} serves {platform.label} again\n"


def dry_run_platform(root: Path, plan: PlatformPlan, image: str) -> str:
    from phoenix_ops.project import load_project
    project = load_project(root, env="prod")
    platform = open_platform(plan, project)
    target = platform.project_target
    url = url_of(plan, platform)
    lines = [f"deploy {image} to {platform.label} ({plan.target}), strategy {platform.strategy}",
             f"  from {target.path}:{target.line} ({target.label})",
             f"  migrations: {target.migrate}" if target.migrate else
             "  migrations: nothing in the project's files runs them on deploy",
             "  pre-flight: the env contract on the workload; pending migrations the MIG rules call unsafe "
             "refuse the deploy (--allow-unsafe-migrations)",
             f"  gates: {ready_path(plan, platform)} answers 200 on every instance; every digested asset a page references "
             f"answers on every instance"
             + (f"; it answers through {url}; a session the old version issued is accepted by the new"
                if url else "; no [deploy] url: nothing is checked through the public address"),
             "", "commands:"]
    lines += [f"  {c}" for c in platform.commands(image)]
    return "\n".join(lines) + "\n"


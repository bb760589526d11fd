"""`gen health`: a liveness/readiness plug, mounted first in the endpoint so plain-HTTP probes reach it."""

from __future__ import annotations

from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.plan import Change
from phoenix_ops.gen.templates import new_file, render
from phoenix_ops.project import Project

LIVE_PATH, READY_PATH = "/health", "/health/ready"


def generate(project: Project, facts: AppFacts, target: str) -> list[Change]:
    if facts.endpoint is None or facts.health_path is not None:
        return []
    module = f"{facts.web_module}.Health"
    web_app = facts.web_dir.rstrip("/").rsplit("/", 1)[-1] if facts.web_dir else f"{facts.app}_web"
    changes = [new_file(project, f"{facts.web_dir}lib/{web_app}/health.ex", render("health.ex.j2", facts, live_path=LIVE_PATH, ready_path=READY_PATH,
                                              pubsub=f"{facts.module}.PubSub"),
                        f"answers {LIVE_PATH} (the VM runs) and {READY_PATH} (repos and PubSub answer)")]
    mount = _mount(project, facts, module)
    if mount is not None:
        changes.append(mount)
    return changes


def _mount(project: Project, facts: AppFacts, module: str) -> Change | None:
    endpoint = next(e for e in project.endpoints if e.module == facts.endpoint)
    old = project.text(endpoint.file)
    if old is None or not any(p.guard is None for p in endpoint.plugs):
        return None
    lines = old.splitlines(keepends=True)
    first = min(p.line for p in endpoint.plugs if p.guard is None) - 1
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
    added = (f"{indent}# Health first: no session, CSRF or router stands between a probe and its answer.\n"
             f"{indent}plug {module}\n\n")
    why = f"mounts {module} before every other plug"
    if project.config("prod").get(endpoint.otp_app or facts.app, endpoint.module, "force_ssl") is not None:
        why += ("; force_ssl still puts Plug.SSL ahead of it, so probes over plain HTTP must send "
                "X-Forwarded-Proto: https (with rewrite_on: [:x_forwarded_proto])")
    return Change(endpoint.file, "".join(lines[:first]) + added + "".join(lines[first:]), old, why, patch=True)

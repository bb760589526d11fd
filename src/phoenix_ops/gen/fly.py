"""`gen fly`: fly.toml (v2) with health checks, migrations on release and WebSocket-friendly limits."""

from __future__ import annotations

from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.plan import Change
from phoenix_ops.gen.release import node_naming
from phoenix_ops.gen.templates import new_file, render
from phoenix_ops.project import Project


def generate(project: Project, facts: AppFacts, target: str) -> list[Change]:
    return [new_file(project, "fly.toml", render("fly.toml.j2", facts, fly_app=facts.app.replace("_", "-")),
                     "deploys to Fly: health checks, migrations on release, connection-based concurrency"),
            node_naming(project, facts, "fly")]

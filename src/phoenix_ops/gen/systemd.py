"""`gen systemd`: a unit that runs the release's `start` as its own user, and the env file's names."""

from __future__ import annotations

from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.plan import Change
from phoenix_ops.gen.templates import new_file, render
from phoenix_ops.project import Project


def generate(project: Project, facts: AppFacts, target: str) -> list[Change]:
    return [
        new_file(project, f"deploy/systemd/{facts.release}.service", render("service.j2", facts),
                 "runs the release as a service: restarts on failure, stops within the shutdown budget"),
        new_file(project, f"deploy/systemd/{facts.release}.env.example", render("env_example.j2", facts),
                 "the variables the service's EnvironmentFile must set (names only)"),
    ]

"""`gen docker`: a multi-stage Dockerfile for the release and the .dockerignore that keeps secrets out."""

from __future__ import annotations

from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.plan import Change
from phoenix_ops.gen.templates import new_file, render
from phoenix_ops.project import Project


def generate(project: Project, facts: AppFacts, target: str) -> list[Change]:
    return [
        new_file(project, "Dockerfile", render("Dockerfile.j2", facts, has_rel=facts.server_script),
                 "builds the release in one stage and runs it, as a non-root user, in a slim one"),
        new_file(project, ".dockerignore", render("dockerignore.j2", facts),
                 "keeps _build, deps, env files and secrets out of the build context"),
    ]

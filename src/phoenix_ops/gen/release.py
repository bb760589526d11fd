"""`gen release`: the scripts and module a Mix release needs to boot, serve and migrate in production."""

from __future__ import annotations

from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.plan import Change
from phoenix_ops.gen.runtime_exs import runtime_patch
from phoenix_ops.gen.templates import new_file, render
from phoenix_ops.project import Project


def generate(project: Project, facts: AppFacts, target: str) -> list[Change]:
    changes = [new_file(project, "rel/overlays/bin/server", render("bin_server.sh.j2", facts),
                        "starts the release with the endpoint serving HTTP", executable=True)]
    if facts.repos:
        migrator = facts.migrator or f"{facts.module}.Release"
        if facts.migrator is None:
            changes.append(new_file(project, f"{facts.core_dir}lib/{facts.core_app}/release.ex",
                                    render("release.ex.j2", facts),
                                    "migrate and rollback through Ecto.Migrator.with_repo, for every repo"))
        changes.append(new_file(project, "rel/overlays/bin/migrate", render("bin_migrate.sh.j2", facts,
                                                                            migrator=migrator),
                                "runs the migrations from the release", executable=True))
    if target in ("fly", "k8s") or (target == "systemd" and facts.discovery):
        changes.append(node_naming(project, facts, target))
    patch = runtime_patch(project, facts)
    if patch is not None:
        changes.append(patch)
    return changes


def node_naming(project: Project, facts: AppFacts, target: str) -> Change:
    """rel/env.sh.eex: the node's long name and how peers find it, for the target's network."""
    return new_file(project, "rel/env.sh.eex", render("env.sh.eex.j2", facts, target=target),
                    f"names the node for distribution on {target}")

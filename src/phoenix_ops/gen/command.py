"""`phoenix-ops gen KIND`: plan every file a kind writes, show the diff, write only when asked."""

from __future__ import annotations

from pathlib import Path

from phoenix_ops.gen import alerts, docker, fly, health, k8s, release, systemd
from phoenix_ops.gen.facts import AppFacts, app_facts
from phoenix_ops.gen.plan import Change, apply, kept, pending, render_plan
from phoenix_ops.project import Project, load_project
from phoenix_ops.record import record

GENERATORS = {"release": release, "docker": docker, "systemd": systemd, "fly": fly, "k8s": k8s, "health": health,
              "alerts": alerts}
KINDS = (*GENERATORS, "all")
TARGETS = ("docker", "fly", "k8s", "systemd")
# What `all` writes for each target, in order: the release first, the image before what runs it.
ALL = {"docker": ("release", "health", "docker"), "fly": ("release", "health", "docker", "fly"),
       "k8s": ("release", "health", "docker", "k8s"), "systemd": ("release", "health", "systemd")}


class GenUsageError(ValueError):
    """Bad input: one line, exit 2."""


@record
class GenResult:
    text: str  # the diff (or what was written)
    notes: list[str]  # one line each, for stderr
    exit_code: int


def detect_target(project) -> str:
    """The platform the project's deploy files point at, docker when none does."""
    if project.text("fly.toml") is not None:
        return "fly"
    others = [*project.files.others, *project.files.files]
    if any(p.endswith(".service") for p in others):
        return "systemd"
    if any(p.startswith(("k8s/", "deploy/k8s/", "kubernetes/", "helm/", "charts/")) for p in others):
        return "k8s"
    return "docker"


def plan(path: Path, kind: str, target: str | None) -> tuple[list[Change], Project, AppFacts]:
    kind = kind.lower()
    if kind not in KINDS:
        raise GenUsageError(f"unknown kind {kind!r} (use {', '.join(KINDS)})")
    if target is not None and target.lower() not in TARGETS:
        raise GenUsageError(f"unknown target {target!r} (use {', '.join(TARGETS)})")
    project = load_project(path, env="prod")
    chosen = target.lower() if target else detect_target(project)
    kinds = ALL[chosen] if kind == "all" else (kind,)
    facts = app_facts(project)
    facts.server_script = facts.server_script or "release" in kinds
    changes: list[Change] = []
    for name in kinds:
        changes.extend(GENERATORS[name].generate(project, facts, chosen))
    unique = {c.path: c for c in changes}  # kinds that share a file (fly and release: rel/env.sh.eex) plan it once
    return list(unique.values()), project, facts


def run_gen(path: Path, kind: str, target: str | None, *, write: bool, force: bool) -> GenResult:
    changes, project, facts = plan(path, kind, target)
    notes = [f"an umbrella release lists its apps: add `releases: [{facts.release}: [applications: [...]]]` to "
             "the root mix.exs (the files name the release after it)"] if facts.umbrella and project.mix.releases is None \
        else []
    notes += [f"kept {c.path}: it exists and differs; --force replaces it (the diff shows with --force)"
             for c in kept(changes, force)]
    todo = pending(changes, force)
    if not write:
        if not todo:
            notes.append("nothing to generate: the project has every file this kind writes")
        return GenResult(render_plan(changes, force), notes, 1 if todo else 0)
    outcome = apply(project.root, changes, force)
    text = "".join(f"wrote {p}\n" for p in outcome.written)
    return GenResult(text, notes, 0)

"""What rules of several areas judge and a project may lack: a dependency, a Repo, a release, a platform.

A rule names one as its `subject` (phoenix_ops.rule.Subject): without it the rule is "not
applicable"; when the files cannot tell, "not determined" with why, and the rule does not run.
"""

from __future__ import annotations

from phoenix_ops.rule import Subject


def deps_unread(project, names) -> str | None:
    """Why a missing dependency among `names` may yet be there: a deps list built by code the evaluator
    does not follow, and no mix.lock to rule them out (it lists every Hex package, direct or not)."""
    unread = [m.file for m in (project.mix, *project.apps) if not m.deps_known]
    if not unread or (project.exists("mix.lock") and not any(n in project.lock for n in names)):
        return None
    return f"{unread[0]} builds its deps list with code the audit does not read"


def dependency(absent: str, *names: str) -> Subject:
    """A dependency, any of `names`."""
    return Subject(absent, lambda project: any(project.has_dep(n) for n in names),
                   lambda project: deps_unread(project, names))


def _repo_in_init(project) -> str | None:
    repo = next((r for r in project.repos if r.networked and r.reads_env_in_init), None)
    return f"{repo.module} fills its config in init/2 at boot, which the audit does not read" if repo else None


REPO = Subject("the app starts no networked Ecto repo", lambda project: bool(project.repo_keys()), _repo_in_init)
# How the app runs decides the release rules: only files that show `mix phx.server` make them moot.
RELEASE = Subject("the files show the app runs with `mix phx.server`, not as a release",
                  lambda project: project.release_mode == "release")
FLY = Subject("no fly.toml", lambda project: bool(project.deploy.fly))
SYSTEMD = Subject("no systemd unit among the deploy files", lambda project: bool(project.deploy.systemd))


def helm_only(project) -> str | None:
    templates = project.deploy.templates
    return f"{templates[0]} is a template (Helm): its objects are not evaluated" if templates else None


K8S = Subject("no Kubernetes manifests", lambda project: bool(project.deploy.k8s), helm_only)
TEMPLATES = Subject("no deploy file is a template", lambda project: bool(project.deploy.templates))

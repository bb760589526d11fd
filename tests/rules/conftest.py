"""Fixtures that write a project (GOOD plus overrides) and run the static rules on it."""

import subprocess
from pathlib import Path

import pytest
from project_shapes import GOOD

from phoenix_ops.catalog import catalog
from phoenix_ops.project import load_project


@pytest.fixture
def make_project(tmp_path):
    """Write GOOD with overrides (None deletes a file) and load it; `git=True` commits it first."""
    def make(overrides: dict[str, str | None] | None = None, *, git: bool = False, env: str = "prod"):
        files = {**GOOD, **(overrides or {})}
        for rel, body in files.items():
            path = tmp_path / rel
            if body is None:
                path.unlink(missing_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
        if git:
            subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
            subprocess.run(["git", "-C", str(tmp_path), "add", "-A", "-f"], check=True)
        return load_project(Path(tmp_path), env=env)
    return make


@pytest.fixture
def findings():
    """Run every static rule; return the findings as (rule id, location path) pairs and the list."""
    def run(project, rule_id: str | None = None):
        out = []
        for rule in catalog("static"):
            if rule.check and (rule_id is None or rule.id == rule_id):
                out.extend(rule.check(project))
        return out
    return run


@pytest.fixture
def fresh_project(tmp_path_factory):
    """Like make_project, but every call writes a new directory: nothing is left from an earlier call."""
    def make(overrides: dict[str, str | None] | None = None, *, env: str = "prod"):
        root = tmp_path_factory.mktemp("project")
        for rel, body in {**GOOD, **(overrides or {})}.items():
            if body is not None:
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(body)
        return load_project(root, env=env)
    return make

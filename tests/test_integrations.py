"""The tools people already run: the pre-commit hook and the GitHub Actions recipe of the README."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from pre_commit.clientlib import load_config, load_manifest
from test_sarif import sarif_validator  # noqa: F401 (a fixture)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "shop"
README = (REPO / "README.md").read_text()
BIN = Path(sys.executable).parent


def readme_block(after: str) -> str:
    """The first ```yaml block after the heading `after`."""
    section = README[README.index(after):]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def command(words: list[str]) -> list[str]:
    """`phoenix-ops ...` as this checkout installed it."""
    return [str(BIN / words[0]), *words[1:]] if words[0] == "phoenix-ops" else words


def test_pre_commit_hook_is_a_valid_manifest_and_its_entry_audits_the_project(tmp_path):
    (hook,) = load_manifest(str(REPO / ".pre-commit-hooks.yaml"))
    assert hook["id"] == "phoenix-ops-check" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert all(files.search(p) for p in ("config/prod.exs", "lib/shop/repo.ex", "mix.lock", "Dockerfile", ".env"))
    assert not files.search("README.md")

    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(readme_block("### pre-commit"))
    (repo,) = load_config(str(config))["repos"]
    assert [h["id"] for h in repo["hooks"]] == [hook["id"]]
    assert len(yaml.safe_load(config.read_text())["repos"][0]) == 3  # the three lines

    # pre-commit runs the entry at the repository's root; the example is such a root.
    done = subprocess.run(command(shlex.split(hook["entry"]) + hook["args"]), cwd=EXAMPLE, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "REL001" in done.stdout and "config/runtime.exs:1:" in done.stdout


def test_github_actions_recipe_uploads_valid_sarif(tmp_path, sarif_validator):  # noqa: F811
    workflow = yaml.safe_load(readme_block("### In CI (GitHub Actions)"))
    steps = workflow["jobs"]["audit"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif"))
    assert workflow["permissions"]["security-events"] == "write"
    sarif_step = next(s["run"] for s in steps if "--format sarif" in s.get("run", ""))

    checkout = tmp_path / "checkout"  # a repository whose root holds the app, as actions/checkout leaves it
    shutil.copytree(EXAMPLE, checkout)
    subprocess.run(["git", "init", "-q", str(checkout)], check=True)
    subprocess.run(["git", "-C", str(checkout), "add", "-A", "-f"], check=True)
    run, _, fallback = sarif_step.partition(" || ")
    done = subprocess.run(command(shlex.split(run)), cwd=checkout, capture_output=True, text=True, timeout=120)
    assert fallback == "test $? -eq 1" and done.returncode == 1, done.stderr

    uploaded = checkout / upload["with"]["sarif_file"]
    doc = json.loads(uploaded.read_text())
    errors = list(sarif_validator.iter_errors(doc))
    assert not errors, errors[:3]
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in doc["runs"][0]["results"] for loc in r["locations"]}
    assert "config/prod.exs" in uris and all((checkout / u).is_file() for u in uris)

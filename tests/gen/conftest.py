"""A project in the generator's shapes that lacks every production file `gen` writes."""

import json
from pathlib import Path

import cli_run
import pytest
from project_shapes import GOOD

# GOOD without the pieces `gen release` adds: no PHX_SERVER switch, no prod block, no migration task,
# no release scripts.
BARE = {
    **GOOD,
    "config/runtime.exs": "import Config\n",
    "lib/demo/release.ex": None,
    "rel/overlays/bin/server": None,
    "mix.exs": GOOD["mix.exs"].replace('deps: deps()]', 'deps: deps(), releases: [demo: []]]'),
    "lib/demo_web/router.ex": '''defmodule DemoWeb.Router do
  use Phoenix.Router

  pipeline :browser do
    plug :accepts, ["html"]
  end

  scope "/", DemoWeb do
    pipe_through :browser
    get "/", PageController, :home
  end
end
''',
}


def write(root: Path, files: dict) -> Path:
    for rel, body in files.items():
        if body is not None:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(body.lstrip("\n") if rel.endswith((".exs", ".ex")) else body)
    return root


@pytest.fixture
def bare(tmp_path):
    return write(tmp_path / "demo", BARE)


def invoke(*args):
    return cli_run.invoke(args)


def check_ids(root: Path) -> set[str]:
    result = invoke("check", root, "--format", "json", "--fail-level", "error")
    return {f["rule_id"] for f in json.loads(result.stdout)["findings"]}

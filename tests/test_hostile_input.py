"""Each way a project once crashed, hung or exhausted phoenix-ops: now an answer within bounds.

The command runs in a subprocess under a time and memory limit (tests/bounded.py), as CI runs it:
exit 0, 1 or 2, valid JSON, no traceback; the OPS finding that says what was not read, where.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from bounded import run_cli
from project_shapes import GOOD

MIX = '''defmodule Demo.MixProject do
  use Mix.Project

  def project do
    [app: :demo, version: "0.1.0", deps: deps(), extra: EXTRA]
  end
EXTRA_FUNCTIONS
  defp deps do
    [{:phoenix, "~> 1.7.14"}, {:ecto_sql, "~> 3.10"}, {:postgrex, ">= 0.0.0"}]
  end
end
'''


def project(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, body in {**GOOD, **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return root


def prod(body: str) -> dict[str, str]:
    return {"config/prod.exs": "import Config\n" + body}


def mix(extra: str, functions: str = "") -> dict[str, str]:
    return {"mix.exs": MIX.replace("EXTRA_FUNCTIONS", functions).replace("EXTRA", extra)}


def audit(root: Path, *extra: str, command: str = "check"):
    """The JSON findings of a bounded run, after checking it answered."""
    run = run_cli(command, root, "--format", "json", *extra)
    assert run.answered, (run.code, run.stderr[-2000:])
    assert run.code in (0, 1), run.stderr[-2000:]
    return json.loads(run.stdout), run


def found(doc: dict, rule_id: str) -> list[dict]:
    return [f for f in doc["findings"] if f["rule_id"] == rule_id]


# -- recursion -------------------------------------------------------------------------------------

@pytest.mark.parametrize("files", [
    mix("[" * 1000 + "]" * 1000),  # the mix.exs reader had no guard
    mix("[a: " * 1000 + "1" + "]" * 1000),
    prod("config :demo, :deep, " + "[" * 5000 + "]" * 5000 + "\n"),
    prod('case System.get_env("A") do\n x ->\n' * 3000 + "1\n" + "end\n" * 3000),
], ids=["mix-lists", "mix-keywords", "config-lists", "config-cases"])
def test_deep_nesting_is_cut_and_reported(tmp_path, files):
    doc, run = audit(project(tmp_path, files))
    assert [f["location"]["path"] for f in found(doc, "OPS002") if "nest" in f["message"]]
    assert run.within_bounds, run


def test_values_nested_through_variables_are_cut(tmp_path):
    body = "a = 1\n" + "a = [a]\n" * 3000 + "config :demo, :deep, a\n"
    doc, _ = audit(project(tmp_path, prod(body)))
    assert any("nesting deeper" in f["message"] for f in found(doc, "OPS002"))


# -- literal folding -------------------------------------------------------------------------------

@pytest.mark.parametrize("expression", [
    "1" + "0" * 400 + " / 1",  # OverflowError: integer division result too large for a float
    "1" + "0" * 400 + " * 1.0",  # OverflowError: int too large to convert to float
    "1" + "0" * 4400,  # Python refuses to read over 4,300 digits: the run once exited 2 with its message
    "1.0e999 * 2",
])
def test_huge_numbers_fold_to_unknown(tmp_path, expression):
    audit(project(tmp_path, prod(f"config :demo, :n, {expression}\n")))


@pytest.mark.parametrize("body", [
    "a = 3\n" + "a = a * a\n" * 40,  # bignum squaring for minutes
    'a = "xy"\n' + "a = a <> a\n" * 34,  # 1.5 GB of string
    'a = "xy"\n' + 'a = "#{a}#{a}"\n' * 34,
    "a = [1]\n" + "a = a ++ a\n" * 40,
])
def test_doubling_stays_small(tmp_path, body):
    _, run = audit(project(tmp_path, prod(body + "config :demo, :x, a\n")))
    assert run.within_bounds, run


# -- amplification: a work budget per file and environment -----------------------------------------

def _fan_out() -> dict[str, str]:
    files = {f"config/f{i}.exs": f'import Config\nimport_config "f{i + 1}.exs"\nimport_config "f{i + 1}.exs"\n'
             for i in range(40)}
    return {**files, "config/f40.exs": "import Config\nconfig :demo, :leaf, 1\n", **prod('import_config "f0.exs"\n')}


def _glob_imports() -> dict[str, str]:
    files = {f"config/g{i}.exs": 'import Config\nimport_config "g*.exs"\n' for i in range(10)}
    return {**files, **prod('import_config "g0.exs"\n')}


AMPLIFIERS = {
    "import-fan-out": _fan_out(),
    "glob-imports": _glob_imports(),
    "nested-for": prod("xs = Enum.to_list(1..30)\nxs = " + repr(list(range(30))) + "\n"
                       + "for a <- xs do\n" * 6 + "config :demo, :x, a\n" + "end\n" * 6),
    "mix-function-chain": mix("f0()", "".join(f"  defp f{i}, do: [{', '.join([f'f{i + 1}()'] * 12)}]\n" for i in range(40))
                              + "  defp f40, do: 1\n"),
}


@pytest.mark.parametrize("files", AMPLIFIERS.values(), ids=AMPLIFIERS.keys())
def test_amplifying_code_ends_within_its_budget(tmp_path, files):
    doc, run = audit(project(tmp_path, files))
    assert run.within_bounds, run
    budget = found(doc, "OPS005")
    cut = [f for f in found(doc, "OPS002") if "nesting" in f["message"]]
    assert budget or cut, doc["findings"]  # the work stopped somewhere, and the audit says where
    assert all(f["location"]["path"] in files for f in budget)
    problems = [f for f in doc["findings"] if f["rule_id"].startswith("OPS")]
    assert len(problems) < 50  # one report per place, not one per time round the loop


def test_budget_leaves_values_unknown_not_missing(tmp_path):
    # The endpoint config after the expensive loop is unread: no rule may call it missing.
    loop = "xs = " + repr(list(range(30))) + "\n" + "for a <- xs do\n" * 5 + "config :demo, :x, a\n" + "end\n" * 5
    runtime = GOOD["config/runtime.exs"].replace("import Config\n", "import Config\n" + loop, 1)
    doc, _ = audit(project(tmp_path, {"config/runtime.exs": runtime}))
    assert found(doc, "OPS005")
    assert not found(doc, "REL001"), "the endpoint's server setting is unknown, not missing"


# -- special files ---------------------------------------------------------------------------------

def _fifo(rel: str):
    def make(root: Path) -> None:
        (root / rel).unlink(missing_ok=True)
        os.mkfifo(root / rel)
    return make


def _link(rel: str, target: str):
    def make(root: Path) -> None:
        (root / rel).unlink(missing_ok=True)
        os.symlink(target, root / rel)
    return make


def _sparse(rel: str):
    def make(root: Path) -> None:
        with open(root / rel, "wb") as fh:
            fh.truncate(10 << 30)  # 10 GB that take no disk
    return make


SPECIAL = {
    "fifo-prod-exs": _fifo("config/prod.exs"), "fifo-dockerfile": _fifo("Dockerfile"),
    "zero-exs": _link("config/prod.exs", "/dev/zero"), "urandom-exs": _link("lib/demo/x.ex", "/dev/urandom"),
    "zero-dockerfile": _link("Dockerfile", "/dev/zero"), "zero-procfile": _link("Procfile", "/dev/zero"),
    "zero-fly-toml": _link("fly.toml", "/dev/zero"), "zero-env-sh": _link("rel/env.sh.eex", "/dev/zero"),
    "sparse-exs": _sparse("config/prod.exs"), "sparse-dockerfile": _sparse("Dockerfile"),
}


@pytest.mark.parametrize("make", SPECIAL.values(), ids=SPECIAL.keys())
@pytest.mark.parametrize("command", ["check", "env"])
def test_special_files_are_not_read(tmp_path, make, command):
    root = project(tmp_path, {})
    make(root)
    run = run_cli(command, root, "--format", "json")
    assert run.answered and run.code in (0, 1), (run.code, run.stderr[-2000:])
    assert run.within_bounds, run
    json.loads(run.stdout)


def test_special_config_file_is_reported_not_missing(tmp_path):
    root = project(tmp_path, {})
    _fifo("config/prod.exs")(root)
    doc, _ = audit(root)
    assert any("not a regular file" in f["message"] for f in found(doc, "OPS002"))
    assert not found(doc, "OPS003"), "config/prod.exs exists: it is unreadable, not missing"


def test_unreadable_config_is_unknown_not_missing(tmp_path):
    # As root the permission bits do not stop a read: drop the capabilities that bypass them.
    root = project(tmp_path, {})
    (root / "config/prod.exs").chmod(0)
    prefix = ()
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) drops root's file-reading capabilities for this test"
        prefix = (setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--")
    run = run_cli("check", root, "--format", "json", prefix=prefix)
    assert run.answered and run.code in (0, 1), run.stderr
    doc = json.loads(run.stdout)
    assert [f["location"]["path"] for f in found(doc, "OPS002")] == ["config/prod.exs"]
    assert not found(doc, "OPS003"), "a file that exists but cannot be read is not missing"


# -- quadratic work --------------------------------------------------------------------------------

QUADRATIC = {
    "key-set-60000-times": prod("config :demo, :x, 1\n" * 60_000),
    "60000-keys": prod("".join(f"config :demo, :k{i}, 1\n" for i in range(60_000))),
    "keyword-60000-pairs": prod("config :demo, :x, [" + ", ".join(["k: 1"] * 60_000) + "]\n"),
    "put-env-60000-times": prod('Application.put_env(:demo, :k, 1)\n' * 60_000),
    "or-chain-30000": prod("config :demo, :x, " + " || ".join(['System.get_env("A")'] * 30_000) + "\n"),
    "list-1.5M": prod("config :demo, :x, [" + ",".join(["1"] * 1_500_000) + "]\n"),
    "token-60KB": prod('config :demo, :x, foo("' + "a1" * 30_000 + '")\n'),
}


@pytest.mark.parametrize("files", QUADRATIC.values(), ids=QUADRATIC.keys())
def test_large_inputs_cost_linear_work(tmp_path, files):
    _, run = audit(project(tmp_path, files))
    assert run.within_bounds, run


def test_exclude_glob_with_many_stars_matches_in_linear_time(tmp_path):
    settings = 'exclude = ["' + "*a" * 40 + 'b"]\n'
    root = project(tmp_path, {".phoenix-ops.toml": settings, "lib/demo/" + "a" * 200 + ".ex": "x = 1\n"})
    _, run = audit(root)
    assert run.within_bounds, run


# -- model shapes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["1", ":one", "true", "1.5", "nil", '"Demo.Repo"'])
def test_wrong_shapes_reach_no_rule(tmp_path, shape):
    config = GOOD["config/config.exs"].replace("ecto_repos: [Demo.Repo]", f"ecto_repos: {shape}")
    doc, _ = audit(project(tmp_path, {"config/config.exs": config}))
    assert not found(doc, "OPS004"), found(doc, "OPS004")


# -- crashes ---------------------------------------------------------------------------------------

CRASH = """
import sys
import phoenix_ops.project.config as config
def boom(*args, **kwargs):
    from phoenix_ops.reading import reading
    with reading("config/prod.exs"):
        raise RuntimeError("a secret-looking detail: hunter2")
config.evaluate_config = boom
import phoenix_ops.project
phoenix_ops.project.evaluate_config = boom
sys.argv = ["phoenix-ops", *sys.argv[1:]]
from phoenix_ops.cli import run
run()
"""


def test_a_crash_exits_3_with_one_line_naming_the_file(tmp_path):
    root = project(tmp_path, {})
    script = tmp_path / "crash.py"
    script.write_text(CRASH)
    run = run_cli("check", root, entry=(str(script),))
    assert run.code == 3, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "config/prod.exs" in lines[0] and "--debug" in lines[0]
    assert "Traceback" not in run.stderr and "hunter2" not in run.stderr and not run.stdout
    run = run_cli("check", root, "--debug", entry=(str(script),))
    assert run.code != 0 and "Traceback" in run.stderr and "RuntimeError" in run.stderr


def test_budget_finding_in_process(tmp_path):
    # The same report through the command in this process (the suite counts which rules fired).
    from cli_run import invoke


    root = project(tmp_path, AMPLIFIERS["nested-for"])
    result = invoke(["check", str(root), "--format", "json"])
    budget = found(json.loads(result.stdout), "OPS005")
    assert [f["location"]["path"] for f in budget] == ["config/prod.exs"]
    assert "values set from here on are unknown" in budget[0]["message"]


def test_a_yaml_alias_bomb_in_deploy_files_is_refused_not_walked(tmp_path):
    """Nine levels of nine aliases each: 9^9 nodes if anything followed them."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n" + \
        "".join(f"  {line}\n" for line in lines)
    doc, _ = audit(project(tmp_path, {"deploy/k8s/bomb.yaml": bomb}))
    assert any("alias" in f["message"] and "bomb.yaml" in f["message"] for f in doc["findings"])

"""Bad input gives a clear message or a finding, never a traceback."""

import os
from pathlib import Path

from cli_run import invoke
from project_shapes import GOOD


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, body in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return root


def check(*args: str):
    return invoke(["check", *args, "--format", "json"])


def rule_ids(result) -> list[str]:
    import json
    return sorted(f["rule_id"] for f in json.loads(result.stdout)["findings"])


def test_missing_directory_and_plain_file(tmp_path):
    result = check(str(tmp_path / "nope"))
    assert result.exit_code == 2 and "no such directory" in result.stderr
    (tmp_path / "f.txt").write_text("x")
    result = check(str(tmp_path / "f.txt"))
    assert result.exit_code == 2 and "not a directory" in result.stderr


def test_not_an_elixir_or_not_a_phoenix_project(tmp_path):
    result = check(str(tmp_path))
    assert result.exit_code == 2 and "no mix.exs" in result.stderr
    write(tmp_path, {"mix.exs": 'defmodule X.MixProject do\n  use Mix.Project\n  def project, do: [app: :x, '
                                'deps: [{:jason, "~> 1.0"}]]\nend\n'})
    result = check(str(tmp_path))
    assert result.exit_code == 2 and "no app depends on :phoenix" in result.stderr


def test_syntax_error_in_config_is_a_finding(tmp_path):
    write(tmp_path, {**GOOD, "config/prod.exs": "import Config\nconfig :demo, DemoWeb.Endpoint, url: [host: \n"})
    result = check(str(tmp_path))
    assert result.exit_code == 1
    assert "OPS001" in rule_ids(result)
    assert "Traceback" not in result.output


def test_binary_huge_unreadable_and_symlink_loops(tmp_path):
    write(tmp_path, {**GOOD, "lib/demo/blob.ex": b"\x00\x01\x02binary", "lib/demo/huge.ex": b"#" * (5 * 1024 * 1024)})
    os.symlink(tmp_path / "lib", tmp_path / "lib" / "loop")  # a directory loop
    os.symlink(tmp_path / "a.ex", tmp_path / "b.ex")
    os.symlink(tmp_path / "b.ex", tmp_path / "a.ex")  # a file loop
    result = check(str(tmp_path))
    assert "Traceback" not in result.output
    assert result.exit_code == 0 or result.exit_code == 1
    got = rule_ids(result)
    assert got.count("OPS002") == 4  # binary, huge, and the two looping links


def test_umbrella_project(tmp_path):
    write(tmp_path, {
        "mix.exs": 'defmodule U.MixProject do\n  use Mix.Project\n  def project, do: [apps_path: "apps", deps: []]\nend\n',
        "config/config.exs": 'import Config\nimport_config "#{config_env()}.exs"\n',
        "config/prod.exs": GOOD["config/prod.exs"],
        "config/runtime.exs": GOOD["config/runtime.exs"],
        "apps/demo_web/mix.exs": GOOD["mix.exs"].replace("Demo.MixProject", "DemoWeb.MixProject")
                                                .replace("app: :demo", "app: :demo_web"),
        "apps/demo_web/lib/demo_web/endpoint.ex": GOOD["lib/demo_web/endpoint.ex"],
        "apps/demo/lib/demo/release.ex": GOOD["lib/demo/release.ex"],
        "apps/demo/lib/demo/repo.ex": GOOD["lib/demo/repo.ex"],
    })
    result = check(str(tmp_path))
    assert result.exit_code == 0, result.stdout


def test_unknown_environment_is_a_usage_error(tmp_path):
    write(tmp_path, GOOD)
    result = check(str(tmp_path), "--env", "staging")
    assert result.exit_code == 2 and "no config/staging.exs" in result.stderr
    write(tmp_path, {"config/staging.exs": "import Config\n"})
    assert check(str(tmp_path), "--env", "staging").exit_code in (0, 1)


def test_pathologically_deep_config_is_reported_not_crashed(tmp_path):
    deep = "import Config\nconfig :demo, :deep, " + "[" * 5000 + "]" * 5000 + "\n"
    write(tmp_path, {**GOOD, "config/prod.exs": deep})
    result = check(str(tmp_path))
    assert "Traceback" not in result.output and result.exit_code in (0, 1)
    assert "OPS002" in rule_ids(result)


def test_missing_git_ignored_secret_import_is_info(tmp_path):
    import json
    import subprocess
    prod = GOOD["config/prod.exs"] + 'import_config "prod.secret.exs"\n'
    write(tmp_path, {**GOOD, "config/prod.exs": prod, ".gitignore": "/config/*.secret.exs\n"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    found = [f for f in json.loads(check(str(tmp_path)).stdout)["findings"] if f["rule_id"] == "OPS003"]
    assert [f["severity"] for f in found] == ["info"] and "git-ignored" in found[0]["message"]
    (tmp_path / ".gitignore").write_text("")
    found = [f for f in json.loads(check(str(tmp_path)).stdout)["findings"] if f["rule_id"] == "OPS003"]
    assert [f["severity"] for f in found] == ["error"]


def test_an_umbrella_child_is_audited_with_its_umbrella(tmp_path):
    test_umbrella_project(tmp_path)
    child_mix = tmp_path / "apps/demo_web/mix.exs"
    child_mix.write_text(child_mix.read_text().replace('app: :demo_web,', 'app: :demo_web, config_path: '
                                                       '"../../config/config.exs", build_path: "../../_build",'))
    result = check(str(tmp_path / "apps/demo_web"))
    assert result.exit_code == 0, result.stdout
    import json
    assert json.loads(result.stdout)["project"]["root"] == str(tmp_path.resolve())

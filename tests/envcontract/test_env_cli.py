"""`phoenix-ops env` and `phoenix-ops env check` through the command line."""

import json

import cli_run
import pytest
from env_support import GOOD_SECRET
from project_shapes import GOOD

from phoenix_ops.catalog import catalog


def invoke(*args):
    return cli_run.invoke(args)


def test_env_prints_the_contract(project_dir):
    result = invoke("env", project_dir())
    assert result.exit_code == 0
    assert "DATABASE_URL" in result.stdout and "environments: dev, prod, test" in result.stdout


def test_env_narrowed_to_one_environment_as_json(project_dir):
    result = invoke("env", project_dir(), "--env", "dev", "--format", "json")
    doc = json.loads(result.stdout)
    assert result.exit_code == 0 and doc["environments"] == ["dev"]
    assert [v["name"] for v in doc["variables"]] == ["PHX_SERVER"]


def test_dotenv_example_written_to_a_file(project_dir, tmp_path):
    out = tmp_path / ".env.example"
    result = invoke("env", project_dir(), "-f", "dotenv-example", "--env", "prod", "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert "\nDATABASE_URL=\n" in out.read_text()


def test_check_exit_codes_follow_the_fail_level(project_dir, tmp_path):
    env_file = tmp_path / "prod.env"
    env_file.write_text(f"DATABASE_URL=ecto://u:hunter2@db/demo\nSECRET_KEY_BASE={GOOD_SECRET}\nECTO_IPV6=yes\n")
    result = invoke("env", "check", project_dir(), "--env-file", env_file)
    assert result.exit_code == 1 and "REL052" in result.stdout
    assert "hunter2" not in result.stdout and GOOD_SECRET not in result.stdout
    assert invoke("env", "check", project_dir(), "--env-file", env_file, "--fail-level", "error").exit_code == 0


def test_check_json_and_sarif(project_dir, tmp_path):
    env_file = tmp_path / "prod.env"
    env_file.write_text("PORT=abc\n")
    doc = json.loads(invoke("env", "check", project_dir(), "--env-file", env_file, "-f", "json").stdout)
    assert doc["tool"]["command"] == "env check" and doc["env"] == "prod" and doc["contract_complete"] is True
    assert sorted(f["rule_id"] for f in doc["findings"]) == ["REL050", "REL050", "REL051"]
    sarif = json.loads(invoke("env", "check", project_dir(), "--env-file", env_file, "-f", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"REL050", "REL051"}


def test_check_of_the_current_directory_and_a_project_named_check(project_dir, tmp_path, monkeypatch):
    path = project_dir()
    named_check = path.rename(tmp_path / "check")
    env_file = tmp_path / "ok.env"
    env_file.write_text(f"DATABASE_URL=ecto://db/demo\nSECRET_KEY_BASE={GOOD_SECRET}\n")
    monkeypatch.chdir(tmp_path)
    assert invoke("env", "./check").exit_code == 0
    assert invoke("env", "check", "./check", "--env-file", env_file).exit_code == 0
    monkeypatch.chdir(named_check)
    assert invoke("env", "check", "--env-file", env_file).exit_code == 0


@pytest.mark.parametrize("args, words", [
    (["env", "{dir}/nope"], "no such directory"),
    (["env", "{tmp}"], "not an Elixir project"),
    (["env", "check", "{dir}", "--env-file", "{tmp}/missing.env"], "cannot read env file"),
    (["env", "check", "{dir}"], "needs at least one --env-file"),
    (["env", "{dir}", "--env", "prdo"], "prdo"),
    (["env", "{dir}", "--env", "helper"], "no environment 'helper'"),
    (["env", "{dir}", "-f", "sarif"], "unknown format"),
    (["env", "{dir}", "--env-file", "x.env"], "--env-file is for `env check`"),
    (["env", "check", "{dir}", "{dir}"], "at most one project path"),
])
def test_bad_input_is_one_line_and_exit_2(project_dir, tmp_path, args, words):
    config = GOOD["config/config.exs"] + 'import_config "helper.exs"\n'
    path = project_dir({"config/config.exs": config, "config/helper.exs": "import Config\n"})
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke(*[a.format(dir=path, tmp=empty) for a in args])
    assert result.exit_code == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_every_env_rule_has_an_explain_page():
    defined = list(catalog("envfile"))
    assert [r.id for r in defined] == [f"REL0{n}" for n in range(50, 63)]
    for r in defined:
        result = invoke("explain", r.id)
        assert result.exit_code == 0 and r.name in result.stdout
        assert r.title and len(r.why) > 80 and r.fix


def test_env_files_are_named_from_the_project_root(project_dir, tmp_path, monkeypatch):
    path = project_dir()
    (path / "deploy").mkdir()
    (path / "deploy" / "prod.env").write_text("PORT=abc\n")
    (tmp_path / "outside.env").write_text("PORT=abc\n")
    monkeypatch.chdir(tmp_path)
    inside = json.loads(invoke("env", "check", "app", "--env-file", "app/deploy/prod.env", "-f", "json").stdout)
    assert inside["env_files"] == ["deploy/prod.env"]
    assert {f["location"]["path"] for f in inside["findings"]} == {"deploy/prod.env"}
    outside = json.loads(invoke("env", "check", "app", "--env-file", "outside.env", "-f", "json").stdout)
    assert outside["env_files"] == [str(tmp_path.resolve() / "outside.env")]


def test_the_example_filled_in_passes_the_check(project_dir, tmp_path):
    path = project_dir()
    example = invoke("env", path, "--env", "prod", "-f", "dotenv-example").stdout
    filled = example.replace("DATABASE_URL=\n", "DATABASE_URL=ecto://u:p@db/demo\n").replace(
        "SECRET_KEY_BASE=\n", f"SECRET_KEY_BASE={GOOD_SECRET}\n")
    (tmp_path / ".env").write_text(filled)
    result = invoke("env", "check", path, "--env-file", tmp_path / ".env")
    assert result.exit_code == 0 and result.stdout == "no findings\n"
    (tmp_path / ".env").write_text(example)  # as generated: required values still empty
    assert invoke("env", "check", path, "--env-file", tmp_path / ".env").exit_code == 1

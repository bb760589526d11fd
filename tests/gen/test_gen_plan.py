"""`gen`: a diff first, files only with --write, never a user's file replaced without --force."""

from conftest import check_ids, invoke

from phoenix_ops.envcontract.contract import build_contract
from phoenix_ops.project import load_project


def test_the_diff_comes_first_and_writes_nothing(bare):
    result = invoke("gen", "release", bare)
    assert result.exit_code == 1
    assert "+++ b/rel/overlays/bin/server" in result.stdout and "+PHX_SERVER=true exec ./demo start" in result.stdout
    assert "+++ b/lib/demo/release.ex" in result.stdout
    assert not (bare / "rel").exists() and (bare / "config/runtime.exs").read_text() == "import Config\n"


def test_write_then_nothing_is_pending(bare):
    assert invoke("gen", "release", bare, "--write").exit_code == 0
    server = bare / "rel/overlays/bin/server"
    assert server.stat().st_mode & 0o111 and (bare / "rel/overlays/bin/migrate").stat().st_mode & 0o111
    again = invoke("gen", "release", bare)
    assert again.exit_code == 0 and again.stdout == "" and "nothing to generate" in again.stderr


def test_an_existing_file_is_kept_unless_forced(bare):
    (bare / "Dockerfile").write_text("FROM elixir\n")
    result = invoke("gen", "docker", bare, "--write")
    assert result.exit_code == 0 and "kept Dockerfile" in result.stderr
    assert (bare / "Dockerfile").read_text() == "FROM elixir\n" and (bare / ".dockerignore").exists()
    shown = invoke("gen", "docker", bare, "--force")
    assert shown.exit_code == 1 and "-FROM elixir" in shown.stdout
    assert invoke("gen", "docker", bare, "--write", "--force").exit_code == 0
    assert "FROM ${RUNNER_IMAGE}" in (bare / "Dockerfile").read_text()


def test_bad_input_is_one_line_and_exit_2(bare, tmp_path):
    for args, words in [(("gen", "helm", bare), "unknown kind 'helm'"),
                        (("gen", "all", bare, "--target", "heroku"), "unknown target 'heroku'"),
                        (("gen", "release", tmp_path / "nowhere"), "")]:
        result = invoke(*args)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, args
        assert words in result.stderr


def test_the_runtime_patch_keeps_the_file_and_gives_the_intended_contract(bare):
    invoke("gen", "release", bare, "--write")
    text = (bare / "config/runtime.exs").read_text()
    assert text.startswith("import Config\n\nif System.get_env(\"PHX_SERVER\") do\n")
    assert "mix phx.gen.secret" in text and "if config_env() == :prod do" in text
    project = load_project(bare)
    prod = {v.name for v in build_contract(project, ["prod"]).in_env("prod") if v.required_in("prod")}
    assert {"DATABASE_URL", "SECRET_KEY_BASE", "PHX_HOST"} <= prod


def test_missing_parts_go_inside_an_existing_prod_block(bare):
    runtime = 'import Config\n\nif config_env() == :prod do\n  config :demo, :feature, true\nend\n'
    (bare / "config/runtime.exs").write_text(runtime)
    invoke("gen", "release", bare, "--write")
    text = (bare / "config/runtime.exs").read_text()
    assert text.count("if config_env() == :prod do") == 1
    assert text.index("config :demo, :feature, true") < text.index("secret_key_base =") < text.rindex("end")


def test_check_after_gen_no_longer_finds_what_the_files_fix(bare):
    before = check_ids(bare)
    assert {"REL001", "REL011"} <= before
    assert invoke("gen", "all", bare, "--target", "docker", "--write").exit_code == 0
    after = check_ids(bare)
    assert not {"REL001", "REL002", "REL006", "REL007", "REL011"} & after, after

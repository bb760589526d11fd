"""`gen`: a diff first, files only with --write, never a user's file replaced without --force."""

from conftest import check_ids, invoke, write
from project_shapes import GOOD

from phoenix_ops.envcontract.contract import build_contract
from phoenix_ops.project import load_project

GOOD_MIX = GOOD["mix.exs"]


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


def test_fly_writes_the_clustering_env_and_stops_within_obans_grace(bare):
    prod = 'import Config\nconfig :demo, Oban, repo: Demo.Repo, shutdown_grace_period: 60_000\n'
    (bare / "config/prod.exs").write_text(prod)
    mix = bare / "mix.exs"
    mix.write_text(mix.read_text().replace("{:bandit", '{:oban, "~> 2.18"}, {:bandit'))
    assert invoke("gen", "fly", bare, "--write").exit_code == 0
    env = (bare / "rel/env.sh.eex").read_text()
    assert 'ERL_AFLAGS="-proto_dist inet6_tcp"' in env and "FLY_PRIVATE_IP" in env
    fly = (bare / "fly.toml").read_text()
    assert 'kill_timeout = "85s"' in fly and 'release_command = "/app/bin/migrate"' in fly
    assert 'path = "/health"' in fly and 'type = "connections"' in fly



def test_the_unit_allows_the_drain_the_endpoint_is_configured_with(bare):
    drain = "import Config\nconfig :demo, DemoWeb.Endpoint, thousand_island_options: [shutdown_timeout: 40_000]\n"
    (bare / "config/prod.exs").write_text(drain)
    assert invoke("gen", "systemd", bare, "--write").exit_code == 0
    assert "TimeoutStopSec=50\n" in (bare / "deploy/systemd/demo.service").read_text()  # 40 s drain + 10 s
    assert "DEP053" not in check_ids(bare)
    (bare / "config/prod.exs").write_text(drain.replace("40_000", "60_000"))
    assert "DEP053" in check_ids(bare)  # the same needs the unit was written for

def test_an_umbrella_gets_its_files_in_the_apps_that_own_them(tmp_path):
    root = write(tmp_path / "umb", {
        "mix.exs": 'defmodule Umb.MixProject do\n  use Mix.Project\n  def project, do: [apps_path: "apps", deps: []]\nend\n',
        "config/config.exs": "import Config\nconfig :core, ecto_repos: [Core.Repo]\n",
        "config/runtime.exs": "import Config\n",
        "apps/core/mix.exs": GOOD_MIX.replace(":demo", ":core"),
        "apps/core/lib/core/repo.ex": "defmodule Core.Repo do\n  use Ecto.Repo, otp_app: :core, adapter: Ecto.Adapters.Postgres\nend\n",
        "apps/web/mix.exs": GOOD_MIX.replace(":demo", ":web"),
        "apps/web/lib/web/endpoint.ex": "defmodule Web.Endpoint do\n  use Phoenix.Endpoint, otp_app: :web\n\n  plug Web.Router\nend\n",
    })
    result = invoke("gen", "all", root, "--write")
    assert result.exit_code == 0 and "umbrella release lists its apps" in result.stderr
    assert "@app :core" in (root / "apps/core/lib/core/release.ex").read_text()
    assert (root / "apps/web/lib/web/health.ex").exists() and not (root / "lib").exists()
    dockerfile = (root / "Dockerfile").read_text()
    assert "COPY apps apps" in dockerfile and "COPY lib lib" not in dockerfile


def test_settings_computed_by_code_the_evaluator_cannot_read_are_not_added_again(bare):
    runtime = '''import Config

env = &System.get_env/1

if config_env() == :prod do
  config :demo, Demo.Repo, url: env.("DATABASE_URL"), pool_size: String.to_integer(env.("POOL_SIZE") || "5")
  config :demo, DemoWeb.Endpoint, url: [host: env.("PHX_HOST")], http: [port: String.to_integer(env.("PORT"))]
end
'''
    (bare / "config/runtime.exs").write_text(runtime)
    added = "\n".join(line for line in invoke("gen", "release", bare).stdout.splitlines()
                      if line.startswith("+") and not line.startswith("+++"))
    assert "DATABASE_URL" not in added and "POOL_SIZE" not in added
    assert "PHX_HOST" not in added and 'System.get_env("PORT")' not in added
    assert "SECRET_KEY_BASE" in added  # truly missing: no value at all


def test_a_repo_configured_only_under_a_condition_gets_nothing_outside_it(bare):
    """Web-only without DATABASE_URL: a socket_options line outside the `if` would configure the repo
    (and the app starts it when it finds any config)."""
    runtime = '''import Config

if config_env() == :prod do
  if database_url = System.get_env("DATABASE_URL") do
    config :demo, Demo.Repo, url: database_url
  end
end
'''
    (bare / "config/runtime.exs").write_text(runtime)
    assert invoke("gen", "release", bare, "--write").exit_code == 0
    text = (bare / "config/runtime.exs").read_text()
    assert "SECRET_KEY_BASE" in text and text.count("Demo.Repo") == 1 and "ECTO_IPV6" not in text


def test_a_health_plug_the_endpoint_already_mounts_is_not_mounted_again(bare):
    plug = '''defmodule DemoWeb.Health do
  import Plug.Conn
  def init(opts), do: opts
  def call(%Plug.Conn{path_info: ["health"]} = conn, _), do: conn |> send_resp(200, "ok") |> halt()
  def call(conn, _), do: conn
end
'''
    write(bare, {"lib/demo_web/health.ex": plug})
    endpoint = bare / "lib/demo_web/endpoint.ex"
    endpoint.write_text(endpoint.read_text().replace("  plug Plug.Telemetry", "  plug DemoWeb.Health\n  plug Plug.Telemetry"))
    before = endpoint.read_text()
    assert invoke("gen", "all", bare, "--target", "docker", "--write").exit_code == 0
    assert endpoint.read_text() == before


def test_a_health_route_the_hlt_rules_find_is_what_gen_probes(bare):
    router = bare / "lib/demo_web/router.ex"
    router.write_text(router.read_text().replace('  scope "/", DemoWeb do\n',
                                                 '  scope "/", DemoWeb do\n    get "/healthcheck", HealthController, :check\n', 1))
    assert "/healthcheck" in router.read_text()
    assert invoke("gen", "all", bare, "--target", "k8s", "--write").exit_code == 0
    assert not (bare / "lib/demo_web/health.ex").exists()  # the app has its own
    deployment = next((bare / "deploy/k8s").glob("*.yaml")).read_text()
    assert "path: /healthcheck" in deployment


def test_gen_never_decides_which_migrations_are_history(bare):
    old = "defmodule Demo.Repo.Migrations.M{n} do\n  use Ecto.Migration\n  def change do\n" \
          "    create index(:t{n}, [:c])\n  end\nend\n"
    write(bare, {f"priv/repo/migrations/201901{n + 1:02d}000000_m{n}.exs": old.format(n=n) for n in range(11)})
    write(bare, {"priv/repo/migrations/20240301000000_new.exs": old.format(n=99)})
    assert invoke("gen", "all", bare, "--target", "systemd", "--write").exit_code == 0
    assert not (bare / ".phoenix-ops.toml").exists()  # the hint names a version; the team decides
    assert 'start-after = "20190111000000"' in invoke("check", bare).stdout

"""REL rules: each fires on the shape it names and stays quiet on the generator's idioms."""

from project_shapes import GOOD, ids, runtime_without

GOOD_RUNTIME = GOOD["config/runtime.exs"]

NO_SERVER = runtime_without('''
if System.get_env("PHX_SERVER") do
  config :demo, DemoWeb.Endpoint, server: true
end
''')


def test_rel001_fires_without_server_or_phx_server(make_project, findings):
    got = findings(make_project({"config/runtime.exs": NO_SERVER, "rel/overlays/bin/server": None}), "REL001")
    assert [(f.rule_id, f.location.path) for f in got] == [("REL001", "config/runtime.exs")]
    assert "DemoWeb.Endpoint" in got[0].message


def test_rel001_accepts_server_true_in_prod_exs_and_serve_endpoints(make_project, findings):
    prod = 'import Config\nconfig :demo, DemoWeb.Endpoint, server: true\n'
    assert ids(findings(make_project({"config/runtime.exs": NO_SERVER, "config/prod.exs": prod}), "REL001")) == []
    legacy = 'import Config\nconfig :phoenix, :serve_endpoints, true\n'
    assert ids(findings(make_project({"config/runtime.exs": NO_SERVER, "config/prod.exs": legacy}), "REL001")) == []


def test_rel001_quiet_for_apps_run_with_mix(make_project, findings):
    project = make_project({"config/runtime.exs": NO_SERVER, "rel/overlays/bin/server": None,
                            "Procfile": "web: mix phx.server\n"})
    assert project.release_mode == "mix"
    assert ids(findings(project, "REL001")) == []


def test_rel002_no_runtime_exs_with_compile_time_reads(make_project, findings):
    prod = 'import Config\nconfig :demo, Demo.Repo, url: System.get_env("DATABASE_URL")\n'
    got = findings(make_project({"config/runtime.exs": None, "config/prod.exs": prod}), "REL002")
    assert ids(got) == ["REL002"] and "DATABASE_URL" in got[0].message
    assert ids(findings(make_project(), "REL002")) == []


def test_an_app_run_with_mix_reads_its_config_files_at_every_start(make_project, findings):
    """Heroku's buildpack and its Procfile: Mix evaluates config.exs and prod.exs when it starts,
    so nothing read there is baked in; a module attribute still is."""
    prod = ('import Config\nconfig :demo, Demo.Repo, url: System.get_env("DATABASE_URL")\n'
            'config :demo, :dsn, System.get_env("SENTRY_DSN")\n')
    attribute = 'defmodule Demo.Hub do\n  @token System.get_env("HUB_API_TOKEN")\n  def token, do: @token\nend\n'
    files = {**NO_RELEASE_FILES, "config/runtime.exs": None, "config/prod.exs": prod, "lib/demo/hub.ex": attribute}
    released = {f.rule_id for f in findings(make_project(files)) if f.rule_id in ("REL002", "REL003", "SEC007")}
    assert released == {"REL002", "SEC007"}
    run_by_mix = findings(make_project({**files, "Procfile": "web: mix phx.server\n"}))
    assert [(f.rule_id, f.key) for f in run_by_mix if f.rule_id in ("REL002", "REL003", "SEC007")] == \
        [("SEC007", "HUB_API_TOKEN")]


def test_rel003_compile_time_read_beside_runtime_exs(make_project, findings):
    prod = 'import Config\nconfig :demo, :dsn, System.get_env("SENTRY_DSN")\n'
    got = findings(make_project({"config/prod.exs": prod}), "REL003")
    assert [(f.rule_id, f.location.path, f.location.line) for f in got] == [("REL003", "config/prod.exs", 2)]
    # A read in dev.exs never reaches prod.
    dev = 'import Config\nconfig :demo, :dsn, System.get_env("SENTRY_DSN")\n'
    assert ids(findings(make_project({"config/dev.exs": dev}), "REL003")) == []


def test_rel004_force_ssl_only_in_runtime(make_project, findings):
    body = GOOD_RUNTIME.replace("secret_key_base: secret_key_base",
                                "secret_key_base: secret_key_base,\n    force_ssl: [hsts: true]")
    prod_without = "\n".join(ln for ln in GOOD["config/prod.exs"].splitlines() if "force_ssl" not in ln)
    got = findings(make_project({"config/runtime.exs": body, "config/prod.exs": prod_without}), "REL004")
    assert ids(got) == ["REL004"] and "force_ssl" in got[0].message
    prod = 'import Config\nconfig :demo, DemoWeb.Endpoint, force_ssl: [hsts: true]\n'
    assert ids(findings(make_project({"config/prod.exs": prod}), "REL004")) == []


def test_rel004_compile_env_key_set_at_runtime(make_project, findings):
    lib = 'defmodule Demo.Flags do\n  @beta Application.compile_env(:demo, :beta_ui)\nend\n'
    runtime = GOOD_RUNTIME + '\nconfig :demo, :beta_ui, System.get_env("BETA") == "true"\n'
    got = findings(make_project({"lib/demo/flags.ex": lib, "config/runtime.exs": runtime}), "REL004")
    assert ids(got) == ["REL004"] and "beta_ui" in got[0].message


def test_rel005_localhost_and_fixed_host(make_project, findings):
    runtime = GOOD_RUNTIME.replace("url: [host: host,", 'url: [host: "localhost",')
    got = findings(make_project({"config/runtime.exs": runtime}), "REL005")
    assert [(f.rule_id, f.severity.label) for f in got] == [("REL005", "error")]
    runtime = GOOD_RUNTIME.replace("url: [host: host,", 'url: [host: "shop.example.org",')
    got = findings(make_project({"config/runtime.exs": runtime}), "REL005")
    assert [(f.rule_id, f.severity.label) for f in got] == [("REL005", "warning")]


def test_rel006_fixed_listen_port(make_project, findings):
    runtime = GOOD_RUNTIME.replace("port: port]", "port: 4000]")
    assert ids(findings(make_project({"config/runtime.exs": runtime}), "REL006")) == ["REL006"]


def test_rel007_repo_without_runtime_url(make_project, findings):
    runtime = GOOD_RUNTIME.replace("url: database_url,", "")
    assert ids(findings(make_project({"config/runtime.exs": runtime}), "REL007")) == ["REL007"]


def test_rel008_rel009_rel010_repo_details(make_project, findings):
    runtime = (GOOD_RUNTIME.replace('String.to_integer(System.get_env("POOL_SIZE") || "10")', "10")
               .replace("ssl: true,", "# ssl: true,").replace(",\n    socket_options: maybe_ipv6", ""))
    got = ids(findings(make_project({"config/runtime.exs": runtime, "fly.toml": 'app = "demo"\n'})))
    assert [i for i in got if i.startswith("REL")] == ["REL008", "REL009", "REL010"]
    # IPv6-only private networking is Fly's: elsewhere ECTO_IPV6 is optional.
    assert ids(findings(make_project({"config/runtime.exs": runtime, "fly.toml": None}), "REL010")) == []


def test_repo_rules_skip_repos_built_by_code_or_not_networked(make_project, findings):
    runtime = GOOD_RUNTIME.replace("url: database_url,", "")
    built = runtime + "\nconfig :demo, Demo.Repo, Demo.RepoConfig.options()\n"
    assert ids(findings(make_project({"config/runtime.exs": built}), "REL007")) == []
    init = GOOD["lib/demo/repo.ex"].replace("end\n", "  def init(_, config), do: {:ok, Keyword.put(config, :url, "
                                              "System.get_env(\"DB_URL\"))}\nend\n")
    assert ids(findings(make_project({"config/runtime.exs": runtime, "lib/demo/repo.ex": init}), "REL007")) == []
    sqlite = GOOD["lib/demo/repo.ex"].replace("Ecto.Adapters.Postgres", "Ecto.Adapters.SQLite3")
    assert ids(findings(make_project({"config/runtime.exs": runtime, "lib/demo/repo.ex": sqlite}), "REL007")) == []


def test_rel011_no_migrator(make_project, findings):
    assert ids(findings(make_project({"lib/demo/release.ex": None}), "REL011")) == ["REL011"]
    # Any module calling Ecto.Migrator counts, whatever its name.
    task = 'defmodule Demo.Tasks do\n  def up, do: Ecto.Migrator.run(Demo.Repo, :up, all: true)\nend\n'
    assert ids(findings(make_project({"lib/demo/release.ex": None, "lib/demo/tasks.ex": task}), "REL011")) == []
    # A mention in a comment is not a call.
    fake = 'defmodule Demo.Tasks do\n  # Ecto.Migrator.run someday\n  def up, do: :ok\nend\n'
    assert ids(findings(make_project({"lib/demo/release.ex": None, "lib/demo/tasks.ex": fake}), "REL011")) == [
        "REL011"]



def test_release_mode_from_distillery_or_env_sh(make_project):
    procfile = {"Procfile": "web: mix phx.server\n", "rel/overlays/bin/server": None}
    assert make_project(procfile).release_mode == "mix"
    assert make_project({**procfile, "rel/config.exs": "use Distillery.Releases.Config\n"}).release_mode == "release"


def test_rel003_module_attribute_reads_env_at_compile_time(make_project, findings):
    lib = 'defmodule Demo.Stripe do\n  @key System.get_env("STRIPE_KEY")\n  def key, do: @key\n' \
          '  def region, do: System.get_env("REGION")\nend\n'
    got = findings(make_project({"lib/demo/stripe.ex": lib}), "REL003")
    assert [(f.location.path, f.location.line, f.key) for f in got] == [("lib/demo/stripe.ex", 2, "STRIPE_KEY")]


def test_rel003_quiet_when_runtime_overrides_or_for_build_tools_and_system_tuples(make_project, findings):
    prod = ('import Config\nconfig :demo, Demo.Repo, url: System.get_env("DATABASE_URL")\n'
            'config :esbuild, default: [env: %{"NODE_PATH" => System.get_env("MIX_DEPS_PATH")}]\n'
            'config :demo, DemoWeb.Endpoint, http: [port: {:system, "PORT"}]\n'
            'config :demo, :dsn, System.get_env("SENTRY_DSN")\n')
    got = findings(make_project({"config/prod.exs": prod}), "REL003")
    assert [f.key for f in got] == ["SENTRY_DSN"]


def test_rel002_quiet_with_a_release_config_provider(make_project, findings):
    prod = 'import Config\nconfig :demo, Demo.Repo, url: System.get_env("DATABASE_URL")\n'
    mix = GOOD["mix.exs"].replace("deps: deps()]", "deps: deps(), releases: [demo: [config_providers: "
                                                   "[{Demo.RuntimeProvider, nil}]]]]")
    project = make_project({"config/runtime.exs": None, "config/prod.exs": prod, "mix.exs": mix})
    assert ids(findings(project, "REL002")) == []
    # The provider may set the same key at boot: unknown, so not reported as baked.
    assert ids(findings(project, "REL003")) == []


def test_a_call_that_configures_at_runtime_makes_earlier_values_unknown(make_project, findings):
    prod = 'import Config\nconfig :demo, DemoWeb.Endpoint, url: [host: "localhost"]\n'
    runtime = 'import Config\nDemo.config_runtime()\n'
    project = make_project({"config/prod.exs": prod, "config/runtime.exs": runtime})
    assert ids(findings(project, "REL005")) == [] and ids(findings(project, "REL001")) == []
    assert project.config().opaque == [("config/runtime.exs", 2, "Demo.config_runtime()")]


def test_rel001_computed_server_flag_is_unknown_not_missing(make_project, findings):
    runtime = NO_SERVER.replace("secret_key_base: secret_key_base",
                                'secret_key_base: secret_key_base,\n    server: scheme() == "http"')
    assert ids(findings(make_project({"config/runtime.exs": runtime, "rel/overlays/bin/server": None}),
                        "REL001")) == []


def test_rel005_quiet_when_check_origin_is_explicit(make_project, findings):
    runtime = GOOD_RUNTIME.replace("url: [host: host,", 'check_origin: ["//ops.internal"], url: [host: "localhost",')
    assert ids(findings(make_project({"config/runtime.exs": runtime}), "REL005")) == []


def test_rel003_docker_build_argument_is_info(make_project, findings):
    prod = 'import Config\nconfig :demo, :self_hosted, System.get_env("SELF_HOSTED") == "true"\n'
    got = findings(make_project({"config/prod.exs": prod, "Dockerfile": "FROM elixir\nARG SELF_HOSTED\n"}), "REL003")
    assert [(f.severity.label, f.confidence.label) for f in got] == [("info", "low")]


def test_rel003_a_runtime_override_counts_even_after_an_unknown_compile_time_import(make_project, findings):
    prod = ('import Config\nconfig :demo, :ldap, host: System.get_env("LDAP_HOST")\n'
            'import_config "#{flavour()}.exs"\n')
    runtime = GOOD_RUNTIME + "\nDemo.RuntimeConfig.load()\n"
    assert ids(findings(make_project({"config/prod.exs": prod, "config/runtime.exs": runtime}), "REL003")) == []
    assert ids(findings(make_project({"config/prod.exs": prod}), "REL003")) == ["REL003"]


def test_rel007_connection_computed_by_a_helper_at_boot_counts_as_runtime(make_project, findings):
    runtime = GOOD_RUNTIME.replace("url: database_url,", "hostname: compile_config!(:database_host),")
    assert ids(findings(make_project({"config/runtime.exs": runtime}), "REL007")) == []
    literal = GOOD_RUNTIME.replace("url: database_url,", 'hostname: "db.internal",')
    assert ids(findings(make_project({"config/runtime.exs": literal}), "REL007")) == ["REL007"]


NO_RELEASE_FILES = {"rel/overlays/bin/server": None}


def test_run_mode_evidence_from_every_kind_of_file(make_project):
    cases = {
        "Dockerfile": ("FROM elixir:1.17\nRUN mix release\nCMD [\"/app/bin/server\"]\n", "release"),
        "fly.toml": ('app = "demo"\n[deploy]\n  release_command = "/app/bin/migrate"\n', "release"),
        "Procfile": ("web: MIX_ENV=prod mix phx.server\n", "mix"),
        "deploy/demo.service": ("[Service]\nExecStart=/opt/demo/bin/demo start\n", "release"),
        "bin/deploy": ("#!/bin/sh\n# mix phx.server for dev\nMIX_ENV=prod mix release --overwrite\n", "release"),
        "scripts/start.sh": ("#!/bin/sh\nMIX_ENV=prod elixir --sname demo -S mix phx.server\n", "mix"),
    }
    for rel, (body, mode) in cases.items():
        project = make_project({**NO_RELEASE_FILES, rel: body})
        assert project.run_mode.mode == mode, rel
        assert project.run_mode.evidence[0].path == rel
        (tmp := project.root / rel).unlink()  # the next case starts clean
        assert not tmp.exists()
    dev_helper = make_project({**NO_RELEASE_FILES, "bin/dev": "#!/bin/sh\nmix phx.server\n"})
    assert dev_helper.run_mode.mode == "unknown"  # a development helper says nothing about prod


def test_release_rules_drop_to_low_confidence_without_evidence(make_project, findings):
    project = make_project({**NO_RELEASE_FILES, "config/runtime.exs": NO_SERVER, "lib/demo/release.ex": None})
    assert project.summary()["run_mode"] == {"mode": "unknown", "evidence": []}
    got = {f.rule_id: f for f in findings(project) if f.rule_id in ("REL001", "REL011")}
    assert set(got) == {"REL001", "REL011"}
    for f in got.values():
        assert f.confidence.label == "low" and "a release is assumed" in f.message
    summary = make_project({"mix.exs": GOOD["mix.exs"]}).summary()["run_mode"]
    assert summary == {"mode": "release", "evidence": ["rel/overlays/bin/server:1 a rel/ directory (release overlays "
                                                       "or config)"]}


def test_a_start_command_that_says_neither_is_named_when_a_release_is_assumed(make_project, findings):
    fly = 'app = "demo"\n[deploy]\n  release_command = "on.deploy"\n[experimental]\n  cmd = ["app.start"]\n'
    project = make_project({**NO_RELEASE_FILES, "config/runtime.exs": NO_SERVER, "lib/demo/release.ex": None,
                            "fly.io/demo/fly.toml": fly})
    assert project.summary()["run_mode"] == {"mode": "unknown", "evidence": [],
                                             "unclear": ["fly.io/demo/fly.toml:5 experimental.cmd = app.start"]}
    (got,) = findings(project, "REL011")
    assert got.confidence.label == "low" and got.message.endswith(
        "; fly.io/demo/fly.toml:5 experimental.cmd = app.start starts something the audit cannot follow and no "
        "other file shows how the app runs in production, so a release is assumed")


def test_messages_speak_of_the_env_audited(make_project, findings):
    dev = 'import Config\nconfig :demo, Demo.Repo, url: System.get_env("DATABASE_URL")\n'
    project = make_project({"config/runtime.exs": NO_SERVER, "config/dev.exs": dev}, env="dev")
    messages = [f.message for f in findings(project)]
    assert messages and not [m for m in messages if "prod" in m]
    assert any("a release built for dev boots without listening" in m for m in messages)

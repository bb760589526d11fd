"""JOB rules: Oban supervised, led, pruned and rescued, stopped in time, and notified without a pooler."""

from project_shapes import GOOD

from phoenix_ops.catalog import catalog
from phoenix_ops.check.pipeline import CheckOptions, run_check

MIX = GOOD["mix.exs"].replace('{:bandit, "~> 1.5"}', '{:bandit, "~> 1.5"}, {:oban, "~> 2.18"}')
APPLICATION = '''
defmodule Demo.Application do
  use Application

  def start(_type, _args) do
    children = [
      Demo.Repo,
      {Phoenix.PubSub, name: Demo.PubSub},
      {Oban, Application.fetch_env!(:demo, Oban)},
      DemoWeb.Endpoint
    ]

    Supervisor.start_link(children, strategy: :one_for_one)
  end
end
'''
OBAN = '''
config :demo, Oban,
  engine: Oban.Engines.Basic,
  repo: Demo.Repo,
  plugins: [{Oban.Plugins.Pruner, max_age: 604_800}, {Oban.Plugins.Lifeline, rescue_after: 1_800_000}]
'''
RUNTIME_QUEUES = '\nconfig :demo, Oban, queues: [default: String.to_integer(System.get_env("OBAN_QUEUE") || "10")]\n'
TEST = 'import Config\nconfig :demo, Oban, testing: :manual\n'


def oban(config: str = OBAN, runtime: str = RUNTIME_QUEUES, **extra):
    return {"mix.exs": MIX, "lib/demo/application.ex": APPLICATION, "config/test.exs": TEST,
            "config/config.exs": GOOD["config/config.exs"] + config,
            "config/runtime.exs": GOOD["config/runtime.exs"] + runtime, **extra}


def job_ids(found):
    return sorted(f.rule_id for f in found if f.rule_id.startswith("JOB"))


def test_a_well_configured_oban_raises_nothing(fresh_project, findings):
    assert job_ids(findings(fresh_project(oban()))) == []


def test_no_oban_dependency_no_job_rules(fresh_project, findings):
    files = {**oban(config=OBAN.replace("plugins: [", "testing: :inline, peer: false, plugins: [Foo, ")),
             "mix.exs": GOOD["mix.exs"]}
    assert job_ids(findings(fresh_project(files))) == []
    jobs = [r for r in catalog("static") if r.area == "JOB"]
    result = run_check(fresh_project(files).root, CheckOptions(), jobs)
    assert result.not_applicable == {r.id: "Oban is not a dependency" for r in jobs}  # the report says so
    assert run_check(fresh_project(oban()).root, CheckOptions(), jobs).not_applicable == {}


def test_job001_not_supervised(fresh_project, findings):
    app = APPLICATION.replace("      {Oban, Application.fetch_env!(:demo, Oban)},\n", "")
    (got,) = findings(fresh_project(oban(**{"lib/demo/application.ex": app})), "JOB001")
    assert "no application starts Oban" in got.message


def test_job002_after_endpoint(fresh_project, findings):
    app = APPLICATION.replace("      {Oban, Application.fetch_env!(:demo, Oban)},\n      DemoWeb.Endpoint\n",
                              "      DemoWeb.Endpoint,\n      {Oban, Application.fetch_env!(:demo, Oban)}\n")
    (got,) = findings(fresh_project(oban(**{"lib/demo/application.ex": app})), "JOB002")
    assert "after DemoWeb.Endpoint" in got.message


def test_job003_testing_mode_in_config_exs_reaches_prod(fresh_project, findings):
    (got,) = findings(fresh_project(oban(config=OBAN + "config :demo, Oban, testing: :inline\n")), "JOB003")
    assert got.location.path == "config/config.exs" and ":inline" in got.message
    assert findings(fresh_project(oban(), env="test"), "JOB003") == []


def test_job004_queues_fixed_at_compile_time(fresh_project, findings):
    fixed = oban(config=OBAN + "config :demo, Oban, queues: [default: 10, mailers: 5]\n", runtime="")
    (got,) = findings(fresh_project(fixed), "JOB004")
    assert got.location.path == "config/config.exs"
    overridden = oban(config=OBAN + "config :demo, Oban, queues: [default: 10]\n")
    assert findings(fresh_project(overridden), "JOB004") == []


def test_job005_peer_false_everywhere(fresh_project, findings):
    (got,) = findings(fresh_project(oban(config=OBAN + "config :demo, Oban, peer: false\n")), "JOB005")
    assert "no node leads" in got.message
    chosen = '\nconfig :demo, Oban, peer: if(System.get_env("OBAN_LEADER"), do: Oban.Peers.Postgres, else: false)\n'
    assert findings(fresh_project(oban(runtime=chosen)), "JOB005") == []


def test_job006_and_job007_missing_plugins(fresh_project, findings):
    bare = OBAN.replace("plugins: [{Oban.Plugins.Pruner, max_age: 604_800}, {Oban.Plugins.Lifeline, "
                        "rescue_after: 1_800_000}]", "plugins: [Oban.Plugins.Pruner]")
    project = fresh_project(oban(config=bare))
    assert findings(project, "JOB006") == [] and len(findings(project, "JOB007")) == 1
    none = OBAN.replace("plugins: [", "plugins: false, unused: [")
    project = fresh_project(oban(config=none))
    assert len(findings(project, "JOB006")) == 1 and len(findings(project, "JOB007")) == 1
    by_code = OBAN.replace("plugins: [", "plugins: Demo.Jobs.plugins() ++ [")
    assert findings(fresh_project(oban(config=by_code)), "JOB006") == []


def test_job008_platform_kills_before_the_grace_period(fresh_project, findings):
    (got,) = findings(fresh_project(oban(**{"fly.toml": 'app = "demo"\n'})), "JOB008")
    assert "after 5 s (the platform default)" in got.message and "15 s" in got.message
    patient = 'app = "demo"\nkill_timeout = 30\n'
    assert findings(fresh_project(oban(**{"fly.toml": patient})), "JOB008") == []
    short = OBAN + "config :demo, Oban, shutdown_grace_period: 3_000\n"
    assert findings(fresh_project(oban(config=short, **{"fly.toml": 'app = "demo"\n'})), "JOB008") == []


def test_job009_postgres_notifier_behind_a_transaction_pooler(fresh_project, findings):
    pooled = GOOD["config/runtime.exs"].replace(
        "url: database_url,", 'url: database_url, port: 6543,')
    (got,) = findings(fresh_project({**oban(), "config/runtime.exs": pooled + RUNTIME_QUEUES}), "JOB009")
    assert "Demo.Repo port" in got.message
    pg = OBAN + "config :demo, Oban, notifier: Oban.Notifiers.PG\n"
    assert findings(fresh_project({**oban(config=pg), "config/runtime.exs": pooled}), "JOB009") == []
    env = "DATABASE_URL=postgres://app:pw@aws-0-eu.pooler.supabase.com:6543/postgres\n"
    compose = "services:\n  web:\n    build: .\n    env_file: [.env.prod]\n"
    (got,) = findings(fresh_project(oban(**{"compose.yaml": compose, ".env.prod": env})), "JOB009")
    assert "DATABASE_URL" in got.message


def test_plugins_turned_off_only_on_some_nodes_or_custom_pruners_count(fresh_project, findings):
    web_only = '\nif System.get_env("WEB_ONLY") do\n  config :demo, Oban, plugins: false, queues: false\nend\n'
    assert job_ids(findings(fresh_project(oban(runtime=RUNTIME_QUEUES + web_only)))) == []
    custom = OBAN.replace("{Oban.Plugins.Pruner, max_age: 604_800}", "{Demo.Oban.Pruner, max_age: 604_800}")
    assert findings(fresh_project(oban(config=custom)), "JOB006") == []


def test_job008_ignores_databases_beside_the_app_and_doubts_bare_images(fresh_project, findings):
    compose = "services:\n  db:\n    build: {context: ., dockerfile: Dockerfile.pg}\n"
    files = oban(**{"compose.yaml": compose, "Dockerfile.pg": "FROM postgres:16\n"})
    assert findings(fresh_project(files), "JOB008") == []
    docker = "FROM elixir:1.17 AS build\nRUN mix release\nFROM debian:bookworm-slim\nCMD [\"/app/bin/server\"]\n"
    (got,) = findings(fresh_project(oban(**{"Dockerfile": docker})), "JOB008")
    assert got.confidence.label == "low"


def test_children_built_by_helper_functions(fresh_project, findings):
    app = APPLICATION.replace('''    children = [
      Demo.Repo,
      {Phoenix.PubSub, name: Demo.PubSub},
      {Oban, Application.fetch_env!(:demo, Oban)},
      DemoWeb.Endpoint
    ]''', '''    children = children(Application.get_env(:demo, :env))''').replace("end\nend\n", '''end

  defp children(env) when env in [:test], do: base()
  defp children(_env), do: [Demo.Repo, DemoWeb.Endpoint] ++ base()
  defp base, do: [{Oban, Application.fetch_env!(:demo, Oban)}, Demo.PubSub.child_spec()]
end
''')
    project = fresh_project(oban(**{"lib/demo/application.ex": app}))
    assert [c.module for c in project.child_specs] == ["Oban", "Demo.PubSub.child_spec()", "Demo.Repo",
                                                       "DemoWeb.Endpoint", "Oban", "Demo.PubSub.child_spec()"]
    assert not project.children_complete  # a spec built by code names no module
    (late,) = findings(project, "JOB002")  # after the Endpoint in the clause that adds it
    assert findings(project, "JOB001") == []



def with_children(children: str) -> dict:
    """The Oban project with its application's `children = [...]` replaced."""
    start, end = APPLICATION.index("    children = ["), APPLICATION.index("    ]\n") + len("    ]")
    return oban(**{"lib/demo/application.ex": APPLICATION[:start] + children + APPLICATION[end:]})


CONDITIONAL = """    database? = Application.get_env(:demo, Demo.Repo) != nil

    children =
      [{Phoenix.PubSub, name: Demo.PubSub}] ++
        if(database?, do: [Demo.Repo, {Oban, Application.fetch_env!(:demo, Oban)}], else: []) ++
        [DemoWeb.Endpoint]"""


def test_children_added_by_an_inline_if(fresh_project, findings):
    project = fresh_project(with_children(CONDITIONAL))
    assert [c.module for c in project.child_specs] == ["Phoenix.PubSub", "Demo.Repo", "Oban", "DemoWeb.Endpoint"]
    assert project.children_complete
    assert findings(project, "JOB001") == [] and findings(project, "JOB002") == []
    without = fresh_project(with_children(CONDITIONAL.replace(", {Oban, Application.fetch_env!(:demo, Oban)}", "")))
    assert "no application starts Oban" in findings(without, "JOB001")[0].message
    late = CONDITIONAL.replace("[{Phoenix.PubSub, name: Demo.PubSub}] ++", "[DemoWeb.Endpoint] ++")
    assert "after DemoWeb.Endpoint" in findings(fresh_project(with_children(late)), "JOB002")[0].message


def test_children_joined_with_unknown_code_are_partial(fresh_project, findings):
    project = fresh_project(with_children("    children = [Demo.Repo] ++ ([DemoWeb.Endpoint] ++ extra_children())"))
    assert not project.children_complete  # extra_children/0 is unknown: Oban may be among them
    assert findings(project, "JOB001") == []


def test_children_joined_with_an_undecided_if_are_read_in_their_place(fresh_project, findings):
    """`[a] ++ if(database?, do: [Oban...], else: []) ++ [b]`: Elixir joins right to left; the branch's
    children are read in their place, so the list is complete and Oban is seen started."""
    app = APPLICATION.replace('''      {Oban, Application.fetch_env!(:demo, Oban)},
      DemoWeb.Endpoint
    ]''', '''    ] ++
      if(Application.get_env(:demo, Demo.Repo), do: [{Oban, Application.fetch_env!(:demo, Oban)}], else: []) ++
      [DemoWeb.Endpoint]''').replace("      {Phoenix.PubSub, name: Demo.PubSub},\n",
                                      "      {Phoenix.PubSub, name: Demo.PubSub}\n")
    project = fresh_project(oban(**{"lib/demo/application.ex": app}))
    assert project.children_complete and "Oban" in [c.module for c in project.child_specs]
    assert findings(project, "JOB001") == []


def test_a_child_guarded_by_a_condition_counts_as_started(fresh_project, findings):
    """`enabled? && {Oban, ...}` filtered with `Enum.filter(& &1)`: Oban may start, so it is never
    called unsupervised, and its place before the Endpoint is judged with its condition named."""
    guarded = with_children("""    jobs? = Application.get_env(:demo, :jobs?)

    children =
      [
        {Phoenix.PubSub, name: Demo.PubSub},
        DemoWeb.Endpoint,
        jobs? && {Oban, Application.fetch_env!(:demo, Oban)}
      ]
      |> Enum.filter(& &1)""")
    project = fresh_project(guarded)
    assert project.children_complete and findings(project, "JOB001") == []
    (late,) = findings(project, "JOB002")
    assert late.message.startswith("Oban (started when `jobs?`) starts after DemoWeb.Endpoint")

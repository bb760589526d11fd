"""The config evaluator on the shapes Phoenix generators and real apps write."""

from pathlib import Path

from project_shapes import GOOD

from phoenix_ops.elixir.values import Atom, EnvRead, Expr, Lit
from phoenix_ops.project.config import evaluate_config
from phoenix_ops.project.files import scan


def view_of(tmp_path: Path, files: dict[str, str], env: str = "prod"):
    for rel, body in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    return evaluate_config(scan(tmp_path), "config", env)


RUNTIME = GOOD["config/runtime.exs"]


def test_generated_runtime_exs_reads(tmp_path):
    view = view_of(tmp_path, {"config/config.exs": 'import Config\nimport_config "#{config_env()}.exs"\n',
                              "config/prod.exs": "import Config\n", "config/runtime.exs": RUNTIME})
    reads = {r.name: r for r in view.reads}
    assert set(reads) == {"PHX_SERVER", "DATABASE_URL", "ECTO_IPV6", "POOL_SIZE", "SECRET_KEY_BASE", "PHX_HOST",
                          "PORT", "LOGGER_LEVEL"}
    assert reads["DATABASE_URL"].required and not reads["PHX_HOST"].required
    assert reads["POOL_SIZE"].default.value == "10" and reads["POOL_SIZE"].convert == "integer"
    assert reads["PORT"].convert == "integer"
    assert reads["ECTO_IPV6"].convert == "boolean"
    url = view.get("demo", "Demo.Repo", "url")
    assert isinstance(url, EnvRead) and url.name == "DATABASE_URL"
    assert url.origin.phase == "runtime" and url.origin.file == "config/runtime.exs"
    server = view.get("demo", "DemoWeb.Endpoint", "server")
    assert server.value is True and server.conditions[0].env_names == ("PHX_SERVER",)
    assert view.get("demo", "DemoWeb.Endpoint", "url", "port").value == 443
    assert isinstance(view.get("demo", "DemoWeb.Endpoint", "http", "port"), EnvRead)
    assert view.files == ["config/config.exs", "config/prod.exs", "config/runtime.exs"]


def test_env_branches_are_decided(tmp_path):
    view = view_of(tmp_path, {"config/config.exs": RUNTIME.replace("Config\n", "Config\n", 1)}, env="dev")
    assert view.get("demo", "Demo.Repo", "url") is None  # the prod block is skipped in dev
    assert {r.name for r in view.reads} == {"PHX_SERVER"}


def test_deep_merge_keeps_history_and_phases(tmp_path):
    view = view_of(tmp_path, {
        "config/config.exs": 'import Config\nconfig :demo, DemoWeb.Endpoint, url: [host: "localhost"], '
                             'render_errors: [formats: [html: X]]\nimport_config "#{Mix.env()}.exs"\n',
        "config/prod.exs": 'use Mix.Config\nconfig :demo, DemoWeb.Endpoint, url: [port: 80]\n',
        "config/runtime.exs": 'import Config\nconfig :demo, DemoWeb.Endpoint, url: [host: System.fetch_env!("H")]\n',
    })
    host = view.history("demo", "DemoWeb.Endpoint", "url", "host")
    assert [type(v) for v in host] == [Lit, EnvRead]
    assert [v.origin.phase for v in host] == ["compile", "runtime"]
    assert view.get("demo", "DemoWeb.Endpoint", "url", "port").value == 80
    assert view.keys("demo") == {"DemoWeb.Endpoint"}


def test_legacy_and_dotenvy_and_unknown_conditions(tmp_path):
    view = view_of(tmp_path, {"config/config.exs": '''
import Config
config :demo, Demo.Repo, url: {:system, "DATABASE_URL"}
config :demo, :pool, env!("POOL", :integer, 5)
config :demo, :key, env!("API_KEY", :string)
case System.get_env("CLUSTER") do
  "dns" -> config :libcluster, topologies: [dns: [strategy: Cluster.Strategy.DNSPoll]]
  _ -> config :libcluster, topologies: []
end
for t <- ~w(a b)a do
  config :demo, t, enabled: true
end
if File.exists?("config/prod.secret.exs"), do: import_config("prod.secret.exs")
config :demo, :max_age, 60 * 60 * 24 * 365
'''})
    reads = {r.name: r for r in view.reads}
    assert reads["DATABASE_URL"].how == "{:system, _}"
    assert reads["POOL"].convert == "integer" and reads["POOL"].default.value == 5 and not reads["POOL"].required
    assert reads["API_KEY"].required
    topo = view.get("libcluster", "topologies", "dns", "strategy")
    assert topo.value == Atom("Cluster.Strategy.DNSPoll") and topo.conditions
    assert view.get("demo", "a", "enabled").value is True and view.get("demo", "b", "enabled").value is True
    assert view.get("demo", "max_age").value == 31536000
    assert view.problems == []  # a guarded import of an absent file is no problem


def test_missing_import_is_a_problem(tmp_path):
    view = view_of(tmp_path, {"config/config.exs": 'import Config\nimport_config "prod.secret.exs"\n'})
    assert view.problems and "prod.secret.exs" in view.problems[0].message


def test_unknown_expressions_keep_their_text(tmp_path):
    view = view_of(tmp_path, {"config/config.exs": 'import Config\nconfig :demo, :path, Path.join(a, "b")\n'})
    value = view.get("demo", "path")
    assert isinstance(value, Expr) and value.text == 'Path.join(a, "b")'


def test_strict_equality_inline_if_and_application_get_env(tmp_path):
    view = view_of(tmp_path, {"config/config.exs": '''
import Config
config :demo, :env, config_env()
if config_env() === :prod do
  config :demo, :strict, true
end
if System.get_env("PHX_SERVER"), do: config(:demo, DemoWeb.Endpoint, server: true)
if Application.get_env(:demo, :env) == :prod, do: config(:demo, :from_app_env, true)
config :demo, :fallback, Application.get_env(:demo, :missing, 5)
'''})
    assert view.get("demo", "strict").value is True
    server = view.get("demo", "DemoWeb.Endpoint", "server")
    assert server.value is True and server.conditions[0].env_names == ("PHX_SERVER",)
    assert view.get("demo", "from_app_env").value is True
    assert view.get("demo", "fallback").value == 5


def test_keyword_lists_joined_with_unreadable_parts_shadow_earlier_keys(tmp_path):
    view = view_of(tmp_path, {
        "config/config.exs": 'import Config\nconfig :demo, DemoWeb.Endpoint, server: true, url: [host: "a"]\n'
                             'import_config "#{config_env()}.exs"\n',
        "config/prod.exs": "import Config\n",
        "config/runtime.exs": 'import Config\nlistener = build_listener()\n'
                              'config :demo, DemoWeb.Endpoint, listener ++ [url: [host: System.fetch_env!("H")]]\n'
                              'config :demo, Demo.Repo, repo_options()\n',
    })
    assert view.get("demo", "DemoWeb.Endpoint", "server").value is True  # not erased by the unreadable part
    assert view.shadowed("demo", "DemoWeb.Endpoint", "server") is not None
    assert view.settled("demo", "DemoWeb.Endpoint", "server") is None
    host = view.get("demo", "DemoWeb.Endpoint", "url", "host")
    assert host.name == "H" and view.settled("demo", "DemoWeb.Endpoint", "url", "host") is host
    assert view.shadowed("demo", "Demo.Repo", "url") is not None


def test_a_list_of_pairs_with_a_computed_key_merges_as_a_keyword_list(tmp_path):
    view = view_of(tmp_path, {
        "config/config.exs": 'import Config\nimport_config("#{config_env()}.exs")\n',
        "config/prod.exs": "import Config\nconfig :demo, DemoWeb.Endpoint, server: true\n",
        "config/runtime.exs": 'import Config\nprotocol = if System.get_env("TLS") == "true", do: :https, else: :http\n'
                              'config :demo, DemoWeb.Endpoint, [{:url, [host: "x"]}, {protocol, [port: 4000]}]\n',
    })
    assert view.get("demo", "DemoWeb.Endpoint", "server").value is True  # kept: Config merges the new list in
    assert view.get("demo", "DemoWeb.Endpoint", "url", "host").value == "x"
    # {protocol, ...} sets :http or :https, nothing else.
    assert view.shadowed("demo", "DemoWeb.Endpoint", "https") is not None
    assert view.shadowed("demo", "DemoWeb.Endpoint", "server") is None


def test_config_inside_try_is_what_runs_when_nothing_raises(tmp_path):
    view = view_of(tmp_path, {
        "config/config.exs": 'import Config\nconfig :demo, DemoWeb.Endpoint, secret_key_base: "dev"\n',
        "config/runtime.exs": 'import Config\ntry do\n  skb = System.fetch_env!("SECRET_KEY_BASE")\n'
                              '  config :demo, DemoWeb.Endpoint, secret_key_base: skb\n'
                              'rescue\n  e -> System.halt(1)\nend\n'
                              'config :demo, :after, value: skb\n',  # unbound here: the try kept it
    })
    skb = view.get("demo", "DemoWeb.Endpoint", "secret_key_base")
    assert skb.name == "SECRET_KEY_BASE" and skb.required
    assert isinstance(view.get("demo", "after", "value"), Expr)


def test_reads_through_a_capture_of_system_get_env(tmp_path):
    """`env = &System.get_env/1` then `env.("NAME")`, also inside another fn: each read is listed,
    with its default and whether it raises when unset."""
    view = view_of(tmp_path, {"config/runtime.exs": '''
import Config
env = &System.get_env/1
fetch = &System.fetch_env!/1
on? = fn name -> env.(name) in ~w(1 true) end
if on?.("PHX_SERVER"), do: config(:demo, Demo.Endpoint, server: true)
secret = env.("SECRET_KEY_BASE") || raise "SECRET_KEY_BASE is missing"
config :demo, Demo.Endpoint, secret_key_base: secret, url: [host: env.("PHX_HOST") || "example.com"]
config :demo, :token, fetch.("API_TOKEN")
'''})
    reads = {r.name: r for r in view.reads}
    assert set(reads) == {"PHX_SERVER", "SECRET_KEY_BASE", "PHX_HOST", "API_TOKEN"}, reads
    assert reads["API_TOKEN"].required and reads["SECRET_KEY_BASE"].required and not reads["PHX_HOST"].required
    assert view.get("demo", "Demo.Endpoint", "url", "host").default.value == "example.com"


def test_cons_lists_and_keyword_lists_chosen_by_a_condition(tmp_path):
    """`[{:http, opts} | base]` is a keyword list, and a keyword list picked by an undecidable `if`
    sets each of its keys under that branch's condition, over what config.exs said."""
    view = view_of(tmp_path, {
        "config/config.exs": 'import Config\nconfig :demo, DemoWeb.Endpoint, url: [host: "localhost"]\n',
        "config/runtime.exs": '''import Config
base = [url: [host: System.fetch_env!("PHX_HOST")]]
endpoint = if System.get_env("PORT"), do: [{:http, [port: 4000]} | base], else: [{:server, false} | base]
config :demo, DemoWeb.Endpoint, endpoint
config :demo, :tail, [:a | unknown()]
'''})
    host = view.settled("demo", "DemoWeb.Endpoint", "url", "host")
    assert isinstance(host, EnvRead) and host.name == "PHX_HOST" and host.conditional
    assert view.get("demo", "DemoWeb.Endpoint", "http", "port").value == 4000
    assert view.get("demo", "DemoWeb.Endpoint", "server").value is False
    tail = view.get("demo", "tail")
    assert tail.partial and [i.value for i in tail.items] == [Atom("a")]

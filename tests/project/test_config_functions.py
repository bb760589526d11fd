"""Functions config code defines for itself: helper modules, anonymous functions, code-built lists."""

from pathlib import Path

from phoenix_ops.elixir.values import EnvRead, Expr, Lit
from phoenix_ops.project.config import evaluate_config
from phoenix_ops.project.files import SourceFile, scan
from phoenix_ops.project.mix import read_mix


def view_of(tmp_path: Path, runtime: str, config: str = "import Config\n", env: str = "prod"):
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config/config.exs").write_text(config)
    (tmp_path / "config/runtime.exs").write_text(runtime)
    return evaluate_config(scan(tmp_path), "config", env)


HELPER_MODULE = '''
import Config

defmodule Shop.ConfigHelpers do
  def random(length \\\\ 32), do: :crypto.strong_rand_bytes(length) |> Base.encode64() |> binary_part(0, length)
  def int(name, default), do: String.to_integer(System.get_env(name) || default)
  def pool(nodes) when nodes > 1, do: 5
  def pool(_nodes), do: 10
  def origin(host), do: "https://" <> host
end

config :shop, ShopWeb.Endpoint,
  secret_key_base: System.get_env("SECRET_KEY_BASE", Shop.ConfigHelpers.random(64)),
  http: [port: Shop.ConfigHelpers.int("PORT", "4000")],
  check_origin: [Shop.ConfigHelpers.origin("shop.example.com")]

config :shop, Shop.Repo, pool_size: Shop.ConfigHelpers.pool(3), queue_target: Shop.ConfigHelpers.pool(1)
'''


def test_helper_module_functions_are_evaluated_with_their_arguments(tmp_path):
    view = view_of(tmp_path, HELPER_MODULE)
    secret = view.get("shop", "ShopWeb.Endpoint", "secret_key_base")
    assert isinstance(secret, EnvRead) and secret.name == "SECRET_KEY_BASE"
    assert isinstance(secret.default, Expr) and "strong_rand_bytes" in secret.default.text
    port = view.get("shop", "ShopWeb.Endpoint", "http", "port")
    assert isinstance(port, EnvRead) and port.name == "PORT" and port.convert == "integer"
    assert port.default.value == "4000"
    assert [v.value for v in view.get("shop", "ShopWeb.Endpoint", "check_origin").items] == \
        ["https://shop.example.com"]
    assert view.get("shop", "Shop.Repo", "pool_size").value == 5  # guarded clause chosen
    assert view.get("shop", "Shop.Repo", "queue_target").value == 10
    assert not view.shadows  # calls of the file's own helpers are understood, not "may set anything"


def test_a_helper_body_beyond_the_evaluator_stays_unknown(tmp_path):
    view = view_of(tmp_path, '''
import Config
defmodule H do
  def secret, do: Vault.read!("kv/shop") |> Map.fetch!("secret")
  def loop(n), do: loop(n + 1)
end
config :shop, ShopWeb.Endpoint, secret_key_base: H.secret(), other: H.loop(1)
''')
    assert isinstance(view.get("shop", "ShopWeb.Endpoint", "secret_key_base"), Expr)
    assert isinstance(view.get("shop", "ShopWeb.Endpoint", "other"), Expr)  # recursion is not followed


NIL_DROPPING = '''
import Config

compact = fn opts -> Enum.reject(opts, fn {_key, value} -> is_nil(value) end) end

if config_env() == :prod do
  config :shop, ShopWeb.Endpoint,
    [secret_key_base: System.get_env("SECRET_KEY_BASE"), url: [host: System.get_env("PHX_HOST", "shop.example.com")]]
    |> compact.()

  config :shop, Shop.Mailer, compact.(api_key: System.get_env("MAILER_KEY"), adapter: Swoosh.Adapters.Mailgun)
end
'''


def test_an_anonymous_nil_dropping_filter_keeps_the_earlier_value_when_unset(tmp_path):
    view = view_of(tmp_path, NIL_DROPPING, config='import Config\n'
                   'config :shop, ShopWeb.Endpoint, secret_key_base: "compile-time-secret"\n')
    history = view.history("shop", "ShopWeb.Endpoint", "secret_key_base")
    assert [type(v) for v in history] == [Lit, EnvRead]
    assert history[-1].conditions[0].text == "SECRET_KEY_BASE set"
    assert history[-1].conditions[0].env_names == ("SECRET_KEY_BASE",)
    host = view.get("shop", "ShopWeb.Endpoint", "url")  # a keyword list value is never nil
    assert host is None and view.get("shop", "ShopWeb.Endpoint", "url", "host").name == "PHX_HOST"
    key = view.get("shop", "Shop.Mailer", "api_key")
    assert key.conditional and view.get("shop", "Shop.Mailer", "adapter").value.name == "Swoosh.Adapters.Mailgun"


def test_for_builds_a_list(tmp_path):
    view = view_of(tmp_path, '''
import Config
config :shop, :origins, (for host <- ~w(a.example b.example), host != "b.example", do: "https://" <> host)
for name <- [:one, :two] do
  config :shop, name, enabled: true
end
''')
    assert [v.value for v in view.get("shop", "origins").items] == ["https://a.example"]
    assert view.get("shop", "two", "enabled").value is True


def test_deps_built_by_code_are_read(tmp_path):
    mix = SourceFile("mix.exs", b'''
defmodule Shop.MixProject do
  use Mix.Project
  @phoenix_deps ~w(phoenix phoenix_html phoenix_live_view)a

  def project, do: [app: :shop, version: "0.1.0", deps: deps()]

  defp deps do
    for(dep <- @phoenix_deps, do: {dep, ">= 0.0.0"}) ++ [{:ecto_sql, "~> 3.10"}] ++ extra(:bandit)
  end

  defp extra(server), do: [{server, "~> 1.5"}]
end
''')
    project = read_mix(mix)
    assert set(project.deps) == {"phoenix", "phoenix_html", "phoenix_live_view", "ecto_sql", "bandit"}

"""A well-configured Phoenix 1.7 project in the generator's shapes; tests change one file at a time."""

GOOD = {
    "mix.exs": '''
defmodule Demo.MixProject do
  use Mix.Project

  def project do
    [app: :demo, version: "0.1.0", elixir: "~> 1.14", deps: deps()]
  end

  defp deps do
    [{:phoenix, "~> 1.7.14"}, {:ecto_sql, "~> 3.10"}, {:postgrex, ">= 0.0.0"}, {:bandit, "~> 1.5"},
     {:prom_ex, "~> 1.9"}, {:opentelemetry_phoenix, "~> 2.0"}, {:logger_json, "~> 6.0"}]
  end
end
''',
    "config/config.exs": '''
import Config
config :demo, ecto_repos: [Demo.Repo]
config :demo, DemoWeb.Endpoint, url: [host: "localhost"], live_view: [signing_salt: "aBcD1234"]
import_config "#{config_env()}.exs"
''',
    "config/dev.exs": '''
import Config
config :demo, Demo.Repo, username: "postgres", password: "postgres", database: "demo_dev"
config :demo, DemoWeb.Endpoint, secret_key_base: "short-dev-secret"
''',
    "config/test.exs": "import Config\n",
    "config/prod.exs": '''
import Config
config :demo, DemoWeb.Endpoint, cache_static_manifest: "priv/static/cache_manifest.json"
config :demo, DemoWeb.Endpoint, force_ssl: [rewrite_on: [:x_forwarded_proto]]
''',
    "config/runtime.exs": '''
import Config

if System.get_env("PHX_SERVER") do
  config :demo, DemoWeb.Endpoint, server: true
end

if config_env() == :prod do
  config :logger, level: String.to_existing_atom(System.get_env("LOGGER_LEVEL", "info"))

  database_url =
    System.get_env("DATABASE_URL") ||
      raise """
      environment variable DATABASE_URL is missing.
      """

  maybe_ipv6 = if System.get_env("ECTO_IPV6") in ~w(true 1), do: [:inet6], else: []

  config :demo, Demo.Repo,
    ssl: true,
    url: database_url,
    pool_size: String.to_integer(System.get_env("POOL_SIZE") || "10"),
    socket_options: maybe_ipv6

  secret_key_base =
    System.get_env("SECRET_KEY_BASE") ||
      raise """
      environment variable SECRET_KEY_BASE is missing.
      """

  host = System.get_env("PHX_HOST") || "example.com"
  port = String.to_integer(System.get_env("PORT") || "4000")

  config :demo, DemoWeb.Endpoint,
    url: [host: host, port: 443, scheme: "https"],
    http: [ip: {0, 0, 0, 0, 0, 0, 0, 0}, http_1_options: [max_header_length: 8192], port: port],
    secret_key_base: secret_key_base
end
''',
    "lib/demo/repo.ex": "defmodule Demo.Repo do\n  use Ecto.Repo, otp_app: :demo, adapter: Ecto.Adapters.Postgres\nend\n",
    "lib/demo/release.ex": '''
defmodule Demo.Release do
  @app :demo
  def migrate do
    for repo <- Application.fetch_env!(@app, :ecto_repos) do
      {:ok, _, _} = Ecto.Migrator.with_repo(repo, &Ecto.Migrator.run(&1, :up, all: true))
    end
  end
end
''',
    "lib/demo_web/endpoint.ex": '''
defmodule DemoWeb.Endpoint do
  use Phoenix.Endpoint, otp_app: :demo

  @session_options [
    store: :cookie,
    key: "_demo_key",
    signing_salt: "zYxW9876",
    encryption_salt: "q8Rt5Yu1",
    same_site: "Lax"
  ]

  socket "/live", Phoenix.LiveView.Socket, websocket: [connect_info: [session: @session_options]]
  plug Plug.Static, at: "/", from: :demo, gzip: true
  plug Plug.Telemetry, event_prefix: [:phoenix, :endpoint]
  plug Plug.Session, @session_options
  plug DemoWeb.Router
end
''',
    "rel/overlays/bin/server": "#!/bin/sh\ncd -P -- \"$(dirname -- \"$0\")\"\nPHX_SERVER=true exec ./demo start\n",
}


def ids(found):
    return sorted(f.rule_id for f in found)


def runtime_without(fragment: str) -> str:
    body = GOOD["config/runtime.exs"]
    assert fragment.strip() in body
    return body.replace(fragment.strip(), "")

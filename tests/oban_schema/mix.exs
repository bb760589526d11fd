# Runs Oban's own migrations against a database: the real schema for the `jobs` tests.
# Builds offline from the phoenix-stack sources (PHOENIX_STACK_DEPS), like the fixture app.
Code.require_file(Path.join(System.fetch_env!("PHOENIX_STACK"), "offline_scm.exs"))

defmodule ObanSchema.MixProject do
  use Mix.Project

  @deps ~w(oban ecto_sql ecto postgrex db_connection decimal jason telemetry)a

  def project do
    [app: :oban_schema, version: "0.1.0", elixir: "~> 1.14", deps: deps()]
  end

  def application, do: [extra_applications: [:logger]]

  defp deps do
    root = System.fetch_env!("PHOENIX_STACK_DEPS")
    for name <- @deps, do: {name, path: Path.join(root, Atom.to_string(name)), override: true}
  end
end

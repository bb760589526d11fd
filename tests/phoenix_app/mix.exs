# A phx.new-shaped application used by phoenix-ops' tests as "a running Phoenix app". It builds
# without Hex: every library is a path dependency into an unpacked phoenix-stack deps folder, and the
# stack's offline SCM lets Mix parse the libraries' own hex-style requirements before the override.
stack = System.fetch_env!("PHOENIX_STACK")
Code.require_file("offline_scm.exs", stack)

defmodule PhxFixture.MixProject do
  use Mix.Project

  @libraries ~w(phoenix phoenix_pubsub phoenix_template phoenix_html phoenix_live_view plug plug_crypto
    mime telemetry telemetry_metrics telemetry_poller websock websock_adapter bandit thousand_island hpax
    jason castore ecto ecto_sql postgrex db_connection decimal phoenix_ecto oban libcluster
    telemetry_metrics_prometheus_core dns_cluster)a

  # FIXTURE_VSN=2 builds the second version: another migration and a changed asset.
  @generation String.to_integer(System.get_env("FIXTURE_VSN", "1"))

  def project do
    [
      app: :phx_fixture,
      version: "0.#{@generation}.0",
      elixir: "~> 1.14",
      elixirc_paths: ["lib"],
      start_permanent: Mix.env() == :prod,
      aliases: aliases(),
      deps: deps(),
      releases: [phx_fixture: [include_executables_for: [:unix], steps: [:assemble, :tar]]]
    ]
  end

  def application do
    [mod: {PhxFixture.Application, []}, extra_applications: [:logger, :runtime_tools, :crypto]]
  end

  defp deps do
    root = System.fetch_env!("PHOENIX_DEPS")
    for name <- @libraries, do: {name, path: Path.join(root, Atom.to_string(name)), override: true}
  end

  defp aliases do
    ["assets.deploy": ["phx_fixture.assets", "phx.digest"]]
  end
end

defmodule Mix.Tasks.PhxFixture.Assets do
  @shortdoc "Copies the app's assets and the Phoenix/LiveView clients into priv/static/assets"
  @moduledoc "No bundler: the clients come from the libraries' own priv/static, as built files."
  use Mix.Task

  @impl true
  def run(_args) do
    out = Path.join(["priv", "static", "assets"])
    File.mkdir_p!(out)
    for file <- File.ls!("assets"), do: File.cp!(Path.join("assets", file), Path.join(out, file))

    for {app, file} <- [phoenix: "phoenix.min.js", phoenix_live_view: "phoenix_live_view.min.js"] do
      File.cp!(Path.join([Mix.Project.deps_paths()[app], "priv", "static", file]), Path.join(out, file))
    end

    generation = System.get_env("FIXTURE_VSN", "1")
    File.write!(Path.join(out, "generation.css"), "body::after{content:'generation #{generation}'}\n")
  end
end

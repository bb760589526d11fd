defmodule PhxFixtureWeb.Router do
  use PhxFixtureWeb, :router

  pipeline :browser do
    plug :accepts, ["html"]
    plug :fetch_session
    plug :fetch_live_flash
    plug :put_root_layout, html: {PhxFixtureWeb.Layouts, :root}
    plug :protect_from_forgery
    plug :put_secure_browser_headers
    plug :hardened_headers
  end

  pipeline :api do
    plug :accepts, ["json"]
  end

  scope "/", PhxFixtureWeb do
    pipe_through :browser

    get "/", PageController, :home
    live "/counter", CounterLive
  end

  scope "/api", PhxFixtureWeb do
    pipe_through :api

    post "/jobs", JobController, :create
  end

  scope "/", PhxFixtureWeb do
    get "/metrics", MetricsController, :scrape
  end

  # HARDEN=1: a content security policy beyond put_secure_browser_headers' defaults.
  defp hardened_headers(conn, _opts) do
    if PhxFixtureWeb.Knobs.get(:harden) do
      put_secure_browser_headers(conn, %{
        "content-security-policy" =>
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " <>
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        "permissions-policy" => "camera=(), microphone=(), geolocation=()"
      })
    else
      conn
    end
  end
end

import Config

config :phx_fixture,
  ecto_repos: [PhxFixture.Repo],
  generators: [timestamp_type: :utc_datetime]

config :phx_fixture, PhxFixtureWeb.Endpoint,
  url: [host: "localhost"],
  adapter: Bandit.PhoenixAdapter,
  render_errors: [
    formats: [html: PhxFixtureWeb.ErrorHTML, json: PhxFixtureWeb.ErrorJSON],
    layout: false
  ],
  pubsub_server: PhxFixture.PubSub,
  live_view: [signing_salt: "q3Vb9xKd"]

config :logger, :console,
  format: "$time $metadata[$level] $message\n",
  metadata: [:request_id]

config :phoenix, :json_library, Jason

import_config "#{config_env()}.exs"

import Config

config :phx_fixture, PhxFixtureWeb.Endpoint, cache_static_manifest: "priv/static/cache_manifest.json"

config :logger, level: :info

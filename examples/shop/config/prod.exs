import Config

# The host is pinned here, so every environment built from this config thinks it is localhost.
config :shop, ShopWeb.Endpoint,
  url: [host: "localhost", port: 80],
  cache_static_manifest: "priv/static/cache_manifest.json"

# Read when the release is built, not when it boots.
config :shop, :sentry_dsn, System.get_env("SENTRY_DSN")

config :logger, level: :info

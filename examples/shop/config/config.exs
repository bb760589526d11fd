import Config

config :shop,
  ecto_repos: [Shop.Repo],
  generators: [timestamp_type: :utc_datetime]

config :shop, ShopWeb.Endpoint,
  url: [host: "localhost"],
  adapter: Bandit.PhoenixAdapter,
  render_errors: [formats: [html: ShopWeb.ErrorHTML], layout: false],
  pubsub_server: Shop.PubSub,
  live_view: [signing_salt: "q1w2e3r4"]

config :logger, :console, format: "$time $metadata[$level] $message\n"

config :phoenix, :json_library, Jason

import_config "#{config_env()}.exs"

config :shop, Oban,
  repo: Shop.Repo,
  queues: [default: 10, mailers: 20],
  plugins: [{Oban.Plugins.Cron, crontab: [{"0 3 * * *", Shop.Workers.Cleanup}]}]

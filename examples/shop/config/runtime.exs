import Config

if config_env() == :prod do
  database_url =
    System.get_env("DATABASE_URL") ||
      raise """
      environment variable DATABASE_URL is missing.
      For example: ecto://USER:PASS@HOST/DATABASE
      """

  config :shop, Shop.Repo,
    url: database_url,
    pool_size: 10

  secret_key_base = System.get_env("SECRET_KEY_BASE") || "change-me-in-production"

  config :shop, ShopWeb.Endpoint,
    http: [ip: {0, 0, 0, 0, 0, 0, 0, 0}, port: String.to_integer(System.get_env("PORT") || "4000")],
    secret_key_base: secret_key_base,
    force_ssl: [hsts: true]

  config :shop, Shop.Mailer, api_key: System.fetch_env!("MAILER_API_KEY")
end

config :shop, :dns_cluster_query, System.get_env("DNS_CLUSTER_QUERY")

import Config

config :shop, Shop.Repo,
  username: "postgres",
  password: "postgres",
  database: "shop_test#{System.get_env("MIX_TEST_PARTITION")}",
  pool: Ecto.Adapters.SQL.Sandbox

config :shop, ShopWeb.Endpoint,
  http: [port: 4002],
  secret_key_base: "test-only-secret-key-base-test-only-secret-key-base-test-only-0123",
  server: false

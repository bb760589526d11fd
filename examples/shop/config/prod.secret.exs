import Config

# Left over from the 1.5 layout; nothing imports it any more.
config :shop, Shop.Payments, api_token: System.get_env("PAYMENTS_TOKEN")

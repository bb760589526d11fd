defmodule ShopWeb.Presence do
  @moduledoc "Who is looking at a product right now."
  use Phoenix.Presence, otp_app: :shop, pubsub_server: Shop.PubSub
end

defmodule Shop.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      ShopWeb.Telemetry,
      Shop.Repo,
      {Phoenix.PubSub, name: Shop.PubSub},
      ShopWeb.Endpoint,
      {DNSCluster, query: Application.get_env(:shop, :dns_cluster_query) || :ignore},
      {Oban, Application.fetch_env!(:shop, Oban)}
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: Shop.Supervisor)
  end
end

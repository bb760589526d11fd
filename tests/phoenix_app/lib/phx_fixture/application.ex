defmodule PhxFixture.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    use_nameserver(PhxFixtureWeb.Knobs.get(:nameserver))
    database? = Application.get_env(:phx_fixture, PhxFixture.Repo) != nil
    topologies = Application.get_env(:libcluster, :topologies, [])

    children =
      [PhxFixtureWeb.Telemetry] ++
        if(database?, do: [PhxFixture.Repo], else: []) ++
        [{DNSCluster, query: dns_query(Application.get_env(:phx_fixture, :dns_cluster_query))}] ++
        if(topologies != [], do: [{Cluster.Supervisor, [topologies, [name: PhxFixture.ClusterSupervisor]]}], else: []) ++
        [{Phoenix.PubSub, name: PhxFixture.PubSub}, PhxFixtureWeb.Presence] ++
        if(database?, do: [{Oban, Application.fetch_env!(:phx_fixture, Oban)}], else: []) ++
        [PhxFixtureWeb.Endpoint]

    Supervisor.start_link(children, strategy: :one_for_one, name: PhxFixture.Supervisor)
  end

  @impl true
  def config_change(changed, _new, removed) do
    PhxFixtureWeb.Endpoint.config_change(changed, removed)
    :ok
  end

  # "basename@name,..." asks for other basenames (nodes sharing one loopback address); a bare name
  # is dns_cluster's usual form.
  defp dns_query(nil), do: :ignore

  defp dns_query(query) do
    for item <- String.split(query, ",", trim: true) do
      case String.split(item, "@", parts: 2) do
        [basename, name] -> {basename, name}
        [name] -> name
      end
    end
  end

  # A test DNS server on loopback ("127.0.0.1:5353") replaces the system's resolvers.
  defp use_nameserver(nil), do: :ok

  defp use_nameserver(address) do
    [host, port] = String.split(address, ":")
    {:ok, ip} = :inet.parse_address(String.to_charlist(host))
    # inet_db reads resolv.conf at the first lookup and would put its servers back: read it now.
    :ok = :inet_db.res_option(:resolv_conf, :inet_db.res_option(:resolv_conf))
    :ok = :inet_db.res_option(:nameservers, [{ip, String.to_integer(port)}])
  end
end

import Config

# The release reads its configuration here at boot. Tests vary behaviour through these variables,
# so one build serves them all; without any of them the app runs as `mix phx.new` generated it.
env = &System.get_env/1
on? = fn name -> env.(name) in ~w(1 true yes) end
list = fn name -> (env.(name) || "") |> String.split(",", trim: true) end

if on?.("PHX_SERVER"), do: config(:phx_fixture, PhxFixtureWeb.Endpoint, server: true)

if config_env() == :prod do
  # Web-only without a database: no Repo and no Oban are started.
  if database_url = env.("DATABASE_URL") do
    config :phx_fixture, PhxFixture.Repo,
      url: database_url,
      pool_size: String.to_integer(env.("POOL_SIZE") || "5")

    config :phx_fixture, Oban,
      repo: PhxFixture.Repo,
      queues: [default: 5, mailers: 2],
      plugins: [{Oban.Plugins.Pruner, max_age: 3600}]
  end

  secret_key_base =
    env.("SECRET_KEY_BASE") ||
      raise "environment variable SECRET_KEY_BASE is missing. You can generate one by calling: mix phx.gen.secret"

  host = env.("PHX_HOST") || "example.com"
  port = String.to_integer(env.("PORT") || "4000")
  {:ok, ip} = :inet.parse_address(String.to_charlist(env.("PHX_IP") || "::"))

  config :phx_fixture, :dns_cluster_query, env.("DNS_CLUSTER_QUERY")

  config :phx_fixture, PhxFixtureWeb.Endpoint,
    url: [host: host, port: 443, scheme: "https"],
    http: [ip: ip, port: port],
    secret_key_base: secret_key_base,
    check_origin:
      (case env.("CHECK_ORIGIN") do
         nil -> true
         "false" -> false
         _ -> list.("CHECK_ORIGIN")
       end)

  # Fixture knobs (read at runtime by PhxFixtureWeb.Knobs).
  config :phx_fixture, :knobs,
    encrypt_session: on?.("SESSION_ENCRYPT"),
    longpoll: env.("LONGPOLL") != "false",
    harden: on?.("HARDEN"),
    metrics: env.("METRICS") != "false",
    metrics_token: env.("METRICS_TOKEN"),
    max_body: String.to_integer(env.("MAX_BODY") || "8000000"),
    nameserver: env.("DNS_NAMESERVER"),
    fault_5xx_share: elem(Float.parse(env.("FAULT_5XX_SHARE") || "0"), 0),
    fault_delay_ms: if(delay = env.("FAULT_DELAY_MS"), do: String.to_integer(delay))

  config :libcluster,
    topologies:
      (case list.("CLUSTER_HOSTS") do
         [] -> []
         hosts -> [epmd: [strategy: Cluster.Strategy.Epmd, config: [hosts: Enum.map(hosts, &String.to_atom/1)]]]
       end)
end

"""Generate a large synthetic Phoenix 1.7 project for the `check` benchmark.

    python bench/gen_project.py [OUT] [--scale 1.0] [--seed 1]

At scale 1.0 the project (app `:atlas`) has 2,688 modules in lib/ (7.7 MB), 320 migrations, tests
(3.0 MB) and 10.9 MB of Elixir source in all: about five times the largest real apps measured
(firezone's elixir/ 538 lib files / 4.1 MB, glific 517 / 3.3 MB, hexpm 414 / 1.8 MB, pleroma 535 /
1.8 MB), with tests about as large as lib/ is in those apps. Same seed, same bytes. It has the
shapes a Phoenix app has: contexts with their schemas, LiveViews with form components, JSON
controllers, Oban workers, two repos, an endpoint plus an internal metrics endpoint, a router of
1,500 lines, config/*.exs (with a staging env) and a runtime.exs of 300 lines reading about 180
environment variables, migrations of several kinds, tests and HEEx templates.

The byte prefilter decides which lib files get parsed, so the words it looks for appear in the
same share of lib files as in those four real apps (share of lib .ex files that contain the word):

    word                 real apps        here     where it appears here
    Oban                 4.9 - 12.6 %     8.4 %    workers (`use Oban.Worker`) and the contexts enqueueing them
    Logger               8 - 23 %         15.8 %   `require Logger` in workers, contexts, LiveViews
    Application.get_env  1.4 - 7.4 %      4.2 %    settings read by contexts, LiveViews, controllers
    compile_env          0 - 2.0 %        1.3 %    module attributes (and the router's dev_routes guard)
    Mix.env              0.2 - 1.7 %      0.8 %    `@env Mix.env()` attributes
    System.get_env       0.4 - 0.9 %      0.5 %    feature switches read at runtime
    System.fetch_env     0 - 0.2 %        0.15 %   required settings read at runtime
    Ecto.Repo            0.4 - 1.1 %      0.7 %    2 repos, and comments pointing at Ecto.Repo.transaction/2
    Phoenix.Presence     0 - 0.4 %        1 file   the presence module (LiveViews call it by its own name)
    Ecto.Migrator        1 - 3 files      2 files  release.ex and a migrate-on-boot child in application.ex
    Phoenix.Endpoint     1 - 4 files      2 files  2 endpoints; 2 routers; `use Application` once

With today's prefilter words that is 2.9 % of lib files and 5.8 % of their bytes (real: 2.7 - 5.2 %
of files); adding Oban, Mix.env and Phoenix.Presence brings it to 11.6 %. Everything else
(schemas, most contexts and LiveViews, tests, templates) is read and must be skipped cheaply, as in
a real app.
"""

from __future__ import annotations

import argparse
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from string import Template

APP, MOD = "atlas", "Atlas"
CONTEXTS_AT_SCALE_1 = 160
MIGRATIONS_AT_SCALE_1 = 320

# Share of all lib files that mention each word (see the docstring). Only contexts, query modules,
# LiveViews and controllers carry them, about ELIGIBLE of all lib files, so each of those rolls
# RATE / ELIGIBLE. A context has an Oban worker at WORKER; worker and context then both say Oban,
# and every worker requires Logger (4 % of files, on top of RATE).
RATE = {"logger": 0.11, "get_env": 0.04, "compile_env": 0.015, "mix_env": 0.01, "system_get_env": 0.007,
        "fetch_env": 0.002, "repo_doc": 0.003}
ELIGIBLE = 0.4
WORKER = 0.7

DOMAINS = ["Accounts", "Billing", "Catalog", "Inventory", "Shipping", "Orders", "Payments", "Support",
           "Reports", "Messaging", "Scheduling", "Compliance", "Pricing", "Marketing", "Analytics",
           "Documents", "Identity", "Projects", "Teams", "Storage", "Search", "Notifications",
           "Integrations", "Audit", "Forecasts", "Contracts", "Vendors", "Assets", "Policies", "Surveys"]
QUALIFIERS = ["", "Admin", "Sync", "Portal", "Legacy", "Internal"]
NOUNS = ["Account", "Invoice", "Product", "Item", "Shipment", "Order", "Payment", "Ticket", "Report",
         "Message", "Slot", "Rule", "Price", "Campaign", "Event", "Document", "Token", "Project",
         "Member", "Bucket", "Query", "Alert", "Webhook", "Entry", "Forecast", "Contract", "Vendor",
         "Asset", "Policy", "Survey", "Answer", "Comment", "Tag", "Note", "Address", "Credential",
         "Discount", "Refund", "Batch", "Schedule", "Attachment", "Approval", "Quota", "Region"]
FIELDS = [("name", "string"), ("title", "string"), ("status", "string"), ("description", "text"),
          ("amount_cents", "integer"), ("position", "integer"), ("enabled", "boolean"),
          ("starts_at", "utc_datetime"), ("ends_at", "utc_datetime"), ("metadata", "map"),
          ("external_id", "string"), ("priority", "integer"), ("notes", "text"), ("score", "float"),
          ("currency", "string"), ("email", "string"), ("locale", "string"), ("archived_at", "utc_datetime")]


def snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))


def plural(word: str) -> str:
    if word.endswith("y"):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "ch", "x")) else "s")


@dataclass
class Schema:
    name: str
    table: str
    fields: list[tuple[str, str]]


@dataclass
class Context:
    name: str
    schemas: list[Schema]
    worker: bool

    @property
    def snake(self) -> str:
        return snake(self.name)


class Writer:
    """Writes files under the output root and counts what it wrote."""

    def __init__(self, root: Path):
        self.root = root
        self.files = 0
        self.bytes = 0

    def __call__(self, rel: str, body: str, **subst: str) -> None:
        text = Template(body).substitute(app=APP, mod=MOD, **subst) if subst or "$" in body else body
        path = self.root / Template(rel).substitute(app=APP)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.lstrip("\n").encode()
        path.write_bytes(data)
        self.files += 1
        self.bytes += len(data)


def plan(rng: random.Random, scale: float) -> list[Context]:
    count = max(1, round(CONTEXTS_AT_SCALE_1 * scale))
    names = [d + q for q in QUALIFIERS for d in DOMAINS][:count]
    used: set[str] = set()
    contexts = []
    for name in names:
        schemas = []
        for noun in rng.sample(NOUNS, rng.randint(4, 8)):
            schema_name = noun if noun not in used else f"{name}{noun}"
            used.add(schema_name)
            fields = rng.sample(FIELDS, rng.randint(5, 11))
            schemas.append(Schema(schema_name, f"{snake(name)}_{plural(snake(noun))}", fields))
        contexts.append(Context(name, schemas, rng.random() < WORKER))
    return contexts


def generate(out: Path, scale: float = 1.0, seed: int = 1) -> dict:
    """Write the project into `out` (emptied first) and return what was written."""
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    contexts = plan(rng, scale)
    w = Writer(out)
    write_project_files(w, contexts)
    write_config(w, contexts)
    write_core(w)
    write_router(w, contexts)
    for ctx in contexts:
        write_context(w, rng, ctx)
    migrations = write_migrations(w, rng, contexts, max(1, round(MIGRATIONS_AT_SCALE_1 * scale)))
    return {"files": w.files, "bytes": w.bytes, "contexts": len(contexts), "migrations": migrations}


# --- project files -----------------------------------------------------------------------------

DEPS = [("phoenix", "1.7.14"), ("phoenix_ecto", "4.6.2"), ("ecto_sql", "3.12.0"), ("postgrex", "0.19.1"),
        ("phoenix_html", "4.1.1"), ("phoenix_live_reload", "1.5.3"), ("phoenix_live_view", "1.0.0"),
        ("phoenix_live_dashboard", "0.8.4"), ("esbuild", "0.8.1"), ("tailwind", "0.2.3"),
        ("swoosh", "1.17.1"), ("finch", "0.19.0"), ("telemetry_metrics", "1.0.0"),
        ("telemetry_poller", "1.1.0"), ("gettext", "0.26.1"), ("jason", "1.4.4"), ("dns_cluster", "0.1.3"),
        ("bandit", "1.5.7"), ("oban", "2.18.3"), ("ex_aws", "2.5.4"), ("ex_aws_s3", "2.5.3"),
        ("sentry", "10.7.1"), ("hackney", "1.20.1"), ("req", "0.5.6"), ("nimble_csv", "1.2.0"),
        ("timex", "3.7.11"), ("ex_machina", "2.8.0"), ("floki", "0.36.2"), ("mox", "1.1.0")]
ONLY = {"phoenix_live_reload": "only: :dev", "esbuild": "runtime: Mix.env() == :dev",
        "tailwind": "runtime: Mix.env() == :dev", "floki": "only: :test", "mox": "only: :test",
        "ex_machina": "only: :test"}


def write_project_files(w: Writer, contexts: list[Context]) -> None:
    deps = ",\n".join(f'      {{:{n}, "~> {".".join(v.split(".")[:2])}"' + (f", {ONLY[n]}}}" if n in ONLY else "}")
                      for n, v in DEPS)
    w("mix.exs", """
defmodule $mod.MixProject do
  use Mix.Project

  def project do
    [
      app: :$app,
      version: "0.1.0",
      elixir: "~> 1.14",
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      aliases: aliases(),
      deps: deps(),
      releases: [$app: [include_executables_for: [:unix], applications: [runtime_tools: :permanent]]]
    ]
  end

  def application do
    [mod: {$mod.Application, []}, extra_applications: [:logger, :runtime_tools, :os_mon]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp deps do
    [
$deps
    ]
  end

  defp aliases do
    [
      setup: ["deps.get", "ecto.setup", "assets.setup", "assets.build"],
      "ecto.setup": ["ecto.create", "ecto.migrate", "run priv/repo/seeds.exs"],
      "ecto.reset": ["ecto.drop", "ecto.setup"],
      test: ["ecto.create --quiet", "ecto.migrate --quiet", "test"],
      "assets.setup": ["tailwind.install --if-missing", "esbuild.install --if-missing"],
      "assets.build": ["tailwind $app", "esbuild $app"],
      "assets.deploy": ["tailwind $app --minify", "esbuild $app --minify", "phx.digest"]
    ]
  end
end
""", deps=deps)
    lock = "".join(f'  "{n}": {{:hex, :{n}, "{v}", "{_hash(n, v)}", [:mix], [], "hexpm", "{_hash(v, n)}"}},\n'
                   for n, v in sorted(DEPS))
    w("mix.lock", "%{\n" + lock + "}\n")
    w(".formatter.exs", '[\n  import_deps: [:ecto, :ecto_sql, :phoenix],\n  inputs: ["*.{heex,ex,exs}", '
                        '"{config,lib,test}/**/*.{heex,ex,exs}"]\n]\n')
    w("rel/overlays/bin/server", '#!/bin/sh\nset -eu\ncd -P -- "$$(dirname -- "$$0")"\n'
                                 'PHX_SERVER=true exec ./$app start\n')
    w("rel/overlays/bin/migrate", '#!/bin/sh\nset -eu\ncd -P -- "$$(dirname -- "$$0")"\n'
                                  'exec ./$app eval $mod.Release.migrate\n')
    w("Dockerfile", """
ARG ELIXIR_VERSION=1.17.3
ARG OTP_VERSION=27.1.2
ARG DEBIAN_VERSION=bookworm-20241016-slim
ARG BUILDER_IMAGE="hexpm/elixir:$${ELIXIR_VERSION}-erlang-$${OTP_VERSION}-debian-$${DEBIAN_VERSION}"
ARG RUNNER_IMAGE="debian:$${DEBIAN_VERSION}"

FROM $${BUILDER_IMAGE} AS builder
RUN apt-get update -y && apt-get install -y build-essential git && apt-get clean
WORKDIR /app
RUN mix local.hex --force && mix local.rebar --force
ENV MIX_ENV="prod"
COPY mix.exs mix.lock ./
RUN mix deps.get --only $$MIX_ENV
COPY config/config.exs config/$${MIX_ENV}.exs config/
RUN mix deps.compile
COPY priv priv
COPY lib lib
COPY assets assets
RUN mix assets.deploy
RUN mix compile
COPY config/runtime.exs config/
COPY rel rel
RUN mix release

FROM $${RUNNER_IMAGE}
RUN apt-get update -y && apt-get install -y libstdc++6 openssl libncurses5 locales ca-certificates \\
  && apt-get clean && rm -f /var/lib/apt/lists/*_*
WORKDIR "/app"
RUN chown nobody /app
ENV MIX_ENV="prod"
COPY --from=builder --chown=nobody:root /app/_build/$${MIX_ENV}/rel/$app ./
USER nobody
CMD ["/app/bin/server"]
""")


def _hash(a: str, b: str) -> str:
    return random.Random(a + b).getrandbits(256).to_bytes(32, "big").hex()


# --- config --------------------------------------------------------------------------------------

INTEGRATIONS = ["stripe", "sendgrid", "twilio", "slack", "github", "google", "okta", "hubspot", "zendesk",
                "segment", "mixpanel", "datadog", "pagerduty", "algolia", "mapbox", "openai", "s3", "gcs",
                "shopify", "salesforce", "intercom", "mailchimp", "plaid", "docusign", "jira", "linear",
                "notion", "airtable", "box", "dropbox", "zoom", "calendly", "xero", "quickbooks", "avalara",
                "taxjar", "easypost", "shippo", "recurly", "chargebee"]


def write_config(w: Writer, contexts: list[Context]) -> None:
    queues = ", ".join(f"{c.snake}: 5" for c in contexts if c.worker)
    settings = "".join(f"config :{APP}, {MOD}.{c.name}, page_size: {20 + i % 5 * 10}, "
                       f"export_batch: {500 + i % 3 * 250}, soft_delete: {str(i % 2 == 0).lower()}\n"
                       for i, c in enumerate(contexts) if i % 3 == 0)
    w("config/config.exs", """
import Config

config :$app,
  ecto_repos: [$mod.Repo],
  generators: [timestamp_type: :utc_datetime, binary_id: true]

config :$app, $mod.Repo, migration_primary_key: [type: :binary_id], migration_timestamps: [type: :utc_datetime]

config :$app, ${mod}Web.Endpoint,
  url: [host: "localhost"],
  adapter: Bandit.PhoenixAdapter,
  render_errors: [
    formats: [html: ${mod}Web.ErrorHTML, json: ${mod}Web.ErrorJSON],
    layout: false
  ],
  pubsub_server: $mod.PubSub,
  live_view: [signing_salt: "kX3f9QbN"]

config :$app, ${mod}Web.MetricsEndpoint, http: [port: 9568], server: false

config :$app, Oban,
  engine: Oban.Engines.Basic,
  repo: $mod.Repo,
  plugins: [{Oban.Plugins.Pruner, max_age: 7 * 24 * 60 * 60}, Oban.Plugins.Lifeline],
  queues: [default: 10, mailers: 20, $queues]

config :$app, $mod.Mailer, adapter: Swoosh.Adapters.Local

config :esbuild,
  version: "0.17.11",
  $app: [
    args: ~w(js/app.js --bundle --target=es2017 --outdir=../priv/static/assets --external:/fonts/* --external:/images/*),
    cd: Path.expand("../assets", __DIR__),
    env: %{"NODE_PATH" => Path.expand("../deps", __DIR__)}
  ]

config :tailwind,
  version: "3.4.3",
  $app: [
    args: ~w(--config=tailwind.config.js --input=css/app.css --output=../priv/static/assets/app.css),
    cd: Path.expand("../assets", __DIR__)
  ]

config :logger, :console,
  format: "$$time $$metadata[$$level] $$message\\n",
  metadata: [:request_id, :user_id, :tenant_id]

config :phoenix, :json_library, Jason

$settings
import_config "#{config_env()}.exs"
""", queues=queues, settings=settings)
    w("config/dev.exs", """
import Config

config :$app, $mod.Repo,
  username: "postgres",
  password: "postgres",
  hostname: "localhost",
  database: "${app}_dev",
  stacktrace: true,
  show_sensitive_data_on_connection_error: true,
  pool_size: 10

config :$app, ${mod}Web.Endpoint,
  http: [ip: {127, 0, 0, 1}, port: 4000],
  check_origin: false,
  code_reloader: true,
  debug_errors: true,
  secret_key_base: "dev-only-0bV9s3r8W1kq7Lx2Zp5Mn4Hc6Jd8Fg0Ty2Ru4Ei6Wo8Qa1Sz3Xc5Vb7Nm9Ll",
  watchers: [
    esbuild: {Esbuild, :install_and_run, [:$app, ~w(--sourcemap=inline --watch)]},
    tailwind: {Tailwind, :install_and_run, [:$app, ~w(--watch)]}
  ]

config :$app, ${mod}Web.Endpoint,
  live_reload: [
    patterns: [
      ~r"priv/static/(?!uploads/).*(js|css|png|jpeg|jpg|gif|svg)$$",
      ~r"priv/gettext/.*(po)$$",
      ~r"lib/${app}_web/(controllers|live|components)/.*(ex|heex)$$"
    ]
  ]

config :$app, dev_routes: true
config :logger, :console, format: "[$$level] $$message\\n"
config :phoenix, :stacktrace_depth, 20
config :phoenix, :plug_init_mode, :runtime
config :phoenix_live_view, debug_heex_annotations: true, enable_expensive_runtime_checks: true
config :swoosh, :api_client, false
""")
    w("config/test.exs", """
import Config

config :$app, $mod.Repo,
  username: "postgres",
  password: "postgres",
  hostname: "localhost",
  database: "${app}_test#{System.get_env("MIX_TEST_PARTITION")}",
  pool: Ecto.Adapters.SQL.Sandbox,
  pool_size: System.schedulers_online() * 2

config :$app, ${mod}Web.Endpoint,
  http: [ip: {127, 0, 0, 1}, port: 4002],
  secret_key_base: "test-only-Qm1Wn2Eb3Rv4Tc5Yx6Uz7Ia8Os9Pd0Af1Sg2Dh3Fj4Gk5Hl6Jz7Kx8Lc9",
  server: false

config :$app, Oban, testing: :manual
config :$app, $mod.Mailer, adapter: Swoosh.Adapters.Test
config :swoosh, :api_client, false
config :logger, level: :warning
config :phoenix, :plug_init_mode, :runtime
""")
    w("config/prod.exs", """
import Config

config :$app, ${mod}Web.Endpoint,
  cache_static_manifest: "priv/static/cache_manifest.json",
  force_ssl: [rewrite_on: [:x_forwarded_proto], hsts: true]

config :swoosh, api_client: Swoosh.ApiClient.Finch, finch_name: $mod.Finch
config :swoosh, local: false
config :logger, level: :info
""")
    w("config/staging.exs", 'import Config\n\nimport_config "prod.exs"\n\nconfig :logger, level: :debug\n')
    integrations = "".join(Template("""
  config :$app, $mod.Integrations.$camel,
    api_key: System.fetch_env!("${upper}_API_KEY"),
    base_url: System.get_env("${upper}_BASE_URL", "https://api.$name.example"),
    timeout: String.to_integer(System.get_env("${upper}_TIMEOUT_MS") || "15000"),
    enabled: System.get_env("${upper}_ENABLED") in ~w(true 1)
""").substitute(app=APP, mod=MOD, name=n, upper=n.upper(), camel=n.capitalize()) for n in INTEGRATIONS)
    w("config/runtime.exs", """
import Config

if System.get_env("PHX_SERVER") do
  config :$app, ${mod}Web.Endpoint, server: true
end

if config_env() == :prod do
  database_url =
    System.get_env("DATABASE_URL") ||
      raise \"\"\"
      environment variable DATABASE_URL is missing.
      For example: ecto://USER:PASS@HOST/DATABASE
      \"\"\"

  maybe_ipv6 = if System.get_env("ECTO_IPV6") in ~w(true 1), do: [:inet6], else: []

  config :$app, $mod.Repo,
    url: database_url,
    ssl: System.get_env("DATABASE_SSL", "true") == "true",
    pool_size: String.to_integer(System.get_env("POOL_SIZE") || "10"),
    socket_options: maybe_ipv6

  config :$app, $mod.Repo.Replica,
    url: System.get_env("REPLICA_DATABASE_URL") || database_url,
    ssl: true,
    pool_size: String.to_integer(System.get_env("REPLICA_POOL_SIZE") || "5"),
    socket_options: maybe_ipv6

  secret_key_base =
    System.get_env("SECRET_KEY_BASE") ||
      raise \"\"\"
      environment variable SECRET_KEY_BASE is missing.
      You can generate one by calling: mix phx.gen.secret
      \"\"\"

  host = System.get_env("PHX_HOST") || "example.com"
  port = String.to_integer(System.get_env("PORT") || "4000")

  config :$app, :dns_cluster_query, System.get_env("DNS_CLUSTER_QUERY")

  config :$app, ${mod}Web.Endpoint,
    url: [host: host, port: 443, scheme: "https"],
    http: [ip: {0, 0, 0, 0, 0, 0, 0, 0}, port: port],
    secret_key_base: secret_key_base

  config :$app, ${mod}Web.MetricsEndpoint,
    http: [port: String.to_integer(System.get_env("METRICS_PORT") || "9568")],
    server: System.get_env("METRICS_ENABLED", "true") == "true"

  config :$app, $mod.Mailer,
    adapter: Swoosh.Adapters.SMTP,
    relay: System.fetch_env!("SMTP_RELAY"),
    username: System.fetch_env!("SMTP_USERNAME"),
    password: System.fetch_env!("SMTP_PASSWORD"),
    port: String.to_integer(System.get_env("SMTP_PORT") || "587")

  config :sentry,
    dsn: System.get_env("SENTRY_DSN"),
    environment_name: System.get_env("SENTRY_ENV", "production")
$integrations
end
""", integrations=integrations)


# --- core modules ----------------------------------------------------------------------------------

def write_core(w: Writer) -> None:
    w("lib/$app/application.ex", """
defmodule $mod.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      ${mod}Web.Telemetry,
      $mod.Repo,
      $mod.Repo.Replica,
      {Ecto.Migrator, repos: Application.fetch_env!(:$app, :ecto_repos), skip: skip_migrations?()},
      {DNSCluster, query: Application.get_env(:$app, :dns_cluster_query) || :ignore},
      {Phoenix.PubSub, name: $mod.PubSub},
      ${mod}Web.Presence,
      {Finch, name: $mod.Finch},
      {Oban, Application.fetch_env!(:$app, Oban)},
      {Task.Supervisor, name: $mod.TaskSupervisor},
      ${mod}Web.Endpoint,
      ${mod}Web.MetricsEndpoint
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: $mod.Supervisor)
  end

  @impl true
  def config_change(changed, _new, removed) do
    ${mod}Web.Endpoint.config_change(changed, removed)
    :ok
  end

  defp skip_migrations?, do: System.get_env("RELEASE_NAME") == nil
end
""")
    for name, extra in (("Repo", ""), ("Repo.Replica", ", read_only: true")):
        w(f"lib/$app/{snake(name.replace('.', '')).replace('repo_', 'repo/')}.ex", """
defmodule $mod.$name do
  use Ecto.Repo, otp_app: :$app, adapter: Ecto.Adapters.Postgres$extra
end
""", name=name, extra=extra)
    w("lib/$app/release.ex", """
defmodule $mod.Release do
  @moduledoc "Tasks a release runs without Mix: migrations and rollbacks."
  @app :$app

  def migrate do
    load_app()

    for repo <- repos() do
      {:ok, _, _} = Ecto.Migrator.with_repo(repo, &Ecto.Migrator.run(&1, :up, all: true))
    end
  end

  def rollback(repo, version) do
    load_app()
    {:ok, _, _} = Ecto.Migrator.with_repo(repo, &Ecto.Migrator.run(&1, :down, to: version))
  end

  defp repos, do: Application.fetch_env!(@app, :ecto_repos)

  defp load_app do
    Application.ensure_loaded(@app)
  end
end
""")
    w("lib/$app/mailer.ex", "defmodule $mod.Mailer do\n  use Swoosh.Mailer, otp_app: :$app\nend\n")
    w("lib/${app}_web/presence.ex", """
defmodule ${mod}Web.Presence do
  @moduledoc "Who is looking at which record, for the collaborative LiveViews."
  use Phoenix.Presence, otp_app: :$app, pubsub_server: $mod.PubSub

  def track_viewer(pid, topic, user_id) do
    track(pid, topic, user_id, %{online_at: System.system_time(:second)})
  end

  def viewers(topic), do: topic |> list() |> Map.keys()
end
""")
    endpoint_socket = """
  socket "/live", Phoenix.LiveView.Socket,
    websocket: [connect_info: [session: @session_options]],
    longpoll: [connect_info: [session: @session_options]]
"""
    w("lib/${app}_web/endpoint.ex", """
defmodule ${mod}Web.Endpoint do
  use Phoenix.Endpoint, otp_app: :$app

  @session_options [
    store: :cookie,
    key: "_${app}_key",
    signing_salt: "Hq2Vb8Lw",
    same_site: "Lax"
  ]
$socket
  plug Plug.Static,
    at: "/",
    from: :$app,
    gzip: false,
    only: ${mod}Web.static_paths()

  if code_reloading? do
    socket "/phoenix/live_reload/socket", Phoenix.LiveReloader.Socket
    plug Phoenix.LiveReloader
    plug Phoenix.CodeReloader
    plug Phoenix.Ecto.CheckRepoStatus, otp_app: :$app
  end

  plug Phoenix.LiveDashboard.RequestLogger,
    param_key: "request_logger",
    cookie_key: "request_logger"

  plug Plug.RequestId
  plug Plug.Telemetry, event_prefix: [:phoenix, :endpoint]

  plug Plug.Parsers,
    parsers: [:urlencoded, :multipart, :json],
    pass: ["*/*"],
    json_decoder: Phoenix.json_library()

  plug Plug.MethodOverride
  plug Plug.Head
  plug Plug.Session, @session_options
  plug ${mod}Web.Router
end
""", socket=endpoint_socket)
    w("lib/${app}_web/metrics_endpoint.ex", """
defmodule ${mod}Web.MetricsEndpoint do
  use Phoenix.Endpoint, otp_app: :$app

  plug Plug.Telemetry, event_prefix: [:metrics, :endpoint]
  plug ${mod}Web.MetricsRouter
end
""")
    w("lib/${app}_web/metrics_router.ex", """
defmodule ${mod}Web.MetricsRouter do
  use Phoenix.Router

  get "/metrics", ${mod}Web.MetricsController, :index
  get "/healthz", ${mod}Web.HealthController, :show
end
""")
    w("lib/${app}_web.ex", """
defmodule ${mod}Web do
  @moduledoc "The entrypoint for defining the web interface: controllers, components, channels."

  def static_paths, do: ~w(assets fonts images favicon.ico robots.txt)

  def router do
    quote do
      use Phoenix.Router, helpers: false
      import Plug.Conn
      import Phoenix.Controller
      import Phoenix.LiveView.Router
    end
  end

  def controller do
    quote do
      use Phoenix.Controller, formats: [:html, :json], layouts: [html: ${mod}Web.Layouts]
      import Plug.Conn
      use Gettext, backend: ${mod}Web.Gettext
      unquote(verified_routes())
    end
  end

  def live_view do
    quote do
      use Phoenix.LiveView, layout: {${mod}Web.Layouts, :app}
      unquote(html_helpers())
    end
  end

  def live_component do
    quote do
      use Phoenix.LiveComponent
      unquote(html_helpers())
    end
  end

  def html do
    quote do
      use Phoenix.Component
      import Phoenix.Controller, only: [get_csrf_token: 0, view_module: 1, view_template: 1]
      unquote(html_helpers())
    end
  end

  defp html_helpers do
    quote do
      use Gettext, backend: ${mod}Web.Gettext
      import Phoenix.HTML
      import ${mod}Web.CoreComponents
      alias Phoenix.LiveView.JS
      unquote(verified_routes())
    end
  end

  def verified_routes do
    quote do
      use Phoenix.VerifiedRoutes, endpoint: ${mod}Web.Endpoint, router: ${mod}Web.Router,
        statics: ${mod}Web.static_paths()
    end
  end

  defmacro __using__(which) when is_atom(which) do
    apply(__MODULE__, which, [])
  end
end
""")
    w("lib/${app}_web/telemetry.ex", """
defmodule ${mod}Web.Telemetry do
  use Supervisor
  import Telemetry.Metrics

  def start_link(arg), do: Supervisor.start_link(__MODULE__, arg, name: __MODULE__)

  @impl true
  def init(_arg) do
    children = [{:telemetry_poller, measurements: periodic_measurements(), period: 10_000}]
    Supervisor.init(children, strategy: :one_for_one)
  end

  def metrics do
    [
      summary("phoenix.endpoint.stop.duration", unit: {:native, :millisecond}),
      summary("phoenix.router_dispatch.stop.duration", tags: [:route], unit: {:native, :millisecond}),
      summary("$app.repo.query.total_time", unit: {:native, :millisecond}),
      summary("$app.repo.query.queue_time", unit: {:native, :millisecond}),
      counter("oban.job.stop.duration", tags: [:queue, :worker]),
      summary("vm.memory.total", unit: {:byte, :kilobyte}),
      summary("vm.total_run_queue_lengths.total")
    ]
  end

  defp periodic_measurements, do: []
end
""")


# --- router ------------------------------------------------------------------------------------------

def write_router(w: Writer, contexts: list[Context]) -> None:
    live, api = [], []
    for c in contexts:
        for s in c.schemas[:2]:
            path, alias = f"/{c.snake}/{snake(s.name)}s", f"{s.name}Live"
            live.append(f'      live "{path}", {alias}.Index, :index\n'
                        f'      live "{path}/new", {alias}.Index, :new\n'
                        f'      live "{path}/:id", {alias}.Show, :show\n'
                        f'      live "{path}/:id/edit", {alias}.Show, :edit\n')
        s = c.schemas[2]
        api.append(f'    resources "/{c.snake}/{snake(s.name)}s", {s.name}Controller, except: [:new, :edit]\n')
    w("lib/${app}_web/router.ex", """
defmodule ${mod}Web.Router do
  use ${mod}Web, :router

  pipeline :browser do
    plug :accepts, ["html"]
    plug :fetch_session
    plug :fetch_live_flash
    plug :put_root_layout, html: {${mod}Web.Layouts, :root}
    plug :protect_from_forgery
    plug :put_secure_browser_headers
  end

  pipeline :api do
    plug :accepts, ["json"]
    plug ${mod}Web.ApiAuth
  end

  scope "/", ${mod}Web do
    pipe_through :browser

    get "/", PageController, :home

    live_session :default, on_mount: [{${mod}Web.UserAuth, :ensure_authenticated}] do
$live    end
  end

  scope "/api", ${mod}Web do
    pipe_through :api

$api  end

  if Application.compile_env(:$app, :dev_routes) do
    import Phoenix.LiveDashboard.Router

    scope "/dev" do
      pipe_through :browser

      live_dashboard "/dashboard", metrics: ${mod}Web.Telemetry
      forward "/mailbox", Plug.Swoosh.MailboxPreview
    end
  end
end
""", live="".join(live), api="".join(api))


# --- one context: context module, schemas, worker, LiveViews, controller, tests --------------------

def write_context(w: Writer, rng: random.Random, c: Context) -> None:
    base = f"lib/{APP}/{c.snake}"
    funs = "".join(_crud(c, s) for s in c.schemas)
    w(f"lib/$app/{c.snake}.ex", """
defmodule $mod.$ctx do
  @moduledoc \"\"\"
  The $ctx context: $names.
  \"\"\"

  import Ecto.Query, warn: false
$head  alias $mod.Repo
  alias $mod.$ctx.{$aliases}
$funs$enqueue
end
""", ctx=c.name, names=", ".join(s.name for s in c.schemas), aliases=", ".join(s.name for s in c.schemas),
      funs=funs, head=_head(rng), enqueue=_enqueue(c))
    for s in c.schemas:
        write_schema(w, base, c, s)
    w(f"{base}/queries.ex", """
defmodule $mod.$ctx.Queries do
  @moduledoc "Composable queries shared by the $ctx context."
  import Ecto.Query
$head
  def recent(query, days \\\\ 30) do
    since = DateTime.add(DateTime.utc_now(), -days * 86_400, :second)
    from q in query, where: q.inserted_at >= ^since
  end

  def ordered(query, field \\\\ :inserted_at), do: from(q in query, order_by: [desc: field(q, ^field)])

  def paginate(query, page, per_page) when page > 0 do
    from q in query, limit: ^per_page, offset: ^((page - 1) * per_page)
  end

  def search(query, nil), do: query

  def search(query, term) do
    pattern = "%#{String.replace(term, "%", "\\\\%")}%"
    from q in query, where: ilike(q.name, ^pattern)
  end
end
""", ctx=c.name, head=_head(rng))
    if c.worker:
        w(f"{base}/sync_worker.ex", """
defmodule $mod.$ctx.SyncWorker do
  @moduledoc "Pushes $ctx changes to the outside world, retried by Oban."
  use Oban.Worker, queue: :$queue, max_attempts: 10, unique: [period: 60]
  require Logger

  @impl Oban.Worker
  def perform(%Oban.Job{args: %{"id" => id, "kind" => kind}, attempt: attempt}) do
    Logger.info("syncing #{kind} #{id}, attempt #{attempt}")

    case $mod.$ctx.sync(kind, id) do
      :ok -> :ok
      {:error, :not_found} -> {:cancel, :not_found}
      {:error, reason} -> {:error, reason}
    end
  end

  @impl Oban.Worker
  def backoff(%Oban.Job{attempt: attempt}), do: trunc(:math.pow(attempt, 4) + 15)
end
""", ctx=c.name, queue=c.snake)
    for s in c.schemas[:2]:
        write_live(w, rng, c, s)
    write_controller(w, rng, c, c.schemas[2])
    write_tests(w, c)


HEAD_LINES = {
    "logger": "  require Logger\n",
    "compile_env": f"  @page_size Application.compile_env(:{APP}, :page_size, 50)\n",
    "mix_env": "  @env Mix.env()\n",
    "get_env": f"  defp settings, do: Application.get_env(:{APP}, __MODULE__, [])\n",
    "system_get_env": '  defp region, do: System.get_env("FLY_REGION", "local")\n',
    "fetch_env": '  defp bucket, do: System.fetch_env!("UPLOADS_BUCKET")\n',
    "repo_doc": "  # Multi-step writes go through Ecto.Repo.transaction/2 so a failure rolls back all of them.\n",
}


def _head(rng: random.Random) -> str:
    """The module-head lines that carry the rare words, rolled for one file."""
    return "".join(line for word, line in HEAD_LINES.items() if rng.random() < RATE[word] / ELIGIBLE)


def _enqueue(c: Context) -> str:
    if not c.worker:
        return ""
    return Template("""
  @doc "Schedules a sync of one record; the worker retries on failure."
  def enqueue_sync(kind, id) do
    %{"kind" => kind, "id" => id}
    |> $mod.$ctx.SyncWorker.new(schedule_in: 5)
    |> Oban.insert()
  end

  def sync(_kind, _id), do: :ok
""").substitute(mod=MOD, ctx=c.name)


def _crud(c: Context, s: Schema) -> str:
    one, many = snake(s.name), plural(snake(s.name))
    return Template("""
  @doc \"\"\"
  Returns the list of $many, newest first.

  ## Examples

      iex> list_$many()
      [%$schema{}, ...]

  \"\"\"
  def list_$many(opts \\\\ []) do
    limit = Keyword.get(opts, :limit, 100)

    $schema
    |> order_by(desc: :inserted_at)
    |> limit(^limit)
    |> Repo.all()
  end

  @doc "Gets a single $one; raises `Ecto.NoResultsError` if it does not exist."
  def get_$one!(id), do: Repo.get!($schema, id)

  def get_$one(id), do: Repo.get($schema, id)

  @doc "Creates a $one."
  def create_$one(attrs \\\\ %{}) do
    %$schema{}
    |> $schema.changeset(attrs)
    |> Repo.insert()
    |> broadcast(:${one}_created)
  end

  @doc "Updates a $one."
  def update_$one(%$schema{} = $one, attrs) do
    $one
    |> $schema.changeset(attrs)
    |> Repo.update()
    |> broadcast(:${one}_updated)
  end

  @doc "Deletes a $one."
  def delete_$one(%$schema{} = $one), do: Repo.delete($one)

  @doc "Returns an `%Ecto.Changeset{}` for tracking $one changes."
  def change_$one(%$schema{} = $one, attrs \\\\ %{}), do: $schema.changeset($one, attrs)

  @doc "Filters $many by a keyword list; unknown keys are ignored."
  def filter_$many(filters) when is_list(filters) do
    filters
    |> Enum.reduce($schema, fn
      {:owner_id, id}, query -> where(query, [r], r.owner_id == ^id)
      {:since, %DateTime{} = at}, query -> where(query, [r], r.inserted_at >= ^at)
      {:search, term}, query when is_binary(term) -> where(query, [r], ilike(fragment("?::text", r.$first), ^"%#{term}%"))
      _other, query -> query
    end)
    |> Repo.all()
  end

  def count_$many do
    Repo.aggregate($schema, :count)
  end

  defp broadcast({:ok, %$schema{} = record}, event) do
    Phoenix.PubSub.broadcast($mod.PubSub, "$ctx:$many", {event, record})
    {:ok, record}
  end

  defp broadcast({:error, _} = error, _event), do: error
""").substitute(mod=MOD, ctx=c.snake, schema=s.name, one=one, many=many, first=s.fields[0][0])


ELIXIR_TYPES = {"string": "String.t()", "text": "String.t()", "integer": "integer()", "boolean": "boolean()",
                "utc_datetime": "DateTime.t()", "map": "map()", "float": "float()"}


def write_schema(w: Writer, base: str, c: Context, s: Schema) -> None:
    var = snake(s.name)
    fields = "".join(f"    field :{f}, :{'string' if t == 'text' else t}\n" for f, t in s.fields)
    types = ",\n".join(f"          {f}: {ELIXIR_TYPES[t]} | nil" for f, t in s.fields)
    names = ", ".join(f":{f}" for f, _ in s.fields)
    required = ", ".join(f":{f}" for f, t in s.fields[:2])
    checks = "".join(_validation(f, t) for f, t in s.fields)
    w(f"{base}/{var}.ex", """
defmodule $mod.$ctx.$schema do
  @moduledoc \"\"\"
  A $schema of the $ctx context, stored in `$table`.

  Records are owned by an account; deleting the account keeps them for reporting.
  \"\"\"
  use Ecto.Schema
  import Ecto.Changeset
  import Ecto.Query, only: [from: 2]

  @primary_key {:id, :binary_id, autogenerate: true}
  @foreign_key_type :binary_id
  @derive {Jason.Encoder, only: [:id, $names, :inserted_at, :updated_at]}

  @type t :: %__MODULE__{
          id: Ecto.UUID.t() | nil,
$types,
          owner_id: Ecto.UUID.t() | nil,
          inserted_at: DateTime.t() | nil,
          updated_at: DateTime.t() | nil
        }

  schema "$table" do
$fields
    belongs_to :owner, $mod.Accounts.Account

    timestamps(type: :utc_datetime)
  end

  @doc false
  def changeset($var, attrs) do
    $var
    |> cast(attrs, [$names, :owner_id])
    |> validate_required([$required])
$checks    |> foreign_key_constraint(:owner_id)
  end

  @doc "The $var records of one owner, newest first."
  def for_owner(query \\\\ __MODULE__, owner_id) do
    from r in query, where: r.owner_id == ^owner_id, order_by: [desc: r.inserted_at]
  end

  @doc "Fields safe to show in exports and audit logs."
  def public_fields, do: [:id, $names]
end
""", ctx=c.name, schema=s.name, table=s.table, fields=fields, types=types, names=names, required=required,
      checks=checks, var=var)


def _validation(name: str, kind: str) -> str:
    if name == "email":
        return "    |> validate_format(:email, ~r/^[^\\s]+@[^\\s]+$/, message: \"must have the @ sign and no spaces\")\n"
    if kind == "string":
        return f"    |> validate_length(:{name}, max: 255)\n"
    if kind == "integer":
        return f"    |> validate_number(:{name}, greater_than_or_equal_to: 0)\n"
    return ""


def write_live(w: Writer, rng: random.Random, c: Context, s: Schema) -> None:
    one, many = snake(s.name), plural(snake(s.name))
    path = f"lib/{APP}_web/live/{one}_live"
    cols = "".join(f'        <:col :let={{{{_id, {one}}}}} label="{f.replace("_", " ").capitalize()}">'
                   f"{{{one}.{f}}}</:col>\n" for f, _ in s.fields[:5])
    inputs = "".join(f'        <.input field={{@form[:{f}]}} type="{_input_type(t)}" label="{f.capitalize()}" />\n'
                     for f, t in s.fields)
    subst = {"ctx": c.name, "ctxs": c.snake, "schema": s.name, "one": one, "many": many, "cols": cols,
             "inputs": inputs}
    w(f"{path}/index.ex", """
defmodule ${mod}Web.${schema}Live.Index do
  use ${mod}Web, :live_view

  alias $mod.$ctx
  alias $mod.$ctx.$schema
$head
  @impl true
  def mount(_params, _session, socket) do
    if connected?(socket), do: Phoenix.PubSub.subscribe($mod.PubSub, "$ctxs:$many")
    {:ok, stream(socket, :$many, $ctx.list_$many())}
  end

  @impl true
  def handle_params(params, _url, socket) do
    {:noreply, apply_action(socket, socket.assigns.live_action, params)}
  end

  defp apply_action(socket, :new, _params) do
    socket
    |> assign(:page_title, "New $schema")
    |> assign(:$one, %$schema{})
  end

  defp apply_action(socket, :index, _params) do
    socket
    |> assign(:page_title, "Listing $many")
    |> assign(:$one, nil)
  end

  @impl true
  def handle_info({${mod}Web.${schema}Live.FormComponent, {:saved, $one}}, socket) do
    {:noreply, stream_insert(socket, :$many, $one)}
  end

  def handle_info({_event, %$schema{} = $one}, socket) do
    {:noreply, stream_insert(socket, :$many, $one)}
  end

  @impl true
  def handle_event("delete", %{"id" => id}, socket) do
    $one = $ctx.get_$one!(id)
    {:ok, _} = $ctx.delete_$one($one)
    {:noreply, stream_delete(socket, :$many, $one)}
  end

  @impl true
  def render(assigns) do
    ~H\"\"\"
    <.header>
      Listing $many
      <:actions>
        <.link patch={~p"/$ctxs/$many/new"}>
          <.button>New $schema</.button>
        </.link>
      </:actions>
    </.header>

    <.table id="$many" rows={@streams.$many}
      row_click={fn {_id, $one} -> JS.navigate(~p"/$ctxs/$many/#{$one}") end}>
$cols      <:action :let={{id, $one}}>
        <.link phx-click={JS.push("delete", value: %{id: $one.id}) |> hide("##{id}")} data-confirm="Are you sure?">
          Delete
        </.link>
      </:action>
    </.table>

    <.modal :if={@live_action == :new} id="$one-modal" show on_cancel={JS.patch(~p"/$ctxs/$many")}>
      <.live_component module={${mod}Web.${schema}Live.FormComponent} id={:new} title={@page_title}
        action={@live_action} $one={@$one} patch={~p"/$ctxs/$many"} />
    </.modal>
    \"\"\"
  end
end
""", **subst, head=_head(rng))
    w(f"{path}/show.ex", """
defmodule ${mod}Web.${schema}Live.Show do
  use ${mod}Web, :live_view

  alias $mod.$ctx
$head
  @impl true
  def mount(%{"id" => id}, session, socket) do
    if connected?(socket) do
      ${mod}Web.Presence.track_viewer(self(), "$one:#{id}", session["user_id"])
    end

    {:ok, assign(socket, :viewers, ${mod}Web.Presence.viewers("$one:#{id}"))}
  end

  @impl true
  def handle_params(%{"id" => id}, _, socket) do
    {:noreply,
     socket
     |> assign(:page_title, page_title(socket.assigns.live_action))
     |> assign(:$one, $ctx.get_$one!(id))}
  end

  @impl true
  def handle_info(%{event: "presence_diff"}, socket) do
    {:noreply, assign(socket, :viewers, ${mod}Web.Presence.viewers("$one:#{socket.assigns.$one.id}"))}
  end

  defp page_title(:show), do: "Show $schema"
  defp page_title(:edit), do: "Edit $schema"

  @impl true
  def render(assigns) do
    ~H\"\"\"
    <.header>
      $schema {@$one.id}
      <:subtitle>{length(@viewers)} people are looking at this record.</:subtitle>
      <:actions>
        <.link patch={~p"/$ctxs/$many/#{@$one}/edit"} phx-click={JS.push_focus()}>
          <.button>Edit $one</.button>
        </.link>
      </:actions>
    </.header>

    <.back navigate={~p"/$ctxs/$many"}>Back to $many</.back>
    \"\"\"
  end
end
""", **subst, head=_head(rng))
    w(f"{path}/form_component.ex", """
defmodule ${mod}Web.${schema}Live.FormComponent do
  use ${mod}Web, :live_component

  alias $mod.$ctx

  @impl true
  def render(assigns) do
    ~H\"\"\"
    <div>
      <.header>
        {@title}
        <:subtitle>Use this form to manage $one records in your database.</:subtitle>
      </.header>

      <.simple_form for={@form} id="$one-form" phx-target={@myself} phx-change="validate" phx-submit="save">
$inputs        <:actions>
          <.button phx-disable-with="Saving...">Save $schema</.button>
        </:actions>
      </.simple_form>
    </div>
    \"\"\"
  end

  @impl true
  def update(%{$one: $one} = assigns, socket) do
    {:ok,
     socket
     |> assign(assigns)
     |> assign_new(:form, fn -> to_form($ctx.change_$one($one)) end)}
  end

  @impl true
  def handle_event("validate", %{"$one" => params}, socket) do
    changeset = $ctx.change_$one(socket.assigns.$one, params)
    {:noreply, assign(socket, form: to_form(changeset, action: :validate))}
  end

  def handle_event("save", %{"$one" => params}, socket) do
    case $ctx.create_$one(params) do
      {:ok, $one} ->
        send(self(), {__MODULE__, {:saved, $one}})

        {:noreply,
         socket
         |> put_flash(:info, "$schema saved")
         |> push_patch(to: socket.assigns.patch)}

      {:error, %Ecto.Changeset{} = changeset} ->
        {:noreply, assign(socket, form: to_form(changeset))}
    end
  end
end
""", **subst)


def _input_type(t: str) -> str:
    return {"boolean": "checkbox", "integer": "number", "float": "number", "text": "textarea",
            "utc_datetime": "datetime-local", "map": "textarea"}.get(t, "text")


def write_controller(w: Writer, rng: random.Random, c: Context, s: Schema) -> None:
    one, many = snake(s.name), plural(snake(s.name))
    subst = {"ctx": c.name, "schema": s.name, "one": one, "many": many,
             "fields": ", ".join(f"{f}: {one}.{f}" for f, _ in s.fields)}
    w(f"lib/{APP}_web/controllers/{one}_controller.ex", """
defmodule ${mod}Web.${schema}Controller do
  use ${mod}Web, :controller

  alias $mod.$ctx
  alias $mod.$ctx.$schema
$head
  action_fallback ${mod}Web.FallbackController

  def index(conn, _params) do
    render(conn, :index, $many: $ctx.list_$many())
  end

  def create(conn, %{"$one" => params}) do
    with {:ok, %$schema{} = $one} <- $ctx.create_$one(params) do
      conn
      |> put_status(:created)
      |> put_resp_header("location", ~p"/api/$many/#{$one}")
      |> render(:show, $one: $one)
    end
  end

  def show(conn, %{"id" => id}) do
    render(conn, :show, $one: $ctx.get_$one!(id))
  end

  def update(conn, %{"id" => id, "$one" => params}) do
    $one = $ctx.get_$one!(id)

    with {:ok, %$schema{} = $one} <- $ctx.update_$one($one, params) do
      render(conn, :show, $one: $one)
    end
  end

  def delete(conn, %{"id" => id}) do
    $one = $ctx.get_$one!(id)

    with {:ok, %$schema{}} <- $ctx.delete_$one($one) do
      send_resp(conn, :no_content, "")
    end
  end
end
""", **subst, head=_head(rng))
    w(f"lib/{APP}_web/controllers/{one}_json.ex", """
defmodule ${mod}Web.${schema}JSON do
  alias $mod.$ctx.$schema

  def index(%{$many: $many}), do: %{data: for($one <- $many, do: data($one))}

  def show(%{$one: $one}), do: %{data: data($one)}

  defp data(%$schema{} = $one) do
    %{id: $one.id, $fields}
  end
end
""", **subst)
    w(f"lib/{APP}_web/controllers/{one}_html/index.html.heex", """
<.header>
  Listing $many
</.header>
<.table id="$many" rows={@$many}>
  <:col :let={$one} label="Id">{$one.id}</:col>
</.table>
""", **subst)


def write_tests(w: Writer, c: Context) -> None:
    cases = "".join(Template("""
  describe "$many" do
    @invalid_attrs %{$first: nil}

    test "list_$many/0 returns all $many" do
      $one = insert(:$one)
      assert Enum.map($ctx.list_$many(), & &1.id) == [$one.id]
    end

    test "get_$one!/1 returns the $one with given id" do
      $one = insert(:$one)
      assert $ctx.get_$one!($one.id).id == $one.id
    end

    test "create_$one/1 with valid data creates a $one" do
      attrs = params_for(:$one)
      assert {:ok, %$schema{} = $one} = $ctx.create_$one(attrs)
      assert $one.$first == attrs.$first
    end

    test "create_$one/1 with invalid data returns error changeset" do
      assert {:error, %Ecto.Changeset{}} = $ctx.create_$one(@invalid_attrs)
    end

    test "update_$one/2 with invalid data keeps the $one" do
      $one = insert(:$one)
      assert {:error, %Ecto.Changeset{}} = $ctx.update_$one($one, @invalid_attrs)
      assert $ctx.get_$one!($one.id).$first == $one.$first
    end

    test "delete_$one/1 deletes the $one" do
      $one = insert(:$one)
      assert {:ok, %$schema{}} = $ctx.delete_$one($one)
      assert_raise Ecto.NoResultsError, fn -> $ctx.get_$one!($one.id) end
    end

    test "change_$one/1 returns a $one changeset" do
      assert %Ecto.Changeset{} = $ctx.change_$one(insert(:$one))
    end
  end
""").substitute(ctx=c.name, schema=s.name, one=snake(s.name), many=plural(snake(s.name)), first=s.fields[0][0])
        for s in c.schemas)
    w(f"test/$app/{c.snake}_test.exs", """
defmodule $mod.${ctx}Test do
  use $mod.DataCase, async: true

  alias $mod.$ctx
  alias $mod.$ctx.{$aliases}
$cases
end
""", ctx=c.name, aliases=", ".join(s.name for s in c.schemas), cases=cases)
    for s in c.schemas[:2]:
        one, many = snake(s.name), plural(snake(s.name))
        w(f"test/{APP}_web/live/{one}_live_test.exs", """
defmodule ${mod}Web.${schema}LiveTest do
  use ${mod}Web.ConnCase

  import Phoenix.LiveViewTest

  @invalid_attrs %{$first: nil}

  setup :register_and_log_in_user

  describe "Index" do
    setup do
      %{$one: insert(:$one)}
    end

    test "lists all $many", %{conn: conn, $one: $one} do
      {:ok, _index_live, html} = live(conn, ~p"/$ctxs/$many")

      assert html =~ "Listing $many"
      assert html =~ to_string($one.$first)
    end

    test "saves new $one", %{conn: conn} do
      {:ok, index_live, _html} = live(conn, ~p"/$ctxs/$many")

      assert index_live |> element("a", "New $schema") |> render_click() =~ "New $schema"
      assert_patch(index_live, ~p"/$ctxs/$many/new")

      assert index_live
             |> form("#$one-form", $one: @invalid_attrs)
             |> render_change() =~ "can&#39;t be blank"

      assert index_live
             |> form("#$one-form", $one: params_for(:$one))
             |> render_submit()

      assert_patch(index_live, ~p"/$ctxs/$many")
      assert render(index_live) =~ "$schema saved"
    end

    test "deletes $one in listing", %{conn: conn, $one: $one} do
      {:ok, index_live, _html} = live(conn, ~p"/$ctxs/$many")

      assert index_live |> element("#$many-#{$one.id} a", "Delete") |> render_click()
      refute has_element?(index_live, "#$many-#{$one.id}")
    end
  end

  describe "Show" do
    test "displays $one", %{conn: conn} do
      $one = insert(:$one)
      {:ok, _show_live, html} = live(conn, ~p"/$ctxs/$many/#{$one}")

      assert html =~ "Show $schema"
    end
  end
end
""", schema=s.name, one=one, many=many, ctxs=c.snake, first=s.fields[0][0])
    s = c.schemas[2]
    w(f"test/{APP}_web/controllers/{snake(s.name)}_controller_test.exs", """
defmodule ${mod}Web.${schema}ControllerTest do
  use ${mod}Web.ConnCase

  setup %{conn: conn} do
    {:ok, conn: put_req_header(conn, "accept", "application/json")}
  end

  describe "index" do
    test "lists all $many", %{conn: conn} do
      conn = get(conn, ~p"/api/$ctxs/$many")
      assert json_response(conn, 200)["data"] == []
    end
  end

  describe "create $one" do
    test "renders $one when data is valid", %{conn: conn} do
      conn = post(conn, ~p"/api/$ctxs/$many", $one: params_for(:$one))
      assert %{"id" => id} = json_response(conn, 201)["data"]

      conn = get(conn, ~p"/api/$ctxs/$many/#{id}")
      assert %{"id" => ^id} = json_response(conn, 200)["data"]
    end

    test "renders errors when data is invalid", %{conn: conn} do
      conn = post(conn, ~p"/api/$ctxs/$many", $one: %{$first: nil})
      assert json_response(conn, 422)["errors"] != %{}
    end
  end

  describe "delete $one" do
    test "deletes chosen $one", %{conn: conn} do
      $one = insert(:$one)
      conn = delete(conn, ~p"/api/$ctxs/$many/#{$one}")
      assert response(conn, 204)
    end
  end
end
""", schema=s.name, one=snake(s.name), many=plural(snake(s.name)), ctxs=c.snake, first=s.fields[0][0])


# --- migrations -------------------------------------------------------------------------------------------

def write_migrations(w: Writer, rng: random.Random, contexts: list[Context], count: int) -> int:
    """Mostly new tables, some changes to tables made earlier, as an app's history has."""
    pending = [s for c in contexts for s in c.schemas]
    created: list[Schema] = []
    when = datetime(2019, 3, 1, 9, 0, 0)
    for i in range(count):
        when += timedelta(hours=rng.randint(2, 200), seconds=rng.randint(0, 3599))
        if pending and (not created or rng.random() < 0.7):
            s = pending.pop(0)
            created.append(s)
            name, body = f"create_{s.table}", _create_table(s)
        else:
            s = rng.choice(created)
            name, body = rng.choice([_add_column, _concurrent_index, _backfill, _tighten])(s)
        w(f"priv/repo/migrations/{when:%Y%m%d%H%M%S}_{name}.exs", body, cls=f"{_camel(name)}V{i}", table=s.table)
    return count


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def _create_table(s: Schema) -> str:
    cols = "".join(f"      add :{f}, :{t}" + (", null: false" if n < 2 else "") + "\n"
                   for n, (f, t) in enumerate(s.fields))
    return """
defmodule $mod.Repo.Migrations.$cls do
  use Ecto.Migration

  def change do
    create table(:$table, primary_key: false) do
      add :id, :binary_id, primary_key: true
""" + cols + """      add :owner_id, references(:accounts_accounts, on_delete: :nothing, type: :binary_id)

      timestamps(type: :utc_datetime)
    end

    create index(:$table, [:owner_id])
    create index(:$table, [:inserted_at])
  end
end
"""


def _add_column(s: Schema) -> tuple[str, str]:
    return f"add_reviewed_to_{s.table}", """
defmodule $mod.Repo.Migrations.$cls do
  use Ecto.Migration

  def change do
    alter table(:$table) do
      add :reviewed_at, :utc_datetime
      add :reviewed_by_id, references(:accounts_accounts, type: :binary_id, on_delete: :nilify_all)
    end
  end
end
"""


def _concurrent_index(s: Schema) -> tuple[str, str]:
    return f"index_{s.table}_external_id", """
defmodule $mod.Repo.Migrations.$cls do
  use Ecto.Migration
  @disable_ddl_transaction true
  @disable_migration_lock true

  def up do
    execute "CREATE INDEX CONCURRENTLY IF NOT EXISTS ${table}_updated_at_index ON $table (updated_at)"
  end

  def down do
    execute "DROP INDEX CONCURRENTLY IF EXISTS ${table}_updated_at_index"
  end
end
"""


def _backfill(s: Schema) -> tuple[str, str]:
    return f"add_tenant_to_{s.table}", """
defmodule $mod.Repo.Migrations.$cls do
  use Ecto.Migration

  def change do
    for t <- ~w($table ${table}_archive)a do
      create_if_not_exists table(t, primary_key: false) do
        add :id, :binary_id, primary_key: true
      end

      alter table(t) do
        add :tenant_id, :binary_id
      end
    end

    execute "UPDATE $table SET tenant_id = owner_id WHERE tenant_id IS NULL", ""
  end
end
"""


def _tighten(s: Schema) -> tuple[str, str]:
    return f"require_inserted_at_{s.table}", """
defmodule $mod.Repo.Migrations.$cls do
  use Ecto.Migration

  def change do
    alter table(:$table) do
      modify :inserted_at, :utc_datetime, null: false, default: fragment("now()"), from: :utc_datetime
    end
  end
end
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path, default=Path(__file__).parent / "out")
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 is the benchmark size")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    stats = generate(args.out, args.scale, args.seed)
    print(f"{args.out}: {stats['files']} files, {stats['bytes'] / 1e6:.1f} MB, "
          f"{stats['contexts']} contexts, {stats['migrations']} migrations")


if __name__ == "__main__":
    main()

"""The Project model: mix.exs, mix.lock, endpoint, router, application, lib env reads."""

from pathlib import Path

from project_shapes import GOOD

from phoenix_ops.elixir.values import KW, Atom, Lit
from phoenix_ops.project import load_project

ROUTER = '''
defmodule DemoWeb.Router do
  use DemoWeb, :router

  pipeline :browser do
    plug :accepts, ["html"]
    plug :fetch_session
    plug :put_secure_browser_headers, %{"content-security-policy" => "default-src 'self'"}
  end

  scope "/", DemoWeb do
    pipe_through :browser
    get "/", PageController, :home
    live_session :default do
      live "/items", ItemLive.Index, :index
    end
  end

  scope "/api" do
    pipe_through [:api]
    forward "/admin", DemoWeb.AdminRouter
  end

  if Application.compile_env(:demo, :dev_routes) do
    scope "/dev" do
      pipe_through :browser
      forward "/mailbox", Plug.Swoosh.MailboxPreview
    end
  end
end
'''

APPLICATION = '''
defmodule Demo.Application do
  use Application

  @impl true
  def start(_type, _args) do
    children = [
      DemoWeb.Telemetry,
      Demo.Repo,
      {Ecto.Migrator, repos: Application.fetch_env!(:demo, :ecto_repos), skip: skip_migrations?()},
      {DNSCluster, query: Application.get_env(:demo, :dns_cluster_query) || :ignore},
      {Phoenix.PubSub, name: Demo.PubSub},
      DemoWeb.Endpoint
    ]

    Supervisor.start_link(children, strategy: :one_for_one, name: Demo.Supervisor)
  end

  defp skip_migrations?() do
    System.get_env("RELEASE_NAME") != nil
  end
end
'''

LOCK = '''%{
  "phoenix": {:hex, :phoenix, "1.7.14", "a7d0b3f1", [:mix], [], "hexpm", "c7859bc5"},
  "plug": {:hex, :plug, "1.16.1", "40c74619", [:mix], [], "hexpm", "a13ff6b9"},
  "heroicons": {:git, "https://github.com/tailwindlabs/heroicons.git", "88ab3a0d", [tag: "v2.1.1"]},
}
'''


def load(tmp_path: Path, extra: dict[str, str], sub: str = "") -> object:
    for rel, body in {**GOOD, **extra}.items():
        path = tmp_path / sub / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return load_project(tmp_path)


def test_mix_deps_and_lock(tmp_path):
    project = load(tmp_path, {"mix.lock": LOCK})
    assert project.mix.app == "demo"
    assert project.mix.deps["phoenix"].requirement == "~> 1.7.14"
    assert project.lock == {"phoenix": "1.7.14", "plug": "1.16.1"}


def test_endpoint_plugs_sockets_and_session_options(tmp_path):
    project = load(tmp_path, {})
    (endpoint,) = project.endpoints
    assert endpoint.module == "DemoWeb.Endpoint" and endpoint.otp_app == "demo"
    assert [p.module for p in endpoint.plugs] == ["Plug.Static", "Plug.Telemetry", "Plug.Session", "DemoWeb.Router"]
    session = endpoint.attributes["session_options"]
    assert isinstance(session, KW) and session.get("key").value == "_demo_key"
    static = endpoint.plug("Plug.Static").options
    assert static.get("from").value == Atom("demo")
    assert [(s.path, s.module) for s in endpoint.sockets] == [("/live", "Phoenix.LiveView.Socket")]


def test_router_pipelines_scopes_routes_and_guards(tmp_path):
    project = load(tmp_path, {"lib/demo_web/router.ex": ROUTER})
    (router,) = project.routers
    assert [p.module for p in router.pipelines["browser"]] == [":accepts", ":fetch_session",
                                                               ":put_secure_browser_headers"]
    routes = {(r.verb, r.path): r for r in router.routes}
    assert routes[("get", "/")].pipelines == ("browser",) and routes[("get", "/")].guard is None
    assert ("live", "/items") in routes
    assert routes[("forward", "/api/admin")].target == "DemoWeb.AdminRouter"
    mailbox = routes[("forward", "/dev/mailbox")]
    assert mailbox.guard == "Application.compile_env(:demo, :dev_routes)"


def test_route_paths_are_joined_as_phoenix_joins_them(tmp_path):
    router = """
defmodule DemoWeb.Router do
  use Phoenix.Router

  scope "/health", DemoWeb do
    get "/", HealthController, :check
  end

  scope "/", DemoWeb do
    get "/", PageController, :home
    scope "/admin/" do
      get "//users/:id/", UserController, :show
    end
  end
end
"""
    (routes,) = [r.routes for r in load(tmp_path, {"lib/demo_web/router.ex": router}).routers]
    assert [r.path for r in routes] == ["/health", "/", "/admin/users/:id"]


def test_a_router_if_is_decided_for_the_env_and_its_pipe_through_holds_after_it(tmp_path):
    router = """
defmodule DemoWeb.Router do
  use Phoenix.Router

  scope "/" do
    if Mix.env() in [:dev, :test] do
      pipe_through [:browser]
    else
      pipe_through [:browser, :admin_auth]
    end
    get "/dashboard", DashboardController, :show
  end

  scope "/maybe" do
    if Application.compile_env(:demo, :open) do
      pipe_through :api
      get "/a", AController, :a
    else
      pipe_through :auth
      get "/b", BController, :b
    end
    get "/c", CController, :c
  end
end
"""
    (routes,) = [r.routes for r in load(tmp_path, {"lib/demo_web/router.ex": router}).routers]
    got = {r.path: (r.pipelines, r.guard) for r in routes}
    assert got["/dashboard"] == (("browser", "admin_auth"), None)
    open_ = "Application.compile_env(:demo, :open)"
    assert got["/maybe/a"] == (("api",), open_) and got["/maybe/b"] == (("auth",), open_)
    assert got["/maybe/c"] == (("api", "auth"), None)  # after it, either branch's pipelines may be in force


def test_application_children_and_migrator_child(tmp_path):
    project = load(tmp_path, {"lib/demo/application.ex": APPLICATION, "lib/demo/release.ex": "# removed\n"})
    names = [name for name, _, _ in project.children]
    assert names == ["DemoWeb.Telemetry", "Demo.Repo", "Ecto.Migrator", "DNSCluster", "Phoenix.PubSub",
                     "DemoWeb.Endpoint"]
    assert [m for m, _, _ in project.migrators] == ["Demo.Application"]


def test_children_behind_conditions_are_read_with_their_condition(tmp_path):
    application = '''
defmodule Demo.Application do
  use Application

  def start(_type, _args) do
    parent = FLAME.Parent.get()

    children =
      [
        {Task.Supervisor, name: Demo.TaskSupervisor},
        !parent && {DNSCluster, query: :ignore},
        if(Application.get_env(:demo, :jobs), do: {Oban, []}),
        Demo.Extra.enabled?() and Demo.Worker,
        false && Demo.Never,
        !parent && DemoWeb.Endpoint
      ]
      |> Enum.filter(& &1)

    Supervisor.start_link(children, strategy: :one_for_one)
  end
end
'''
    project = load(tmp_path, {"lib/demo/application.ex": application})
    assert project.children_complete
    assert [(c.module, c.index, c.condition) for c in project.child_specs] == [
        ("Task.Supervisor", 0, ""), ("DNSCluster", 1, "!parent"),
        ("Oban", 2, "Application.get_env(:demo, :jobs)"), ("Demo.Worker", 3, "Demo.Extra.enabled?()"),
        ("DemoWeb.Endpoint", 4, "!parent")]  # `false && Demo.Never` filtered out


def test_lib_env_reads_carry_defaults_and_conversions(tmp_path):
    lib = '''
defmodule Demo.Settings do
  def port, do: System.get_env("METRICS_PORT", "9568") |> String.to_integer()
  def region, do: System.get_env("FLY_REGION") || "local"
  def key, do: System.fetch_env!("STRIPE_KEY")
end
'''
    uses = "defmodule Demo.Billing do\n  def charge, do: {Demo.Settings.key(), &Demo.Settings.port/0, :region}\nend\n"
    project = load(tmp_path, {"lib/demo/settings.ex": lib, "lib/demo/billing.ex": uses})
    reads = {r.name: r for r in project.lib_reads}
    assert reads["METRICS_PORT"].convert == "integer" and reads["METRICS_PORT"].default.value == "9568"
    assert reads["FLY_REGION"].default.value == "local"
    assert reads["STRIPE_KEY"].required and reads["STRIPE_KEY"].origin.phase == "runtime"


def test_a_required_read_under_a_check_for_that_variable_never_raises(tmp_path):
    lib = '''
defmodule Demo.Metrics do
  def auth do
    if System.get_env("METRICS_AUTH") do
      String.split(System.fetch_env!("METRICS_AUTH"), ":")
    else
      System.fetch_env!("FALLBACK_AUTH")
    end
  end
  def token, do: if(token = System.get_env("TOKEN"), do: System.fetch_env!("TOKEN") <> token)
  def other, do: if(System.get_env("A") == nil, do: System.fetch_env!("A"))
end
'''
    uses = "defmodule Demo.Web do\n  def go, do: {Demo.Metrics.auth(), Demo.Metrics.token(), Demo.Metrics.other()}\nend\n"
    project = load(tmp_path, {"lib/demo/metrics.ex": lib, "lib/demo/web.ex": uses})
    required = {r.name: r.required for r in project.lib_reads if r.how == "System.fetch_env!"}
    assert required == {"METRICS_AUTH": False, "FALLBACK_AUTH": True, "TOKEN": False, "A": True}


def test_reads_in_a_function_nothing_calls_are_left_out(tmp_path):
    """An old endpoint's `load_from_system_env/1`, whose caller is gone: its read never runs, even
    when a comment still names the function. A callback (`@impl`, or a name libraries call) runs
    though nothing in the project calls it, and a function a release script calls runs too."""
    endpoint = '''
defmodule DemoWeb.Endpoint do
  use Phoenix.Endpoint, otp_app: :demo

  def load_from_system_env(config) do
    port = System.get_env("PORT") || raise "expected the PORT environment variable to be set"
    {:ok, Keyword.put(config, :http, port: port)}
  end

  @impl true
  def prepare(config), do: Keyword.put(config, :region, System.fetch_env!("REGION"))

  def init(_key, config), do: {:ok, Keyword.put(config, :host, System.fetch_env!("HOST"))}
end
'''
    release = "defmodule Demo.Release do\n  def seed, do: System.fetch_env!(\"SEED_FILE\")\nend\n"
    prod = GOOD["config/prod.exs"] + "# the port is read by DemoWeb.Endpoint.load_from_system_env/1\n"
    project = load(tmp_path, {"lib/demo_web/endpoint.ex": endpoint, "lib/demo/release.ex": release,
                              "config/prod.exs": prod, "rel/overlays/bin/seed": 'exec ./demo eval "Demo.Release.seed()"\n'})
    assert sorted(r.name for r in project.lib_reads) == ["HOST", "REGION", "SEED_FILE"]


def test_project_found_in_a_subdirectory(tmp_path):
    project = load(tmp_path, {}, sub="elixir")
    assert project.root == tmp_path / "elixir" and project.mix.app == "demo"


def test_repos_from_use_ecto_repo(tmp_path):
    project = load(tmp_path, {})
    assert project.repo_keys() == [("demo", "Demo.Repo")]
    assert isinstance(project.config().get("demo", "Demo.Repo", "ssl"), Lit)


def test_an_endpoint_module_is_evidence_of_phoenix_when_deps_are_opaque(tmp_path):
    mix = GOOD["mix.exs"].replace('deps: deps()', 'deps: Shop.Deps.all()')
    project = load(tmp_path, {"mix.exs": mix})
    assert not project.has_dep("phoenix") and project.endpoints

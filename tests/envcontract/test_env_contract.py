"""The contract built from the Project: variables, requirement, types, phases, places, envs."""

from env_support import line_of
from project_shapes import GOOD

from phoenix_ops.envcontract.contract import build_contract, environments
from phoenix_ops.project import load_project


def RUNTIME_LINE(name: str) -> int:
    return line_of(GOOD["config/runtime.exs"], f'System.get_env("{name}")')


def contract_of(path, envs=None):
    return build_contract(load_project(path), envs)


def test_generated_runtime_exs(project_dir):
    c = contract_of(project_dir())
    assert c.envs == ["dev", "prod", "test"] and c.complete
    v = c.variables
    assert set(v) == {"PHX_SERVER", "DATABASE_URL", "ECTO_IPV6", "POOL_SIZE", "SECRET_KEY_BASE", "PHX_HOST", "PORT",
                      "LOGGER_LEVEL"}
    assert [e for e in c.envs if v["DATABASE_URL"].required_in(e)] == ["prod"]
    assert v["SECRET_KEY_BASE"].required_in("prod") and not v["PHX_HOST"].required_in("prod")
    assert v["PORT"].types == ["integer"] and v["PORT"].defaults == ["4000"]
    assert v["POOL_SIZE"].types == ["integer"] and v["POOL_SIZE"].defaults == ["10"]
    assert v["ECTO_IPV6"].types == ["boolean"]
    assert v["PHX_SERVER"].types == ["presence"] and v["PHX_SERVER"].envs == ["dev", "prod", "test"]
    assert v["DATABASE_URL"].envs == ["prod"] and v["DATABASE_URL"].phases == ["runtime"]
    assert [p.where for p in v["DATABASE_URL"].places] == [f"config/runtime.exs:{RUNTIME_LINE('DATABASE_URL')}"]
    assert c.secret_key_base == {"SECRET_KEY_BASE"}


def test_other_environments_are_found_but_not_imported_helper_files(project_dir):
    path = project_dir({
        "config/config.exs": CONFIG_WITH_HELPER,
        "config/appsignal.exs": 'import Config\nconfig :appsignal, :config, push_api_key: System.get_env("APPSIGNAL_KEY")\n',
        "config/staging.exs": 'import Config\nconfig :demo, :banner, System.get_env("STAGING_BANNER") || "staging"\n',
    })
    project = load_project(path)
    assert environments(project) == ["dev", "prod", "staging", "test"]
    c = build_contract(project)
    assert c.variables["STAGING_BANNER"].envs == ["staging"]
    assert c.variables["APPSIGNAL_KEY"].envs == ["dev", "prod", "staging", "test"]
    assert c.variables["APPSIGNAL_KEY"].phases == ["compile"]


CONFIG_WITH_HELPER = GOOD["config/config.exs"] + 'import_config "appsignal.exs"\n'


def test_env_narrows_to_one_environment(project_dir):
    c = contract_of(project_dir(), ["dev"])
    assert c.envs == ["dev"] and set(c.variables) == {"PHX_SERVER"}


def test_reads_of_one_variable_in_several_places_merge(project_dir):
    path = project_dir({"config/prod.exs": 'import Config\nconfig :demo, :port, System.get_env("PORT", "80")\n',
                        "lib/demo/worker.ex": WORKER})
    port = contract_of(path).variables["PORT"]
    assert [p.where for p in port.places] == ["config/prod.exs:2", f"config/runtime.exs:{RUNTIME_LINE('PORT')}",
                                          "lib/demo/worker.ex:3"]
    assert port.defaults == ["80", "4000"]
    assert port.phases == ["compile", "runtime"]
    assert port.required_in("prod") and port.required_in("dev")  # fetch_env! in lib, read in every env
    assert [p.lib for p in port.places] == [False, False, True]


WORKER = '''
defmodule Demo.Worker do
  def port, do: String.to_integer(System.fetch_env!("PORT"))
end
'''


def test_conditional_requirement(project_dir):
    runtime = GOOD["config/runtime.exs"] + '''
case System.get_env("CLUSTER_STRATEGY") do
  "dns" -> config :libcluster, topologies: [dns: [query: System.fetch_env!("DNS_CLUSTER_QUERY")]]
  _ -> :ok
end
'''
    c = contract_of(project_dir({"config/runtime.exs": runtime}), ["prod"])
    query = c.variables["DNS_CLUSTER_QUERY"]
    assert not query.required_in("prod") and query.conditionally_required_in("prod")
    assert query.conditions == ['case System.get_env("CLUSTER_STRATEGY") -> "dns"']


def test_prod_secret_exs_and_legacy_system_tuples(project_dir):
    path = project_dir({
        "config/config.exs": 'use Mix.Config\nimport_config "#{Mix.env()}.exs"\n',
        "config/prod.exs": 'use Mix.Config\nconfig :demo, DemoWeb.Endpoint, http: [port: {:system, "PORT"}]\n'
                           'import_config "prod.secret.exs"\n',
        "config/prod.secret.exs": '''use Mix.Config
secret_key_base = System.get_env("SECRET_KEY_BASE") || raise "SECRET_KEY_BASE is missing"
config :demo, DemoWeb.Endpoint, secret_key_base: secret_key_base
config :demo, Demo.Repo, pool_size: String.to_integer(System.get_env("POOL_SIZE", "10"))
''',
        "config/runtime.exs": "import Config\n",
    })
    c = contract_of(path, ["prod"])
    v = c.variables
    assert v["PORT"].phases == ["runtime"]  # Phoenix resolves {:system, _} when the endpoint starts
    assert v["SECRET_KEY_BASE"].phases == ["compile"] and v["SECRET_KEY_BASE"].required_in("prod")
    assert v["POOL_SIZE"].defaults == ["10"] and v["POOL_SIZE"].types == ["integer"]
    assert c.secret_key_base == {"SECRET_KEY_BASE"}


def test_dotenvy_source_makes_the_contract_incomplete(project_dir):
    runtime = '''import Config
import Dotenvy
source!([".env", System.get_env()])
config :demo, DemoWeb.Endpoint, http: [port: env!("PORT", :integer, 4000)]
config :demo, Demo.Repo, url: env!("DATABASE_URL", :string)
config :demo, :debug, env!("DEBUG", :boolean, false)
'''
    c = contract_of(project_dir({"config/runtime.exs": runtime}), ["prod"])
    assert not c.complete
    assert [(o.file, o.line) for o in c.opaque] == [("config/runtime.exs", 3)]
    v = c.variables
    assert v["DATABASE_URL"].required_in("prod") and v["DATABASE_URL"].places[0].how == "env!"
    assert v["PORT"].types == ["integer"] and v["PORT"].defaults == ["4000"] and not v["PORT"].required_in("prod")
    assert v["DEBUG"].types == ["boolean"] and v["DEBUG"].defaults == ["false"]


def test_secret_looking_defaults_are_redacted(project_dir):
    runtime = 'import Config\nconfig :demo, :k, System.get_env("FALLBACK") || "sk_live_abcdefghijklmnopqrstuvwxyz0123456789"\n'
    c = contract_of(project_dir({"config/runtime.exs": runtime}))
    assert c.variables["FALLBACK"].defaults == ["<redacted 44 chars>"]


def test_helper_macros_inside_config_values_make_the_contract_incomplete(project_dir):
    runtime = """import Config
if config_env() == :prod do
  import Portal.Config, only: [env_var_to_config!: 1]
  config :portal, Portal.Repo,
    [{:database, env_var_to_config!(:database_name)}, {:pool_size, env_var_to_config!(:pool_size)}]
  config :portal, :key, System.fetch_env!("KEY")
end
"""
    c = contract_of(project_dir({"config/runtime.exs": runtime}), ["prod"])
    assert [(o.line, o.text) for o in c.opaque] == [(5, "env_var_to_config!(:database_name)"),
                                                     (5, "env_var_to_config!(:pool_size)")]
    assert set(c.variables) == {"KEY"}  # System.fetch_env! is read, not taken for a helper


def test_releases_exs_is_read_at_boot(project_dir):
    releases = 'import Config\nconfig :demo, Demo.Repo, url: System.fetch_env!("DATABASE_URL")\n'
    path = project_dir({"config/releases.exs": releases, "config/runtime.exs": None})
    url = contract_of(path, ["prod"]).variables["DATABASE_URL"]
    assert url.phases == ["runtime"] and url.required_in("prod")
    assert [p.where for p in url.places] == ["config/releases.exs:2"]


def test_secret_defaults_are_never_shown(project_dir):
    from phoenix_ops.envcontract.contract import HIDDEN_DEFAULT, build_contract
    from phoenix_ops.project import load_project
    runtime = 'import Config\nconfig :demo, DemoWeb.Endpoint, secret_key_base: System.get_env("SECRET_KEY_BASE") || "change-me"\n'
    contract = build_contract(load_project(project_dir({"config/runtime.exs": runtime})), ["prod"])
    assert [p.default for p in contract.variables["SECRET_KEY_BASE"].places] == [HIDDEN_DEFAULT]

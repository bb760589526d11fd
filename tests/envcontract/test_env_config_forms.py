"""Forms of real config that, read wrong, would make the env contract wrong."""

import pytest

from phoenix_ops.envcontract.check import EnvSet, check_env
from phoenix_ops.envcontract.contract import build_contract
from phoenix_ops.project import load_project
from phoenix_ops.project.dotenv import parse_dotenv


def contract(project_dir, files):
    return build_contract(load_project(project_dir(files)), ["prod"])


def runtime(body: str) -> dict:
    return {"config/runtime.exs": "import Config\n" + body}


@pytest.mark.parametrize("body", [
    "config :demo, Demo.Repo, database: compile_config!(:database_name)\n",
    'prefix = Application.get_env(:demo, :prefix)\nconfig :demo, :url, System.get_env(prefix <> "_URL")\n',
], ids=["helper-macro-in-keywords", "computed-name"])
def test_unreadable_reads_are_recorded_as_opaque(project_dir, body):
    assert load_project(project_dir(runtime(body))).config("prod").opaque


def test_for_over_variable_names_reads_every_name(project_dir):
    c = contract(project_dir, runtime('for name <- ~w(SMTP_HOST SMTP_USER) do\n'
                                      '  config :demo, String.to_atom(name), System.fetch_env!(name)\nend\n'))
    assert {"SMTP_HOST", "SMTP_USER"} <= set(c.variables)


def test_unless_set_raise_makes_the_variable_required(project_dir):
    c = contract(project_dir, runtime('unless System.get_env("LICENSE_KEY") do\n  raise "LICENSE_KEY is missing"\nend\n'))
    assert c.variables["LICENSE_KEY"].required_in("prod")


def test_comparison_with_a_non_boolean_word_is_not_a_boolean(project_dir):
    c = contract(project_dir, runtime('if System.get_env("CLUSTER_STRATEGY") == "dns" do\n'
                                      '  config :libcluster, topologies: [dns: []]\nend\n'))
    assert "boolean" not in c.variables["CLUSTER_STRATEGY"].types


def test_integer_parse_is_not_strict(project_dir):
    path = project_dir(runtime('config :demo, :t, System.get_env("TIMEOUT", "5000") |> Integer.parse() |> elem(0)\n'))
    entries, _ = parse_dotenv("TIMEOUT=5000ms\n")
    found = check_env(build_contract(load_project(path), ["prod"]), "prod", EnvSet(["e"], entries))
    assert found == []


def test_module_attribute_in_lib_is_read_at_compile_time(project_dir):
    lib = 'defmodule Demo.Stripe do\n  @key System.get_env("STRIPE_KEY")\n  def key, do: @key\nend\n'
    c = contract(project_dir, {"lib/demo/stripe.ex": lib})
    assert c.variables["STRIPE_KEY"].phases == ["compile"]

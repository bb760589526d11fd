"""The contract as a table, as versioned JSON and as a committable .env.example."""

import json

from phoenix_ops.envcontract.contract import build_contract
from phoenix_ops.envcontract.render import render_contract
from phoenix_ops.project import load_project
from phoenix_ops.project.dotenv import parse_dotenv

INCOMPLETE_RUNTIME = '''import Config
config :demo, Demo.Repo, url: System.fetch_env!("DATABASE_URL")
config :demo, :api_key, System.get_env("API_KEY") || "sk_test_0123456789abcdefghijklmnopqrstuv"
if System.get_env("MAIL") == "smtp" do
  config :demo, :smtp_port, String.to_integer(System.fetch_env!("SMTP_PORT"))
end
source!(["…", System.get_env()])
'''


def render(path, fmt, envs=None):
    project = load_project(path)
    return render_contract(build_contract(project, envs), fmt, project.summary())


def row(text: str, name: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if ln.startswith(name + " "))
    return line.split()


def test_text_table_rows(project_dir):
    text = render(project_dir(), "text")
    assert text.splitlines()[0] == "Env contract of demo · environments: dev, prod, test"
    assert row(text, "DATABASE_URL")[:6] == ["DATABASE_URL", "prod", "string", "-", "runtime", "prod"]
    assert row(text, "PORT")[1:5] == ["no", "integer", "4000", "runtime"]
    assert row(text, "PHX_SERVER")[1:6] == ["no", "presence", "-", "runtime", "all"]
    assert "8 variables; required: 0 in dev, 2 in prod, 0 in test" in text
    assert "INCOMPLETE" not in text


def test_text_table_shows_conditions_and_incompleteness(project_dir):
    text = render(project_dir({"config/runtime.exs": INCOMPLETE_RUNTIME}), "text", ["prod"])
    assert row(text, "SMTP_PORT")[1:3] == ["conditional", "integer"]
    assert '    read only when System.get_env("MAIL") == "smtp"' in text
    assert 'INCOMPLETE' in text and '  config/runtime.exs:7  source!(["…", System.get_env()])' in text
    assert "sk_test" not in text and "(committed literal, hidden)" in text


def test_json_is_versioned_and_complete(project_dir):
    doc = json.loads(render(project_dir({"config/runtime.exs": INCOMPLETE_RUNTIME}), "json"))
    assert doc["schema_version"] == 1 and doc["tool"]["command"] == "env"
    assert doc["environments"] == ["dev", "prod", "test"] and doc["complete"] is False
    assert doc["opaque"] == [{"file": "config/runtime.exs", "line": 7, "text": 'source!(["…", System.get_env()])'}]
    smtp = next(v for v in doc["variables"] if v["name"] == "SMTP_PORT")
    assert smtp["required_in"] == [] and smtp["conditionally_required_in"] == ["dev", "prod", "test"]
    assert smtp["types"] == ["integer"] and smtp["places"][0]["line"] == 5
    assert smtp["places"][0]["environments"]["prod"] == ['System.get_env("MAIL") == "smtp"']
    url = next(v for v in doc["variables"] if v["name"] == "DATABASE_URL")
    assert url["required_in"] == ["dev", "prod", "test"] and url["places"][0]["how"] == "System.fetch_env!"


def test_dotenv_example_is_parseable_and_holds_no_values(project_dir):
    text = render(project_dir(), "dotenv-example", ["prod"])
    entries, errors = parse_dotenv(text)
    assert errors == []
    assert {e.key: e.value for e in entries} == {"DATABASE_URL": "", "SECRET_KEY_BASE": ""}  # the required ones
    assert "# PORT=" in text and "# optional · integer · default 4000 · runtime" in text
    assert "# required · string · runtime" in text


def test_dotenv_example_across_environments_says_where_required(project_dir):
    text = render(project_dir({"config/runtime.exs": INCOMPLETE_RUNTIME}), "dotenv-example")
    assert "# INCOMPLETE" in text
    assert "# required in dev (conditional), prod (conditional), test (conditional) · integer · runtime" in text
    assert "# read only when System.get_env(\"MAIL\") == \"smtp\"" in text
    assert "sk_test" not in text


def test_places_read_under_a_condition_are_named_when_others_are_not(project_dir):
    runtime = """import Config
config :demo, :host, System.fetch_env!("PHX_HOST")
if System.get_env("ROLE") == "web" do
  config :demo, :check_origin, ["//" <> System.fetch_env!("PHX_HOST")]
end
"""
    text = render(project_dir({"config/runtime.exs": runtime}), "text", ["prod"])
    assert row(text, "PHX_HOST")[1] == "yes"
    assert '    config/runtime.exs:4 only when System.get_env("ROLE") == "web"' in text


def test_a_project_that_reads_no_variables(project_dir):
    text = render(project_dir({"config/runtime.exs": "import Config\n"}), "text", ["test"])
    assert "(no environment variables are read)" in text and "VARIABLE" not in text
    assert "0 variables; required: 0 in test" in text

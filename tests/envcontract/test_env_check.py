"""`env check`: each rule on a small env file against the generated project's contract."""

import pytest
from env_support import GOOD_SECRET
from project_shapes import GOOD

from phoenix_ops.envcontract.check import EnvSet, check_env
from phoenix_ops.envcontract.contract import build_contract
from phoenix_ops.project import load_project
from phoenix_ops.project.dotenv import parse_dotenv

BASE = f"DATABASE_URL=ecto://u:p@db/demo\nSECRET_KEY_BASE={GOOD_SECRET}\n"


def run(path, *texts: str, env: str = "prod"):
    env_set = EnvSet([f"env{i}" for i in range(len(texts))])
    for i, text in enumerate(texts):
        entries, malformed = parse_dotenv(text, f"env{i}")
        env_set.entries += entries
        env_set.malformed += malformed
    return check_env(build_contract(load_project(path), [env]), env, env_set)


def brief(findings):
    return [(f.rule_id, f.key, f.location.line, f.severity.label) for f in findings]


def test_a_complete_env_file_passes(project_dir):
    assert run(project_dir(), BASE + "PHX_HOST=demo.example.com\nPORT=4000\nPOOL_SIZE=20\nECTO_IPV6=true\n"
                              "PHX_SERVER=true\nMIX_ENV=prod\nRELEASE_COOKIE=abc\n") == []


def test_missing_required_variables_are_errors_at_the_file(project_dir):
    found = run(project_dir(), "PHX_HOST=demo.example.com\n")
    assert brief(found) == [("REL050", "DATABASE_URL", None, "error"), ("REL050", "SECRET_KEY_BASE", None, "error")]
    assert found[0].location.path == "env0" and "config/runtime.exs" in found[0].message


def test_later_files_complete_earlier_ones(project_dir):
    assert run(project_dir(), "DATABASE_URL=ecto://db/demo\n", f"SECRET_KEY_BASE={GOOD_SECRET}\n") == []


@pytest.mark.parametrize("value, words", [
    ("abc", "not a number"), ("1.5", "fractional part"), ("", "is empty"), (" 10", "spaces"), ("1_000", "separators"),
])
def test_values_that_string_to_integer_rejects(project_dir, value, words):
    found = run(project_dir(), BASE + f'POOL_SIZE="{value}"\n')
    assert brief(found) == [("REL051", "POOL_SIZE", 3, "error")]
    assert words in found[0].message and "config/runtime.exs" in found[0].message


@pytest.mark.parametrize("value", ["4000", "-1", "+8080"])
def test_values_that_string_to_integer_accepts(project_dir, value):
    assert run(project_dir(), BASE + f"PORT={value}\n") == []


def test_float_needs_a_decimal_point(project_dir):
    runtime = 'import Config\nconfig :demo, :ratio, String.to_float(System.get_env("RATIO") || "0.5")\n'
    path = project_dir({"config/runtime.exs": runtime})
    assert brief(run(path, "RATIO=2\n")) == [("REL051", "RATIO", 1, "error")]
    assert run(path, "RATIO=2.0\n") == []


def test_boolean_words(project_dir):
    assert brief(run(project_dir(), BASE + "ECTO_IPV6=yes\n")) == [("REL052", "ECTO_IPV6", 3, "warning")]
    assert run(project_dir(), BASE + "ECTO_IPV6=0\n") == []


@pytest.mark.parametrize("value", ["false", "0", "", "Off"])
def test_presence_flag_set_to_false_still_turns_the_server_on(project_dir, value):
    found = run(project_dir(), BASE + f"PHX_SERVER={value}\n")
    assert brief(found) == [("REL061", "PHX_SERVER", 3, "warning")]


def test_typo_of_a_known_name_and_unknown_variables(project_dir):
    found = run(project_dir(), f"DATABSE_URL=ecto://u:hunter2@db/demo\nSECRET_KEY_BASE={GOOD_SECRET}\nFOO=1\nHOST=x\n")
    assert brief(found) == [("REL050", "DATABASE_URL", None, "error"), ("REL053", "DATABSE_URL", 1, "warning"),
                            ("REL055", "FOO", 3, "info"), ("REL055", "HOST", 4, "info")]
    assert "DATABASE_URL" in found[1].message and "is not set otherwise" in found[1].hint


def test_short_secret_key_base_is_reported_without_its_value(project_dir):
    found = run(project_dir(), "DATABASE_URL=ecto://db/demo\nSECRET_KEY_BASE=tooshort-but-secret\n")
    assert brief(found) == [("REL054", "SECRET_KEY_BASE", 2, "error")]
    assert "19 bytes" in found[0].message and "tooshort" not in found[0].message


def test_secret_key_base_is_found_by_the_config_key_it_feeds(project_dir):
    runtime = 'import Config\nconfig :demo, DemoWeb.Endpoint, secret_key_base: System.fetch_env!("WEB_SECRET")\n'
    found = run(project_dir({"config/runtime.exs": runtime}), "WEB_SECRET=abc\n")
    assert brief(found) == [("REL054", "WEB_SECRET", 1, "error")]


@pytest.mark.parametrize("value", ["https://demo.example.com", "demo.example.com:443", "demo.example.com/app"])
def test_url_host_must_be_a_bare_host_name(project_dir, value):
    found = run(project_dir(), BASE + f"PHX_HOST={value}\n")
    assert brief(found) == [("REL062", "PHX_HOST", 3, "warning")]


def test_empty_required_variable(project_dir):
    found = run(project_dir(), f"DATABASE_URL=\nSECRET_KEY_BASE={GOOD_SECRET}\n")
    assert brief(found) == [("REL057", "DATABASE_URL", 1, "warning")]


def test_malformed_lines_and_duplicates(project_dir):
    found = run(project_dir(), BASE + "PORT=80\nnot an assignment\nPORT=4000\n")
    assert brief(found) == [("REL056", "not a KEY=value assignment", 4, "warning"), ("REL059", "PORT", 5, "warning")]


def test_compile_time_variable_in_a_runtime_env_file(project_dir):
    prod = 'import Config\nconfig :demo, :build_sha, System.get_env("GIT_SHA") || "dev"\n'
    found = run(project_dir({"config/prod.exs": prod}), BASE + "GIT_SHA=abc123\n")
    assert brief(found) == [("REL060", "GIT_SHA", 3, "warning")]


def test_apps_started_with_mix_read_all_config_at_boot(project_dir):
    prod = 'import Config\nconfig :demo, :key, System.fetch_env!("API_KEY")\n'
    without_release = {rel: body for rel, body in GOOD.items() if not rel.startswith("rel/")}
    path = project_dir({"config/prod.exs": prod, "Procfile": "web: mix phx.server\n"}, base=without_release)
    assert brief(run(path, BASE + "API_KEY=k\n")) == []
    assert brief(run(path, BASE)) == [("REL050", "API_KEY", None, "error")]


def test_dev_and_test_evaluate_compile_time_config_at_every_start(project_dir):
    dev = 'import Config\nconfig :demo, :key, System.fetch_env!("API_KEY")\n'
    path = project_dir({"config/dev.exs": dev})
    assert brief(run(path, "API_KEY=k\n", env="dev")) == []
    assert brief(run(path, "PHX_SERVER=true\n", env="dev")) == [("REL050", "API_KEY", None, "error")]


def test_compile_time_requirement_belongs_to_the_build(project_dir):
    prod = 'import Config\nconfig :demo, :key, System.fetch_env!("API_KEY")\n'
    found = run(project_dir({"config/prod.exs": prod}), BASE)
    assert brief(found) == [("REL050", "API_KEY", None, "warning")] and "built" in found[0].message


def test_conditionally_required_is_a_low_confidence_warning(project_dir):
    runtime = ('import Config\nif System.get_env("CLUSTER") == "dns" do\n'
               '  config :demo, :q, System.fetch_env!("DNS_QUERY")\nend\n')
    found = run(project_dir({"config/runtime.exs": runtime}), "CLUSTER=true\n")
    assert brief(found) == [("REL050", "DNS_QUERY", None, "warning")]
    assert found[0].confidence.label == "low" and 'System.get_env("CLUSTER") == "dns"' in found[0].message


def test_incomplete_contract_lowers_unknown_confidence(project_dir):
    runtime = 'import Config\nimport Dotenvy\nsource!([".env", System.get_env()])\nconfig :demo, :p, env!("PORT", :integer)\n'
    found = run(project_dir({"config/runtime.exs": runtime}), "PORT=4000\nSMTP_HOST=mail\n")
    assert brief(found) == [("REL058", "config/runtime.exs", 3, "info"),
                            ("REL055", "SMTP_HOST", 2, "info")]
    assert found[0].location.path == "config/runtime.exs" and found[1].confidence.label == "low"


def test_values_from_the_environment_or_with_expansions_are_not_judged(project_dir):
    assert run(project_dir(), BASE + "PORT\nPOOL_SIZE=${POOL}\n") == []



DOTENVY = '''import Config
import Dotenvy
source!([".env", System.get_env()])
config :demo, :port, env!("PORT", :integer, 4000)
config :demo, :ratio, env!("RATIO", :float, 0.5)
config :demo, :debug, env!("DEBUG", :boolean, false)
'''


@pytest.mark.parametrize("text, expected", [
    ("PORT=4000abc\nRATIO=2\nDEBUG=yes\n", []),  # Integer.parse/Float.parse take a prefix; any word is true
    ("PORT=\n", []),  # Dotenvy reads "" as 0
    ("PORT=abc\n", [("REL051", "PORT", 1, "error")]),
    ("RATIO=.5\n", [("REL051", "RATIO", 1, "error")]),
    ("DEBUG=off\n", [("REL052", "DEBUG", 1, "warning")]),
])
def test_dotenvy_conversions_are_lenient(project_dir, text, expected):
    found = [f for f in run(project_dir({"config/runtime.exs": DOTENVY}), text) if f.rule_id != "REL058"]
    assert brief(found) == expected
    assert all("Dotenvy" in f.message for f in found)


def test_long_variable_names_stay_readable(project_dir):
    name = "GOOGLE_CLOUD_STORAGE_SERVICE_ACCOUNT_JSON"
    found = run(project_dir(), BASE + f"{name}=x\n")
    assert name in found[0].message

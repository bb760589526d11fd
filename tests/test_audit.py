"""`phoenix-ops check` end to end: settings, suppression comments, baselines and the exit code."""

import json
from pathlib import Path

import pytest
from cli_run import invoke
from test_sarif import sarif_validator  # noqa: F401 (a fixture)

MIX_EXS = """\
defmodule Shop.MixProject do
  use Mix.Project

  def project, do: [app: :shop, version: "0.1.0", deps: [{:phoenix, "~> 1.7"}], releases: [shop: []]]
end
"""
RUNTIME = """\
import Config

if config_env() == :prod do
  config :shop, ShopWeb.Endpoint, secret_key_base: System.fetch_env!("SECRET_KEY_BASE")
end
"""
# SEC001 finds the literal api_key (line 4).
PROD = """\
import Config

config :shop, Shop.Mailer,
  api_key: "not-so-secret-key"
"""


def project(tmp_path: Path, prod: str = PROD, settings: str | None = None, **files: str) -> Path:
    layout = {"mix.exs": MIX_EXS, "config/config.exs": 'import Config\nimport_config "#{config_env()}.exs"\n',
              "config/prod.exs": prod, "config/runtime.exs": RUNTIME, ".phoenix-ops.toml": settings, **files}
    for rel, body in layout.items():
        if body is not None:
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(body)
    return tmp_path


def check(root: Path, *args: str):
    """Run `check` on the SEC and OPS rules (the others are not what these tests are about)."""
    result = invoke(["check", str(root), "--select", "SEC,OPS", "--no-color", *args])
    return result.exit_code, result.output


def ids(output: str) -> list[str]:
    return [f["rule_id"] for f in json.loads(output)["findings"]]


def test_a_finding_fails_the_gate_and_the_fail_level_decides(tmp_path):
    root = project(tmp_path)
    code, out = check(root)
    assert code == 1 and "config/prod.exs:4: error SEC001" in out
    clean = project(tmp_path / "clean", prod="import Config\n")
    assert check(clean) == (0, "SEC: 5 passed, 2 not applicable\nOPS: 12 passed\n\nno findings\n")  # areas left out say nothing


def test_text_and_json_say_what_was_checked_per_area(tmp_path):
    root = project(tmp_path)
    code, out = check(root, "--select", "SEC,OPS,JOB")
    assert code == 1 and "\nSEC: 1 failed, 4 passed, 2 not applicable\nJOB: 9 not applicable\nOPS: 12 passed\n\n1 error," in out
    code, out = check(root, "--select", "SEC,OPS,JOB", "-f", "json")
    checklist = json.loads(out)["checklist"]
    assert checklist["SEC"]["counts"] == {"failed": 1, "passed": 4, "not applicable": 2} and checklist["JOB"]["label"] == "background jobs"
    rows = {r["id"]: r for area in checklist.values() for r in area["rules"]}
    assert rows["SEC001"] == {"id": "SEC001", "name": "literal-secret-in-config", "status": "failed", "findings": 1}
    assert rows["JOB001"]["status"] == "not applicable" and rows["JOB001"]["reason"] == "Oban is not a dependency"
    assert rows["REL001"] == {"id": "REL001", "name": "endpoint-never-starts", "status": "not run",
                              "reason": "not selected by --select"}
    assert invoke(["check", str(root), "--select", "SEC", "-q"]).output == ""


def test_a_suppression_comment_hides_the_finding_and_passes(tmp_path):
    prod = PROD.replace("config :shop, Shop.Mailer",
                        "# phoenix-ops:ignore SEC001 -- a sandbox key, worthless outside tests\nconfig :shop, Shop.Mailer")
    code, out = check(project(tmp_path, prod))
    assert (code, out) == (0, "SEC: 1 suppressed, 4 passed, 2 not applicable\nOPS: 12 passed\n\n"
                              "0 errors, 0 warnings, 0 infos; 1 suppressed\n")
    code, out = check(project(tmp_path, prod), "-f", "json")
    assert json.loads(out)["suppressed"][0]["reason"] == "a sandbox key, worthless outside tests"


def test_a_suppression_without_reason_hides_nothing_and_is_reported(tmp_path):
    prod = PROD.replace("  api_key", "  # phoenix-ops:ignore SEC001\n  api_key")
    code, out = check(project(tmp_path, prod), "-f", "json")
    assert code == 1 and ids(out) == ["OPS011", "SEC001"]


def test_an_unused_suppression_is_reported_after_all_rules_ran(tmp_path):
    lib = "defmodule Shop do\n  # phoenix-ops:ignore SEC002 -- was needed once\n  def f, do: 1\nend\n"
    code, out = check(project(tmp_path, **{"lib/shop.ex": lib}), "-f", "json")
    assert code == 1 and ids(out) == ["SEC001", "OPS013"]
    # Not run, so not judged: the suppression may be needed by the full audit.
    code, out = check(project(tmp_path, **{"lib/shop.ex": lib}), "--ignore", "SEC002", "-f", "json")
    assert ids(out) == ["SEC001"]


def test_settings_disable_exclude_and_severity(tmp_path):
    disabled = '[rules.SEC001]\ndisable = true\nreason = "the mailer key is a public sandbox key"\n'
    code, out = check(project(tmp_path / "a", settings=disabled), "-f", "json")
    assert code == 0 and ids(out) == []
    assert json.loads(out)["project"]["disabled_rules"] == {"SEC001": "the mailer key is a public sandbox key"}
    assert check(project(tmp_path / "b", settings='exclude = ["config/prod.exs"]\n'))[0] == 0
    regraded = '[rules.SEC001]\nseverity = "info"\nreason = "sandbox key"\n'
    code, out = check(project(tmp_path / "c", settings=regraded))
    assert code == 0 and "info SEC001" in out
    assert check(project(tmp_path / "d", settings=regraded), "--fail-level", "info")[0] == 1


def test_the_settings_file_cannot_open_the_gate(tmp_path):
    settings = 'fail-level = "info"\nexclde = ["config"]\n[rules.SEC001]\ndisable = true\n'
    code, out = check(project(tmp_path, settings=settings), "-f", "json")
    assert code == 1
    assert sorted(ids(out)) == ["OPS014", "OPS015", "OPS016", "SEC001"]


def test_invalid_toml_is_a_usage_error(tmp_path):
    code, out = check(project(tmp_path, settings="exclude = [\n"))
    assert code == 2 and "not valid TOML" in out


def test_baseline_hides_known_findings_across_line_moves_but_not_new_ones(tmp_path):
    root = project(tmp_path / "app")
    baseline = tmp_path / "baseline.json"
    code, out = check(root, "--write-baseline", str(baseline))
    assert code == 0 and "baseline of 1 finding" in out
    assert [e["rule_id"] for e in json.loads(baseline.read_text())["findings"]] == ["SEC001"]
    assert check(root, "--baseline", str(baseline))[0] == 0

    moved = "import Config\n\n# the mailer\nconfig :shop, :other, level: 1\n\n" + PROD.replace("import Config\n", "")
    root = project(tmp_path / "app", moved)
    code, out = check(root, "--baseline", str(baseline), "-f", "json")
    assert code == 0 and json.loads(out)["suppressed"][0]["location"]["line"] == 8

    with_new = moved + '\nconfig :shop, Shop.Payments,\n  api_key: "another-literal-key"\n'
    code, out = check(project(tmp_path / "app", with_new), "--baseline", str(baseline), "-f", "json")
    doc = json.loads(out)
    assert code == 1
    assert [(f["rule_id"], "Shop.Payments" in f["message"]) for f in doc["findings"]] == [("SEC001", True)]
    assert [f["reason"] for f in doc["suppressed"]] == ["baseline"]


@pytest.mark.parametrize("content", [None, "not json"])
def test_a_missing_or_corrupt_baseline_is_a_usage_error(tmp_path, content):
    baseline = tmp_path / "baseline.json"
    if content is not None:
        baseline.write_text(content)
    code, out = check(project(tmp_path / "app"), "--baseline", str(baseline))
    assert code == 2 and "baseline" in out


def test_sarif_output_of_a_real_check_is_valid(tmp_path, sarif_validator):  # noqa: F811
    prod = PROD + "\n# phoenix-ops:ignore SEC001 -- r\nconfig :shop, :x, password: \"hunter2hunter2\"\n"
    code, out = check(project(tmp_path, prod), "-f", "sarif")
    doc = json.loads(out)
    sarif_validator.validate(doc)
    results = doc["runs"][0]["results"]
    assert code == 1
    assert [(r["ruleId"], "suppressions" in r) for r in results] == [("SEC001", False), ("SEC001", True)]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "config/prod.exs"


def test_writing_a_baseline_records_everything_even_with_an_old_one_given(tmp_path):
    root = project(tmp_path / "app")
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    check(root, "--write-baseline", str(old))
    with_new = PROD + 'config :shop, Shop.Payments, api_key: "another-literal-key"\n'
    root = project(tmp_path / "app", with_new)
    assert check(root, "--baseline", str(old), "--write-baseline", str(new))[0] == 0
    assert len(json.loads(new.read_text())["findings"]) == 2


def test_a_rule_that_raises_becomes_a_finding_not_a_traceback(tmp_path, monkeypatch):
    import dataclasses

    from phoenix_ops.catalog import catalog

    def broken(project):
        raise KeyError("unexpected shape")

    rules = catalog("static", "audit", "envfile").rules
    monkeypatch.setitem(rules, "SEC001", dataclasses.replace(rules["SEC001"], check=broken))
    code, output = check(project(tmp_path), "--format", "json")
    failed = [f for f in json.loads(output)["findings"] if f["rule_id"] == "OPS004"]
    assert code == 1 and len(failed) == 1 and "SEC001 stopped on KeyError" in failed[0]["message"]


def test_sarif_paths_start_at_the_repository_root(tmp_path):
    import subprocess
    root = project(tmp_path / "elixir")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = invoke(["check", str(tmp_path), "--format", "sarif"])
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(result.stdout)["runs"][0]["results"] for loc in r["locations"]}
    assert uris and all(u.startswith("elixir/") for u in uris), uris
    assert root == tmp_path / "elixir"

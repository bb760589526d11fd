"""The HTML reports of check, env check and env, rendered by Chromium and read from its DOM."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_run import invoke
from report_pages import assert_good_page, look

from phoenix_ops.catalog import catalog

pytestmark = pytest.mark.slow
SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


@pytest.fixture
def shop(tmp_path) -> Path:
    return Path(shutil.copytree(SHOP, tmp_path / "shop"))


def run(*args: str) -> str:
    result = invoke(list(args))
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def test_check_report_in_a_browser(browser, shop, tmp_path):
    report = tmp_path / "check.html"
    run("check", str(shop), "--format", "html", "-o", str(report), "--ignore", "SEC003")
    summary = json.loads(run("check", str(shop), "--format", "json", "--ignore", "SEC003"))["summary"]
    page = look(browser, report, "check")
    assert_good_page(page, report)
    dom = page.desktop
    assert dom["title"] == "phoenix-ops check · shop · prod" and dom["grade"] is None
    assert dom["counts"] == summary and summary["error"] > 0
    assert dom["verdict"].startswith(f"Not ready: {summary['error']} errors")
    checks = dict(dom["checks"])
    assert set(checks) == catalog("static", "audit", "envfile").ids()  # every rule that could run (env-file rules judge targets)
    assert checks["SEC003"] == "not run" and checks["REL001"] == "failed" and checks["REL002"] == "passed"
    assert checks["CLU002"] == "not applicable" and checks["CLU003"] != "not applicable"  # DNSCluster, no libcluster
    assert {rule for rule, outcome in checks.items() if outcome in ("failed", "noted")} == \
        {rule for rule, _ in dom["findings"]}
    assert {f"rule-{rule}" for rule in checks} <= set(dom["rule_pages"])
    assert ("Umbrella project", "no") in zip(dom["labels"], dom["values"])


def test_many_findings_of_a_rule_are_grouped_and_folded_in_a_browser(browser, shop, tmp_path):
    migrations = shop / "priv" / "repo" / "migrations"
    for n in range(1, 8):  # seven columns dropped: one rule, seven findings
        (migrations / f"2024020{n}120000_drop_{n}.exs").write_text(
            f"defmodule Shop.Repo.Migrations.Drop{n} do\n  use Ecto.Migration\n\n  def change do\n"
            f"    alter table(:products) do\n      remove :legacy_{n}\n    end\n  end\nend\n")
    report = tmp_path / "grouped.html"
    run("check", str(shop), "--format", "html", "-o", str(report))
    page = look(browser, report, "check-grouped")
    assert_good_page(page, report)
    for dom in (page.desktop, page.phone):
        groups = {g["rule"]: g for g in dom["groups"]}
        assert groups["MIG001"] == {"rule": "MIG001", "count": 7, "cards": 7, "visible": 3, "folded": 4}
        assert dom["group_heads"]["MIG001"] == "MIG001 column-removed 7 findings"
        assert dom["more"]["MIG001"] == "4 more MIG001 findings"
        assert dom["sections"][:2] == ["REL · releases & runtime config", "SEC · secrets"], dom["sections"]
    assert "Fix, for all 7:" in page.desktop["group_hints"]["MIG001"]


def test_env_check_report_shows_the_contract_in_a_browser(browser, shop, tmp_path):
    report = tmp_path / "env-check.html"
    run("env", "check", str(shop), "--env-file", str(shop / ".env"), "--format", "html", "-o", str(report))
    page = look(browser, report, "env-check")
    assert_good_page(page, report)
    dom = page.desktop
    (table,) = dom["tables"]
    assert table["head"][:3] == ["Variable", "Required", "Set in the env files"] and table["rows"] == 6
    assert dict(dom["checks"])["REL050"] == "failed" and dom["counts"]["error"] == 2
    assert "STRIPE" not in "".join(dom["values"])  # names of what the file sets, never a value
    assert "sk_live" not in report.read_text()


def test_env_contract_page_in_a_browser(browser, shop, tmp_path):
    report = tmp_path / "env.html"
    run("env", str(shop), "--format", "html", "-o", str(report))
    page = look(browser, report, "env")
    assert_good_page(page, report)
    dom = page.desktop
    assert dom["verdict"] is None and dom["checks"] == [] and dom["findings"] == []
    variables = json.loads(run("env", str(shop), "--format", "json"))["variables"]
    assert dom["tables"][0]["rows"] == len(variables) and dom["tables"][0]["head"][0] == "Variable"
    assert dom["labels"][:2] == ["Project directory", "Application"]

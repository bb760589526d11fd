"""The small commands: secret, rules, explain, --version; and every rule's page."""

import json
import re

from typer.testing import CliRunner

from phoenix_ops import __version__
from phoenix_ops.catalog import catalog
from phoenix_ops.cli import app
from phoenix_ops.rule import KINDS

runner = CliRunner()


def test_secret_has_the_shape_of_phx_gen_secret():
    secrets = {runner.invoke(app, ["secret"]).stdout.strip() for _ in range(3)}
    assert len(secrets) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9+/]{64}", s) for s in secrets)
    assert len(runner.invoke(app, ["secret", "--length", "96"]).stdout.strip()) == 96
    short = runner.invoke(app, ["secret", "--length", "8"])
    assert short.exit_code == 2 and "shorter than 32" in short.stderr


def test_rules_lists_every_rule_of_every_kind():
    doc = json.loads(runner.invoke(app, ["rules", "--format", "json"]).stdout)
    ids = [r["id"] for r in doc]
    assert ids == sorted(ids) and set(ids) == catalog().ids()
    kinds = {r["kind"] for r in doc}
    assert kinds <= set(KINDS) and {"static", "audit", "envfile", "probe", "cluster", "release", "jobs",
                                    "metrics"} <= kinds
    text = runner.invoke(app, ["rules"]).stdout
    assert "REL001" in text and "endpoint-never-starts" in text


def test_explain_prints_the_page_and_refuses_unknown_ids():
    page = runner.invoke(app, ["explain", "rel001"])
    assert page.exit_code == 0 and "Why it matters" in page.stdout and "PHX_SERVER" in page.stdout
    missing = runner.invoke(app, ["explain", "XYZ999"])
    assert missing.exit_code == 2 and "no rule" in missing.stderr


def test_every_rule_has_a_full_page_and_an_id_in_its_kinds_range():
    for rule in catalog():
        assert rule.title and len(rule.why) > 40 and len(rule.fix) > 20, rule.id
        assert int(rule.id[3:]) in KINDS[rule.kind][1], rule.id


def test_version():
    assert runner.invoke(app, ["--version"]).stdout.strip() == f"phoenix-ops {__version__}"

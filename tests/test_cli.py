"""The small commands: secret, rules, explain, --version; and every rule's page."""

import json
import re

import pytest
from cli_run import invoke

from phoenix_ops import __version__
from phoenix_ops.catalog import catalog
from phoenix_ops.findings import Confidence, Severity
from phoenix_ops.rule import KINDS
from phoenix_ops.rule import rule as declare_rule


def test_secret_has_the_shape_of_phx_gen_secret():
    secrets = {invoke(["secret"]).stdout.strip() for _ in range(3)}
    assert len(secrets) == 3
    assert all(re.fullmatch(r"[A-Za-z0-9+/]{64}", s) for s in secrets)
    assert len(invoke(["secret", "--length", "96"]).stdout.strip()) == 96
    short = invoke(["secret", "--length", "8"])
    assert short.exit_code == 2 and "shorter than 32" in short.stderr


def test_rules_lists_every_rule_of_every_kind():
    doc = json.loads(invoke(["rules", "--format", "json"]).stdout)
    ids = [r["id"] for r in doc]
    assert ids == sorted(ids) and set(ids) == catalog().ids()
    kinds = {r["kind"] for r in doc}
    assert kinds <= set(KINDS) and {"static", "audit", "envfile", "probe", "cluster", "release", "jobs",
                                    "metrics"} <= kinds
    text = invoke(["rules"]).stdout
    assert "REL001" in text and "endpoint-never-starts" in text


def test_explain_prints_the_page_and_refuses_unknown_ids():
    page = invoke(["explain", "rel001"])
    assert page.exit_code == 0 and "Why it matters" in page.stdout and "PHX_SERVER" in page.stdout
    missing = invoke(["explain", "XYZ999"])
    assert missing.exit_code == 2 and "no rule" in missing.stderr


def test_every_rule_has_a_full_page_and_an_id_in_its_kinds_range():
    for rule in catalog():
        assert rule.title and len(rule.why) > 40 and len(rule.fix) > 20, rule.id
        assert int(rule.id[3:]) in KINDS[rule.kind][1], rule.id


def test_a_rule_is_declared_with_an_area_id_in_its_kinds_range_and_a_kebab_case_name():
    def declare(rule_id, name, kind="static"):
        return declare_rule(rule_id, name, Severity.INFO, Confidence.LOW, title="t", why="w", fix="f", kind=kind)

    assert declare("SEC099", "a-b2-c").id == "SEC099"
    for rule_id, name, kind in (("XYZ001", "a", "static"), ("SEC01", "a", "static"), ("SEC0011", "a", "static"),
                                ("SEC0a1", "a", "static"), ("SEC100", "a", "static"), ("SEC001", "a", "probe"),
                                ("SEC001", "a-", "static"), ("SEC001", "A", "static"), ("SEC001", "a--b", "static"),
                                ("SEC001", "a_b", "static"), ("SEC001", "", "static")):
        with pytest.raises(ValueError):
            declare(rule_id, name, kind)


def test_version():
    assert invoke(["--version"]).stdout.strip() == f"phoenix-ops {__version__}"


def test_usage_errors_are_one_line_with_exit_code_2():
    for args, says in ((["check", "--bogus"], "unrecognized arguments: --bogus"),
                       (["probe", "--timeout", "soon"], "invalid float value: 'soon'"),
                       (["chekc"], "no command 'chekc', did you mean 'check'?"),
                       (["release", "verfy"], "no command 'verfy', did you mean 'release verify'?"),
                       (["--bogus"], "no option '--bogus'"),
                       (["explain"], "required: RULE")):
        result = invoke(args)
        assert result.exit_code == 2 and not result.stdout, args
        assert result.stderr.startswith("phoenix-ops: error: ") and result.stderr.count("\n") == 1, args
        assert says in result.stderr, args


def test_help_pages_and_no_command():
    overview = invoke([])
    assert overview.exit_code == 2 and "commands:" in overview.stdout and "release" in overview.stdout
    assert invoke(["-h"]).stdout == overview.stdout and invoke(["--help"]).exit_code == 0
    group = invoke(["release"])
    assert group.exit_code == 2 and "verify" in group.stdout and "Boot a release" in group.stdout
    page = invoke(["release", "verify", "--help"])
    words = " ".join(page.stdout.split())
    assert page.exit_code == 0 and "--shutdown-budget" in words and "answer. [default: 60.0]" in words


def test_options_go_before_or_after_arguments_and_abbreviations_are_refused():
    assert invoke(["secret", "--len", "40"]).exit_code == 2
    doc = json.loads(invoke(["rules", "-f", "JSON"]).stdout)
    assert doc and invoke(["explain", "rel001", "-h"]).exit_code == 0

"""The plugin that requires every catalog rule to fire somewhere in the suite (tests/catalog_fires.py)."""

from pathlib import Path

import pytest

from phoenix_ops.catalog import catalog

pytest_plugins = ("pytester",)

FIRES_ONE = """
from phoenix_ops.findings import Location
from phoenix_ops.rules.secrets import {name}

def test_fires():
    assert {name}.finding("a fact", Location(path="config/prod.exs")).rule_id == "{id}"
"""


@pytest.fixture
def suite(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parent))  # where catalog_fires lives
    pytester.makeconftest('pytest_plugins = ("catalog_fires",)')
    rule = next(r for r in catalog("static") if r.id.startswith("SEC"))
    pytester.makepyfile(test_one=FIRES_ONE.format(name=rule.check.__name__ if rule.check else rule.name,
                                                  id=rule.id))
    return pytester, rule


def test_a_full_run_fails_and_names_every_rule_that_never_fired(suite):
    pytester, rule = suite
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*rules no test made fire*", "*rule(s) of the catalog never fired*"])
    listed = result.stdout.str().split("never fired in the whole suite: ")[1].splitlines()[0].split(", ")
    assert set(listed) == catalog().ids() - {rule.id} and rule.id not in listed


def test_a_partial_run_stays_quiet(suite):
    pytester, _ = suite
    result = pytester.runpytest_subprocess("-k", "fires", "-p", "no:cacheprovider")
    assert result.ret == 0 and "never fired" not in result.stdout.str()


@pytest.mark.parametrize("rule", list(catalog()), ids=lambda r: r.id)
def test_every_rule_has_an_explain_page_of_substance(rule):
    assert len(rule.title) > 15 and len(rule.why) > 60 and len(rule.fix) > 30, rule.id

"""Every rule in the catalog must be made to fire by some test: a pytest plugin that keeps count.

It records the id of every finding a rule makes (`Rule.finding`, which every check goes through) while
the suite runs. Under pytest-xdist each worker hands its ids back to the controller with its results.
When the whole suite ran (no -k, -m, --lf, --deselect, no narrower paths), a rule that never fired
fails the session, with the missing ids listed. A partial run stays quiet.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_ops.rule import Rule

_fired: set[str] = set()
_missing: list[str] = []


def _recording(finding):
    def record(self, *args, **kwargs):
        _fired.add(self.id)
        return finding(self, *args, **kwargs)
    record.__wrapped__ = finding
    return record


def pytest_configure(config: pytest.Config) -> None:
    Rule.finding = _recording(Rule.finding)


def pytest_unconfigure(config: pytest.Config) -> None:
    Rule.finding = getattr(Rule.finding, "__wrapped__", Rule.finding)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist, on the controller: a worker is done; take the ids its tests fired."""
    _fired.update(getattr(node, "workeroutput", {}).get("fired_rules", ()))


def whole_suite(config: pytest.Config) -> bool:
    """Whether this run is the full suite: the root or its test paths, no test filtered out."""
    paths = {Path(str(a).split("::")[0]).resolve() for a in config.args}
    whole = {config.rootpath.resolve(), *((config.rootpath / p).resolve() for p in config.getini("testpaths"))}
    narrowed = (config.getoption("keyword") or config.getoption("markexpr") or config.getoption("lf", False)
                or config.getoption("deselect", None) or config.getoption("ignore", None)
                or config.getoption("ignore_glob", None))
    return bool(paths) and paths <= whole and not narrowed


def unfired(fired: set[str]) -> list[str]:
    from phoenix_ops.catalog import catalog
    return sorted(catalog().ids() - fired)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if hasattr(config, "workerinput"):  # an xdist worker: the controller judges
        config.workeroutput["fired_rules"] = sorted(_fired)
        return
    if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        return
    if not whole_suite(config):
        return
    _missing[:] = unfired(_fired)
    if _missing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if _missing:
        terminalreporter.section("rules no test made fire", sep="=", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(_missing)} rule(s) of the catalog never fired in the whole suite: {', '.join(_missing)}")
        terminalreporter.write_line("Write a test whose check makes each of them report a finding.")

"""Fixtures and plugins every test directory may use."""

import time

import pytest
from pg_server import pg_database, postgres  # noqa: F401  (fixtures)
from phoenix_fixture import phoenix, phoenix_build, phoenix_build_v2  # noqa: F401  (fixtures)

pytest_plugins = ("catalog_fires",)
STARTED = time.time()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium from Debian, one per test process, stopped at the end."""
    from browser import Browser

    with Browser() as b:
        yield b


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from report_pages import ARTIFACTS

    if any(p.stat().st_mtime >= STARTED for p in ARTIFACTS.glob("*.png")):
        terminalreporter.write_line(f"screenshots of the HTML reports: {ARTIFACTS}")

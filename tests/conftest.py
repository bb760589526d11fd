"""Fixtures every test directory may use."""

from pg_server import pg_database, postgres  # noqa: F401  (fixtures)

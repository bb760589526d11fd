"""Fixtures every test directory may use."""

from pg_server import pg_database, postgres  # noqa: F401  (fixtures)
from phoenix_fixture import phoenix, phoenix_build, phoenix_build_v2  # noqa: F401  (fixtures)

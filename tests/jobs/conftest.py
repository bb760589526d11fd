"""Oban's real schema (its own migrations, run once per session into a template database) and a
planter that writes jobs and peers in the states each test needs."""

from __future__ import annotations

import psycopg
import pytest
from oban_planter import Planter
from oban_schema import migrate
from pg_server import create_database, drop_database


@pytest.fixture(scope="session")
def oban_template(postgres) -> str:
    """A database migrated by Oban 2.18.3 to schema v12, copied by each test."""
    name = "oban_v12"
    migrate(create_database(postgres, name=name))
    return name


@pytest.fixture
def oban(postgres, oban_template):
    """A fresh copy of the migrated database, with a planter."""
    dsn = create_database(postgres, template=oban_template)
    yield Planter(dsn)
    drop_database(postgres, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])

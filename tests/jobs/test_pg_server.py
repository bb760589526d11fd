"""The PostgreSQL fixture itself: a real server, fresh databases, copies of a template, teardown."""

from __future__ import annotations

import psycopg
import pytest
from pg_server import PgServer, create_database, drop_database

pytestmark = pytest.mark.slow


def test_fresh_database_is_empty_and_writable(pg_database):
    with psycopg.connect(pg_database) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)
        assert conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0] >= 150000


def test_databases_are_copies_of_a_template(postgres):
    template = create_database(postgres)
    with psycopg.connect(template) as conn:
        conn.execute("CREATE TABLE planted (x int)")
    name = psycopg.conninfo.conninfo_to_dict(template)["dbname"]
    copy = create_database(postgres, template=name)
    with psycopg.connect(copy) as conn:
        assert conn.execute("SELECT to_regclass('planted') IS NOT NULL").fetchone() == (True,)
    for dsn in (copy, template):
        drop_database(postgres, psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])


def test_stop_removes_the_server_and_its_files():
    server = PgServer.start()
    root, dsn = server.root, server.dsn
    server.stop()
    assert not root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2)

"""Oban's real schema in a test database, made by Oban's own migrations run from the fixture app's
release (`bin/phx_fixture eval`), at any version and prefix:

    migrate(dsn)                        # schema v12 (Oban 2.18) in `public`
    migrate(dsn, version=11, prefix="private")
"""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile

from phoenix_fixture import build_fixture, ecto_url

MIGRATION = """
defmodule ObanSchemaMigration do
  use Ecto.Migration
  def up, do: Oban.Migration.up(version: {version}, prefix: "{prefix}")
end

{{:ok, _, _}} =
  Ecto.Migrator.with_repo(PhxFixture.Repo, fn repo ->
    Ecto.Migrator.run(repo, [{{1, ObanSchemaMigration}}], :up, all: true, log: false)
  end)
"""


def migrate(dsn: str, version: int = 12, prefix: str = "public") -> None:
    """Run Oban's migrations up to `version` into `prefix` of the database at `dsn`."""
    build = build_fixture(1)
    with tempfile.TemporaryDirectory(prefix="oban-migrate-") as home:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8",
               "RELEASE_TMP": home, "RELEASE_DISTRIBUTION": "none", "DATABASE_URL": ecto_url(dsn),
               "SECRET_KEY_BASE": secrets.token_urlsafe(48)}
        done = subprocess.run([str(build.bin), "eval", MIGRATION.format(version=version, prefix=prefix)], env=env,
                              capture_output=True, text=True, timeout=180)
    if done.returncode:
        raise RuntimeError(f"Oban's migrations failed:\n{(done.stdout + done.stderr)[-4000:]}")

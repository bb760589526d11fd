"""MIG: migrations that break a deploy where the old and the new code run side by side.

While a release migrates, and for as long as a rolling, blue/green or canary rollout lasts, the
previous release keeps serving against the migrated schema. These rules flag what the old code
cannot survive or what locks a busy table. Severity rises from warning to error when the deploy
files show an overlapping rollout with migrations run on release. Operations on a table created
in the same migration are never flagged: nothing reads it yet.
"""

from __future__ import annotations

import re

from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.patterns import lazy
from phoenix_ops.rule import Subject, rule

W, E, I = Severity.WARNING, Severity.ERROR, Severity.INFO
H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
_VOLATILE = lazy(r"gen_random_uuid|uuid_generate_v[14]|uuid_generate_v1mc|clock_timestamp|timeofday|"
                       r"random\s*\(|statement_timestamp|nextval|txid_current", re.I)
_SQL_RISKS = [
    (lazy(r"\bDROP\s+COLUMN\b", re.I), "drops a column"),
    (lazy(r"\bRENAME\s+(COLUMN\s+)?\w+\s+TO\b", re.I), "renames a column"),
    (lazy(r"\bALTER\s+(COLUMN\s+)?\w+\s+(SET\s+DATA\s+)?TYPE\b", re.I), "changes a column type"),
    (lazy(r"\bSET\s+NOT\s+NULL\b", re.I), "adds NOT NULL"),
    (lazy(r"\bDROP\s+TABLE\b", re.I), "drops a table"),
    (lazy(r"\bALTER\s+TABLE\s+\S+\s+RENAME\s+TO\b", re.I), "renames a table"),
    (lazy(r"\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", re.I), "creates an index without CONCURRENTLY"),
    (lazy(r"\bADD\s+CONSTRAINT\b(?![^;]*\bNOT\s+VALID\b)", re.I), "adds a validated constraint"),
]


MIGRATIONS = Subject("the project has no migrations", lambda project: bool(project.migrations))


def overlap(project) -> str | None:
    """Why old and new code share the database during a deploy, if the deploy files say so."""
    for t in project.deploy.targets():
        if t.migrate and t.strategy in ("rolling", "bluegreen", "canary"):
            return f"{t.label} migrates on release ({t.migrate}) and rolls out {t.strategy}"
    return None


def _ops(project, *kinds):
    raise_to = E if overlap(project) else None
    for mig in project.migrations:
        for op in mig.ops:
            if op.kind in kinds and not op.new_table:
                yield mig, op, Location(path=mig.path, line=op.line), raise_to


def _key(mig, op) -> str:
    return f"{mig.version}:{op.table}.{op.column or ''}"


@rule("MIG001", "column-removed", W, H, subject=MIGRATIONS,
      title="A migration removes a column the running release still reads",
      why="""
      Ecto selects every field of a schema by name. While the migration runs and until every node
      runs the new code, the old release queries the dropped column and each of those requests fails
      with `column does not exist`.
      """,
      fix="""
      Deploy in two steps: first remove the field from the schema (or mark it `load_in_query: false`)
      and ship that; remove the column in a later release.
      """)
def column_removed(project):
    for mig, op, loc, sev in _ops(project, "remove"):
        yield column_removed.finding(f"{op.table}.{op.column} is removed", loc, key=_key(mig, op), severity=sev)


@rule("MIG002", "column-renamed", W, H, subject=MIGRATIONS,
      title="A migration renames a column",
      why="The old release reads and writes the old name: every query touching it fails until the rollout ends.",
      fix="""
      Add the new column, write both, backfill, switch reads, then drop the old one in a later release
      (expand and contract). Or keep the column name and map it with `field :new, source: :old`.
      """)
def column_renamed(project):
    for mig, op, loc, sev in _ops(project, "rename_column"):
        yield column_renamed.finding(f"{op.table}.{op.column} is renamed {op.option('to') or ''}".strip(), loc,
                                     key=_key(mig, op), severity=sev)


@rule("MIG003", "column-type-changed", W, M, subject=MIGRATIONS,
      title="A migration changes a column's type",
      why="""
      Most type changes rewrite the table under an ACCESS EXCLUSIVE lock (reads and writes wait) and
      the old release may cast values the new type refuses.
      """,
      fix="""
      Add a column of the new type, backfill it in batches, switch the code, drop the old column later.
      When the change is only about `null` or `default`, give `from:` with the same type so it reads as such.
      """)
def column_type_changed(project):
    for mig, op, loc, sev in _ops(project, "modify"):
        new_type = op.args[0].strip() if op.args else ""
        before = op.option("from")
        if before is None:
            yield column_type_changed.finding(
                f"{op.table}.{op.column} is modified to {new_type} without `from:`: the old type is unknown",
                loc, key=_key(mig, op), confidence=L)
            continue
        old_type = before.strip("{}() ").split(",")[0].strip()
        if old_type and old_type != new_type and not new_type.startswith(old_type):
            yield column_type_changed.finding(f"{op.table}.{op.column} changes type from {old_type} to {new_type}",
                                              loc, key=_key(mig, op), severity=sev)


@rule("MIG004", "not-null-added", W, H, subject=MIGRATIONS,
      title="A migration adds NOT NULL to an existing table",
      why="""
      `SET NOT NULL` scans the whole table under an exclusive lock, and the old release, which does not
      know the column must be filled, inserts rows that now fail. A new NOT NULL column without a
      default fails outright on a table that has rows.
      """,
      fix="""
      Add a `CHECK (col IS NOT NULL) NOT VALID` constraint, validate it in a later migration, then set
      NOT NULL (PostgreSQL 12+ skips the scan). Give new NOT NULL columns a default.
      """)
def not_null_added(project):
    for mig, op, loc, sev in _ops(project, "modify", "add"):
        if op.option("null") != "false":
            continue
        if op.kind == "add" and op.option("default") is not None:
            continue
        what = "is made NOT NULL" if op.kind == "modify" else "is added NOT NULL without a default"
        yield not_null_added.finding(f"{op.table}.{op.column} {what}", loc, key=_key(mig, op), severity=sev)


@rule("MIG005", "volatile-default", W, H, subject=MIGRATIONS,
      title="A column is added with a volatile default",
      why="""
      Since PostgreSQL 11 a constant or stable default (`now()`) is stored once and the table is not
      rewritten. A volatile one (`gen_random_uuid()`, `clock_timestamp()`, `random()`) is evaluated per
      row: the whole table is rewritten under an ACCESS EXCLUSIVE lock.
      """,
      fix="Add the column without a default (or with a constant), backfill it in batches, then set the default.")
def volatile_default(project):
    for mig, op, loc, sev in _ops(project, "add"):
        default = op.option("default") or ""
        if _VOLATILE.search(default):
            yield volatile_default.finding(f"{op.table}.{op.column} is added with default {default}", loc,
                                           key=_key(mig, op), severity=sev)


@rule("MIG006", "index-not-concurrent", W, H, subject=MIGRATIONS,
      title="An index is created on an existing table without `concurrently: true`",
      why="""
      `CREATE INDEX` blocks every write to the table until the index is built: on a large table the
      app stops accepting inserts and updates for minutes. Tables created in the same migration are fine.
      """,
      fix="""
      `create index(:t, [:col], concurrently: true)` in a migration with `@disable_ddl_transaction true`
      and `@disable_migration_lock true`.
      """)
def index_not_concurrent(project):
    for mig, op, loc, sev in _ops(project, "create_index"):
        if op.option("concurrently") != "true":
            yield index_not_concurrent.finding(f"an index on {op.table} is created without concurrently", loc,
                                               key=f"{mig.version}:{op.table}:{op.line}", severity=sev)


@rule("MIG007", "concurrent-index-in-transaction", E, H, subject=MIGRATIONS,
      title="`concurrently` in a migration that keeps its transaction or migration lock",
      why="""
      PostgreSQL refuses `CREATE INDEX CONCURRENTLY` inside a transaction, so the migration fails;
      and with the migration lock held every other node's migrator waits for the whole build.
      """,
      fix="Add `@disable_ddl_transaction true` and `@disable_migration_lock true` to the migration module.")
def concurrent_in_transaction(project):
    for mig in project.migrations:
        if mig.disable_ddl_transaction and mig.disable_migration_lock:
            continue
        missing = [a for a, on in (("@disable_ddl_transaction", mig.disable_ddl_transaction),
                                   ("@disable_migration_lock", mig.disable_migration_lock)) if not on]
        for op in mig.ops:
            concurrent = op.option("concurrently") == "true" or (op.sql and re.search(r"\bCONCURRENTLY\b", op.sql, re.I))
            if concurrent:
                yield concurrent_in_transaction.finding(
                    f"this migration builds an index concurrently without {' and '.join(missing)}",
                    Location(path=mig.path, line=op.line), key=f"{mig.version}:{op.line}",
                    severity=E if not mig.disable_ddl_transaction else W)
                break


@rule("MIG008", "table-dropped-or-renamed", W, H, subject=MIGRATIONS,
      title="A migration drops or renames a table",
      why="The old release still queries the table by its name; those requests fail until the rollout ends.",
      fix="Remove every use of the table from the code and deploy that first; drop or rename in a later release.")
def table_dropped(project):
    for mig, op, loc, sev in _ops(project, "drop_table", "rename_table"):
        what = "dropped" if op.kind == "drop_table" else f"renamed {op.args[0] if op.args else ''}".strip()
        yield table_dropped.finding(f"table {op.table} is {what}", loc, key=_key(mig, op), severity=sev)


@rule("MIG009", "constraint-validated-on-add", W, H, subject=MIGRATIONS,
      title="A foreign key or check constraint is added without `validate: false`",
      why="""
      Adding a validated constraint scans the whole table while holding a lock that blocks writes (a
      foreign key locks the referenced table too).
      """,
      fix="""
      Add it with `validate: false` (`references(:users, validate: false)`, `create constraint(..., validate:
      false)`), then `execute "ALTER TABLE t VALIDATE CONSTRAINT c"` in a later migration.
      """)
def constraint_validated(project):
    for mig, op, loc, sev in _ops(project, "constraint", "add", "modify"):
        args = " ".join(op.args)
        if op.kind == "constraint" and "check:" not in args:
            continue
        if op.kind != "constraint" and "references(" not in args:
            continue
        if re.search(r"validate:\s*false", args):
            continue
        what = "a check constraint" if op.kind == "constraint" else f"a foreign key on {op.column}"
        yield constraint_validated.finding(f"{what} is added to {op.table} and validated at once", loc,
                                           key=f"{_key(mig, op)}:{op.line}", severity=sev)


@rule("MIG010", "raw-sql-migration", I, M, subject=MIGRATIONS,
      title="Raw SQL in a migration does what the schema rules would flag, or cannot be read",
      why="""
      `execute` hides its operation from Ecto. A literal statement is read here and judged like the
      equivalent migration function; SQL built at run time or a function passed to `execute` is not.
      """,
      fix="""
      Prefer the migration functions, which these rules understand; otherwise follow the same safe
      patterns in SQL (CONCURRENTLY, NOT VALID, expand and contract).
      """)
def raw_sql(project):
    for mig, op, loc, sev in _ops(project, "execute"):
        if op.sql is None:
            yield raw_sql.finding("execute with SQL built at run time (or a function) is not judged", loc,
                                  key=f"{mig.version}:{op.line}", confidence=L)
            continue
        if mig.sql_on_new_table(op.sql):
            continue
        for pattern, what in _SQL_RISKS:
            if pattern.search(op.sql):
                yield raw_sql.finding(f"execute \"{' '.join(op.sql.split())[:80]}\" {what}", loc,
                                      key=f"{mig.version}:{op.line}", severity=sev or W)
                break


@rule("MIG011", "data-change-in-migration", W, M, subject=MIGRATIONS,
      title="A migration changes data through the Repo",
      why="""
      A Repo call in a migration runs with the schemas of today's code, which change later: old
      migrations stop working on a fresh database. Large updates also hold locks for the whole
      migration transaction while the old release is serving.
      """,
      fix="""
      Move data changes into a separate, idempotent task (a release command or an Oban job) run in
      batches, or write them as SQL in the migration without schema modules.
      """)
def repo_in_migration(project):
    for mig, op, loc, sev in _ops(project, "repo"):
        yield repo_in_migration.finding(f"the migration calls Repo.{op.column}", loc,
                                        key=f"{mig.version}:{op.column}:{op.line}")

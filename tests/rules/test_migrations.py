"""MIG rules on migrations written here in the shapes real projects use."""

import json
import shutil

import pytest
from cli_run import invoke
from project_shapes import ids

from phoenix_ops.catalog import catalog
from phoenix_ops.check.pipeline import CheckOptions, _day, run_check


def migration(body: str, attrs: str = "") -> str:
    return f"defmodule Demo.Repo.Migrations.M do\n  use Ecto.Migration\n{attrs}\n  def change do\n{body}\n  end\nend\n"


DIR = "priv/repo/migrations"


@pytest.fixture
def mig(make_project, findings):
    def run(body: str, attrs: str = "", rule_id: str | None = None, extra: dict | None = None):
        project = make_project({f"{DIR}/20240101000000_m.exs": migration(body, attrs), **(extra or {})})
        return [f for f in findings(project, rule_id) if f.rule_id.startswith("MIG")]
    return run


@pytest.mark.parametrize("rule_id, body", [
    ("MIG001", "alter table(:users) do\n remove :email\n end"),
    ("MIG002", "rename table(:users), :email, to: :mail"),
    ("MIG003", "alter table(:users) do\n modify :age, :bigint, from: :integer\n end"),
    ("MIG004", "alter table(:users) do\n modify :email, :string, null: false, from: :string\n end"),
    ("MIG004", "alter table(:users) do\n add :tenant, :string, null: false\n end"),
    ("MIG005", 'alter table(:users) do\n add :token, :uuid, default: fragment("gen_random_uuid()")\n end'),
    ("MIG006", "create index(:users, [:email])"),
    ("MIG008", "drop table(:legacy)"),
    ("MIG008", "rename table(:users), to: table(:accounts)"),
    ("MIG009", "alter table(:posts) do\n add :user_id, references(:users)\n end"),
    ("MIG009", 'create constraint(:users, :age_positive, check: "age > 0")'),
    ("MIG010", 'execute "ALTER TABLE users DROP COLUMN email"'),
    ("MIG011", "Demo.Repo.update_all(Demo.User, set: [active: true])"),
])
def test_each_rule_fires_on_its_shape(mig, rule_id, body):
    got = mig(body, rule_id=rule_id)
    assert ids(got) == [rule_id] and got[0].location.path.endswith("_m.exs")


@pytest.mark.parametrize("body", [
    "create table(:users) do\n add :email, :string, null: false\n end\ncreate index(:users, [:email])",
    "alter table(:users) do\n modify :email, :string, null: true, from: :string\n end",
    'alter table(:users) do\n add :seen_at, :utc_datetime, default: fragment("now()")\n end',
    "alter table(:posts) do\n add :user_id, references(:users, validate: false)\n end",
    "alter table(:users) do\n add :nick, :string, null: false, default: \"\"\n end",
    'create constraint(:users, :age_positive, check: "age > 0", validate: false)',
    'execute "CREATE EXTENSION IF NOT EXISTS citext"',
    "create table(:t) do\n add :a, :string\n end\nexecute \"CREATE INDEX ON t (a)\"",
])
def test_safe_shapes_stay_quiet(mig, body):
    assert ids(mig(body)) == []


def test_concurrent_index_needs_both_attributes(mig):
    body = "create index(:users, [:email], concurrently: true)"
    both = "  @disable_ddl_transaction true\n  @disable_migration_lock true"
    assert ids(mig(body, both)) == []
    (f,) = mig(body, "  @disable_ddl_transaction true")
    assert f.rule_id == "MIG007" and "@disable_migration_lock" in f.message and f.severity.label == "warning"
    sql = 'execute "CREATE INDEX CONCURRENTLY users_email ON users (email)"'
    assert [(f.rule_id, f.severity.label) for f in mig(sql)] == [("MIG007", "error")]


def test_for_over_a_word_list_names_each_table(mig):
    body = "for t <- ~w(users posts)a do\n alter table(t) do\n remove :legacy\n end\n end"
    got = mig(body, rule_id="MIG001")
    assert sorted(f.message for f in got) == ["posts.legacy is removed", "users.legacy is removed"]


def test_modify_without_from_is_unknown_not_a_type_change(mig):
    (f,) = mig("alter table(:users) do\n modify :age, :bigint\n end", rule_id="MIG003")
    assert f.confidence.label == "low"


def test_down_is_the_way_back_and_not_judged(make_project, findings):
    body = ("defmodule M do\n use Ecto.Migration\n def up do\n create table(:x) do\n add :a, :string\n end\n end\n"
            " def down do\n drop table(:x)\n end\nend\n")
    project = make_project({f"{DIR}/20240101000000_m.exs": body})
    assert [f for f in findings(project) if f.rule_id.startswith("MIG")] == []


def test_raw_sql_built_at_run_time_is_not_judged(mig):
    (f,) = mig('execute "UPDATE #{table} SET a = 1"', rule_id="MIG010")
    assert f.confidence.label == "low" and f.severity.label == "info"


def test_every_repo_priv_folder_and_manual_migrations(make_project):
    runtime_priv = "\nconfig :demo, Demo.Repo, priv: \"priv/other\"\n"
    from project_shapes import GOOD
    project = make_project({"config/config.exs": GOOD["config/config.exs"] + runtime_priv,
                            "priv/other/migrations/20240101000000_a.exs": migration("drop table(:a)"),
                            "priv/repo/manual_migrations/20240102000000_b.exs": migration("drop table(:b)")})
    assert [m.path for m in project.migrations] == ["priv/other/migrations/20240101000000_a.exs",
                                                    "priv/repo/manual_migrations/20240102000000_b.exs"]


def test_severity_rises_with_rolling_deploys_that_migrate_on_release(mig):
    fly = 'app = "demo"\n[deploy]\n  release_command = "/app/bin/migrate"\n'
    body = "alter table(:users) do\n remove :email\n end"
    assert [f.severity.label for f in mig(body, rule_id="MIG001")] == ["warning"]
    assert [f.severity.label for f in mig(body, rule_id="MIG001", extra={"fly.toml": fly})] == ["error"]


def test_start_after_and_suppression_comments(make_project):
    old = migration("drop table(:old)")
    new = migration("# phoenix-ops:ignore MIG008 -- nothing reads it since 2023\ndrop table(:new)")
    root = make_project({f"{DIR}/20200101000000_old.exs": old, f"{DIR}/20240101000000_new.exs": new,
                         ".phoenix-ops.toml": 'start-after = "20210101000000"\n'}).root
    result = run_check(root, CheckOptions(select=["MIG"]), catalog("static", "audit"))
    assert [(f.rule_id, f.location.path, bool(f.suppressed)) for f in result.findings] == [
        ("MIG008", f"{DIR}/20240101000000_new.exs", True)]


def history(count: int, year: int = 2019) -> dict[str, str]:
    """`count` migrations of `year`, each adding an index the unsafe way, and one of 2024."""
    files = {f"{DIR}/{year}01{n + 1:02d}000000_m{n}.exs": migration(f"create index(:t{n}, [:c])") for n in range(count)}
    return {**files, f"{DIR}/20240301000000_new.exs": migration("create index(:users, [:email])")}


def test_check_says_how_to_leave_out_long_applied_migrations(make_project, tmp_path_factory):
    rules = catalog("static", "audit")
    root = make_project(history(12)).root
    result = run_check(root, CheckOptions(select=["MIG"]), rules)
    assert len(result.findings) == 13  # nothing left out without the setting
    assert result.hint == ("12 of 13 migration findings are in migrations more than a year older than the "
                           "newest (20240301000000); if those ran long ago, `start-after = \"20190112000000\"` in "
                           ".phoenix-ops.toml leaves them out")
    text = invoke(["check", str(root), "--select", "MIG"]).output
    assert text.count("start-after") == 1 and text.endswith(f"0 errors, 13 warnings, 0 infos\nhint: {result.hint}\n")
    assert json.loads(invoke(["check", str(root), "--select", "MIG", "-f", "json"]).output)["hint"] == result.hint
    alone = shutil.copytree(root, tmp_path_factory.mktemp("apps") / "demo").parent
    every = invoke(["check", str(alone), "--all", "--select", "MIG"]).output
    assert every.endswith(f"0 errors, 13 warnings, 0 infos\nhint: {result.hint}\n")  # each project's report
    (root / ".phoenix-ops.toml").write_text('start-after = "20190112000000"\n')
    told = run_check(root, CheckOptions(select=["MIG"]), rules)
    assert [f.location.path for f in told.findings] == [f"{DIR}/20240301000000_new.exs"] and told.hint == ""


@pytest.mark.parametrize("files", [
    history(9),  # too few to hint at
    {**history(11), **{f"{DIR}/202401{n + 1:02d}000000_n{n}.exs": migration(f"create index(:u{n}, [:c])")
                       for n in range(14)}},  # most findings are recent
    {f"{DIR}/{n:03d}_m.exs": migration(f"create index(:t{n}, [:c])") for n in range(1, 13)},  # no timestamps
])
def test_no_hint_when_old_migrations_are_not_the_bulk(make_project, files):
    assert run_check(make_project(files).root, CheckOptions(select=["MIG"]), catalog("static", "audit")).hint == ""


@pytest.mark.parametrize(("version", "day"), [
    ("20240301123000", 20240301), ("20241301000000", None), ("20240300000000", None), ("2024030112", None),
    ("2024030112300a", None)])
def test_a_migration_version_stamps_a_day_only_when_it_is_a_timestamp(version, day):
    assert _day(version) == day


@pytest.mark.parametrize(("day", "hinted"), [("20230301", False), ("20230228", True)])
def test_more_than_a_year_older_is_counted_by_day(make_project, day, hinted):
    """A migration from the newest one's day a year earlier is not yet history; one a day before is."""
    files = {**{f"{DIR}/{day}{n:06d}_m{n}.exs": migration(f"create index(:t{n}, [:c])") for n in range(12)},
             f"{DIR}/20240301000000_new.exs": migration("create index(:users, [:email])")}
    hint = run_check(make_project(files).root, CheckOptions(select=["MIG"]), catalog("static", "audit")).hint
    assert hint.startswith("12 of 13 migration findings") == hinted


def test_the_rule_pages_say_how_to_leave_out_history():
    page = invoke(["explain", "MIG006"]).output
    assert 'start-after = "20240101000000"' in page and page.index("How to fix") < page.index("start-after")
    assert "start-after" not in catalog()["MIG006"].hint  # a finding's hint stays the rule's own fix

import pytest

from phoenix_ops.check.settings import (
    FILE_NAME,
    PathGlob,
    SettingsError,
    load_settings,
)
from phoenix_ops.findings import Severity

KNOWN = {"SEC005", "OBS002", "WEB003"}


def load(tmp_path, text: str):
    (tmp_path / FILE_NAME).write_text(text)
    return load_settings(tmp_path, KNOWN)


def test_no_file_means_defaults(tmp_path):
    s = load_settings(tmp_path, KNOWN)
    assert (s.exclude, s.start_after, s.disabled, s.severity, s.findings) == ([], None, {}, {}, [])
    assert not s.excluded("lib/app.ex")


def test_a_complete_file(tmp_path):
    s = load(tmp_path, """
exclude = ["lib/legacy/**", "priv/repo/seeds.exs"]
start-after = "20240101000000"

[rules.SEC005]
disable = true
reason = "secrets come from Vault"

[rules.OBS002]
severity = "info"
reason = "internal tool"
""")
    assert s.findings == []
    assert s.start_after == "20240101000000"
    assert s.disabled == {"SEC005": "secrets come from Vault"}
    assert s.severity == {"OBS002": Severity.INFO}
    assert s.excluded("lib/legacy/old/thing.ex") and s.excluded("priv/repo/seeds.exs")
    assert not s.excluded("lib/app.ex") and not s.excluded(None)


def test_start_after_may_be_an_integer(tmp_path):
    assert load(tmp_path, "start-after = 20240101000000\n").start_after == "20240101000000"


def test_a_change_without_a_reason_is_a_finding_and_the_rule_stays(tmp_path):
    s = load(tmp_path, '[rules.SEC005]\ndisable = true\n\n[rules.OBS002]\nseverity = "info"\nreason = " "\n')
    assert s.disabled == {} and s.severity == {}
    assert [(f.rule_id, f.location.line) for f in s.findings] == [("OPS015", 1), ("OPS015", 4)]
    assert "disables SEC005 without a reason" in s.findings[0].message


def test_fail_level_in_the_file_is_reported_and_ignored(tmp_path):
    s = load(tmp_path, 'exclude = []\nfail-level = "error"\n')
    assert [(f.rule_id, f.location.path, f.location.line) for f in s.findings] == [("OPS016", FILE_NAME, 2)]


@pytest.mark.parametrize("text, line, words", [
    ('exlude = ["lib/**"]\n', 1, "unknown key `exlude`"),
    ('exclude = "lib/**"\n', 1, "list of path globs"),
    ("exclude = [1]\n", 1, "list of path globs"),
    ('start-after = "last tuesday"\n', 1, "migration version"),
    ("rules = 3\n", 1, "must be a table"),
    ('\n[rules.XYZ001]\ndisable = true\nreason = "r"\n', 2, "names no rule"),
    ('[rules.SEC005]\ndisabled = true\nreason = "r"\n', 1, "unknown key `disabled`"),
    ('[rules.SEC005]\ndisable = "yes"\nreason = "r"\n', 1, "true or false"),
    ('[rules.SEC005]\nseverity = "critical"\nreason = "r"\n', 1, "unknown severity"),
    ('[rules.SEC005]\nseverity = 3\nreason = "r"\n', 1, "unknown severity"),
    ('[rules]\nSEC005 = "off"\n', 2, "must be a table"),
])
def test_mistakes_are_findings_not_crashes(tmp_path, text, line, words):
    s = load(tmp_path, text)
    assert [f.rule_id for f in s.findings] == ["OPS014"]
    assert words in s.findings[0].message
    assert s.findings[0].location.line == line
    assert s.disabled == {} and s.severity == {} and s.exclude == []


def test_a_file_that_is_not_toml_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match=r"\.phoenix-ops\.toml: not valid TOML.*line 2"):
        load(tmp_path, 'exclude = []\n[rules.SEC005\n')


def test_the_settings_file_cannot_exclude_itself(tmp_path):
    s = load(tmp_path, 'exclude = ["**"]\n')
    assert s.excluded("lib/a.ex")
    assert not s.excluded(FILE_NAME)


@pytest.mark.parametrize("pattern, path, hit", [
    ("lib/legacy", "lib/legacy/a/b.ex", True),
    ("lib/legacy/", "lib/legacy/a.ex", True),
    ("lib/legacy", "lib/legacy_new/a.ex", False),
    ("lib/*.ex", "lib/a.ex", True),
    ("lib/*.ex", "lib/sub/a.ex", False),
    ("lib/**/*.ex", "lib/a.ex", True),
    ("lib/**/*.ex", "lib/x/y/a.ex", True),
    ("**/seeds.exs", "priv/repo/seeds.exs", True),
    ("**/seeds.exs", "seeds.exs", True),
    ("lib/**", "lib/x/y.ex", True),
    ("lib/**", "libx/y.ex", False),
    ("config/?rod.exs", "config/prod.exs", True),
    ("config/prod.exs", "config/prod_exs", False),
    ("/config/prod.exs", "config/prod.exs", True),
])
def test_glob_semantics(pattern, path, hit):
    assert PathGlob(pattern).match(path) is hit

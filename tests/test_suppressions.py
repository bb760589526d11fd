from pathlib import Path

import pytest

from phoenix_ops.check.suppressions import apply_suppressions
from phoenix_ops.findings import Confidence, Finding, Location, Severity
from phoenix_ops.project.files import scan

KNOWN = {"WEB003", "SEC001", "MIG001", "OPS013"}


def finding(rule_id: str, path: str, line: int | None, key: str = "k") -> Finding:
    return Finding(rule_id, "test-rule", Severity.WARNING, Confidence.HIGH, f"{rule_id} at {line}",
                   location=Location(path=path, line=line), key=key)


def run(tmp_path: Path, files: dict[str, str], findings: list[Finding], ran=KNOWN) -> list[Finding]:
    for rel, body in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    return apply_suppressions(findings, scan(tmp_path).under(""), KNOWN, ran)


ENDPOINT = """\
config :app, AppWeb.Endpoint,
  url: [host: "example.com"],
  # phoenix-ops:ignore WEB003 -- HSTS is added by the load balancer
  force_ssl: [
    hsts: false
  ],
  check_origin: false

# phoenix-ops:ignore SEC001, WEB003 -- rotated by the platform
# (a second comment line between directive and code is fine)
config :app, :secret,
  value: "x"

config :app, :other, value: 1
"""


def test_ignore_covers_every_line_of_the_next_expression_and_nothing_after(tmp_path):
    inside = [finding("WEB003", "config/prod.exs", n) for n in (4, 5, 6)]
    after = finding("WEB003", "config/prod.exs", 7)
    problems = run(tmp_path, {"config/prod.exs": ENDPOINT}, [*inside, after])
    assert [f.suppressed for f in inside] == ["HSTS is added by the load balancer"] * 3
    assert after.suppressed is None
    assert [p.rule_id for p in problems] == ["OPS013"]  # the second directive matched nothing
    assert problems[0].location.line == 9


def test_several_ids_and_comment_lines_before_the_code(tmp_path):
    sec = finding("SEC001", "config/prod.exs", 12)
    web = finding("WEB003", "config/prod.exs", 11)
    later = finding("SEC001", "config/prod.exs", 14)
    problems = run(tmp_path, {"config/prod.exs": ENDPOINT}, [sec, web, later])
    assert sec.suppressed == web.suppressed == "rotated by the platform"
    assert later.suppressed is None
    assert [p.rule_id for p in problems] == ["OPS013"]  # the first directive: its line 4-6 has no WEB003
    assert problems[0].location.line == 3


def test_ignore_file_covers_the_whole_file_and_only_that_file(tmp_path):
    body = "defmodule Repo.Migrations.Add do\n  # phoenix-ops:ignore-file MIG001 -- legacy, already run\n" \
           "  def change, do: :ok\nend\n"
    here = [finding("MIG001", "priv/repo/migrations/1_add.exs", n) for n in (1, 3, None)]
    elsewhere = finding("MIG001", "priv/repo/migrations/2_other.exs", 3)
    other_rule = finding("SEC001", "priv/repo/migrations/1_add.exs", 3)
    problems = run(tmp_path, {"priv/repo/migrations/1_add.exs": body}, [*here, elsewhere, other_rule])
    assert all(f.suppressed == "legacy, already run" for f in here)
    assert elsewhere.suppressed is None and other_rule.suppressed is None
    assert problems == []


def test_marker_inside_strings_and_heredocs_is_not_a_directive(tmp_path):
    body = 'x = "# phoenix-ops:ignore WEB003 -- nope"\n' \
           '@doc """\n# phoenix-ops:ignore-file WEB003 -- nope\n"""\n' \
           'config :app, force_ssl: false\n'
    f = finding("WEB003", "config/prod.exs", 5)
    problems = run(tmp_path, {"config/prod.exs": body}, [f])
    assert f.suppressed is None
    assert problems == []


def test_comment_above_a_keyword_pair_covers_that_pair_only(tmp_path):
    body = "config :app, Endpoint,\n  # phoenix-ops:ignore WEB003 -- fine here\n  http: [port: 4000],\n" \
           "  https: [port: 4001]\n"
    first, second = finding("WEB003", "config/prod.exs", 3), finding("WEB003", "config/prod.exs", 4)
    run(tmp_path, {"config/prod.exs": body}, [first, second])
    assert first.suppressed == "fine here"
    assert second.suppressed is None


def test_a_pipeline_is_one_expression(tmp_path):
    body = "def f(conn) do\n  # phoenix-ops:ignore WEB003 -- fine\n  conn\n  |> put_resp_header(\"x\", \"y\")\n" \
           "  |> send_resp(200, \"\")\n  other()\nend\n"
    covered = [finding("WEB003", "lib/a.ex", n) for n in (3, 4, 5)]
    outside = finding("WEB003", "lib/a.ex", 6)
    run(tmp_path, {"lib/a.ex": body}, [*covered, outside])
    assert all(f.suppressed == "fine" for f in covered)
    assert outside.suppressed is None


@pytest.mark.parametrize("comment, rule_id, text", [
    ("# phoenix-ops:ignore WEB003", "OPS011", "no reason"),
    ("# phoenix-ops:ignore WEB003 --   ", "OPS011", "no reason"),
    ("# phoenix-ops:ignore WEB999 -- typo", "OPS012", "WEB999"),
    ("# phoenix-ops:ignore OPS013 -- circular", "OPS012", "cannot silence"),
    ("# phoenix-ops:ingore WEB003 -- misspelt", "OPS010", "unknown directive"),
    ("# phoenix-ops:ignore -- no ids", "OPS010", "names no rule id"),
    ("# phoenix-ops:ignore WEB003 SEC001 -- spaces", "OPS010", "separate several ids with commas"),
    ("# phoenix-ops:ignore WEB3 -- short", "OPS010", "'WEB3'"),
])
def test_unusable_directives_are_reported_and_silence_nothing(tmp_path, comment, rule_id, text):
    f = finding("WEB003", "config/prod.exs", 2)
    problems = run(tmp_path, {"config/prod.exs": f"{comment}\nconfig :app, force_ssl: false\n"}, [f])
    assert f.suppressed is None
    assert [p.rule_id for p in problems] == [rule_id]
    assert text in problems[0].message
    assert problems[0].location == Location(path="config/prod.exs", line=1, column=1)


def test_a_known_id_still_applies_beside_an_unknown_one(tmp_path):
    f = finding("WEB003", "config/prod.exs", 2)
    problems = run(tmp_path, {"config/prod.exs": "# phoenix-ops:ignore WEB003, XYZ001 -- r\nfoo()\n"}, [f])
    assert f.suppressed == "r"
    assert [(p.rule_id, "XYZ001" in p.message) for p in problems] == [("OPS012", True)]


def test_trailing_directive_and_directive_with_nothing_after_are_malformed(tmp_path):
    body = "config :app, force_ssl: false # phoenix-ops:ignore WEB003 -- r\n" \
           "defmodule A do\n  def f, do: 1\n  # phoenix-ops:ignore WEB003 -- r\nend\n"
    f = finding("WEB003", "config/prod.exs", 1)
    problems = run(tmp_path, {"config/prod.exs": body}, [f])
    assert f.suppressed is None
    assert [(p.rule_id, p.location.line) for p in problems] == [("OPS010", 1), ("OPS010", 4)]
    assert "same line" in problems[0].message and "no expression" in problems[1].message


def test_unused_is_reported_only_for_rules_that_ran(tmp_path):
    files = {"config/prod.exs": "# phoenix-ops:ignore WEB003, SEC001 -- r\nfoo()\n"}
    problems = run(tmp_path, files, [], ran={"SEC001"})
    assert [p.rule_id for p in problems] == ["OPS013"]
    assert "SEC001" in problems[0].message and "WEB003" not in problems[0].message
    assert run(tmp_path, files, [], ran=set()) == []


def test_unused_fingerprint_survives_line_moves(tmp_path):
    a = run(tmp_path / "a", {"lib/x.ex": "# phoenix-ops:ignore WEB003 -- r\nfoo()\n"}, [])
    b = run(tmp_path / "b", {"lib/x.ex": "\n\n\n# phoenix-ops:ignore WEB003 -- r\nfoo()\n"}, [])
    assert a[0].location.line != b[0].location.line
    assert a[0].fingerprint == b[0].fingerprint


def test_templates_are_not_read(tmp_path):
    f = finding("WEB003", "lib/page.html.heex", 2)
    problems = run(tmp_path, {"lib/page.html.heex": "<%# phoenix-ops:ignore WEB003 -- r %>\n<div/>\n"}, [f])
    assert f.suppressed is None and problems == []

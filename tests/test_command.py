"""The tail every command shares: formats, -o, the gate, colour, --quiet, progress; and how each
command uses it (check, env, env check, probe, cluster)."""

from __future__ import annotations

import gc
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import cli_run
import pytest

from phoenix_ops.catalog import catalog
from phoenix_ops.command import (
    NoProgress,
    Progress,
    Tail,
    UsageError,
    color_wanted,
    from_here,
    gate,
)
from phoenix_ops.findings import Confidence, Finding, Location, Severity

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "shop"
ESC = "\x1b["


def invoke(*args: str | Path, env: dict | None = None):
    return cli_run.invoke(args, env=env)


def finding(rule_id: str, severity: Severity = Severity.WARNING, suppressed: str | None = None) -> Finding:
    f = Finding(rule_id, "a-rule", severity, Confidence.HIGH, "a fact", location=Location(path="mix.exs", line=1))
    f.suppressed = suppressed
    return f


def test_formats_are_case_insensitive_and_help_lists_exactly_the_accepted_ones(tmp_path):
    assert Tail.build("JSON", fail_level="INFO").fmt == "json"
    with pytest.raises(UsageError, match="use text, json, sarif, html"):
        Tail.build("yaml")
    def help_text(command: str) -> str:  # the words of the page, without its box drawing
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", invoke(command, "--help").output).split())

    for command in ("check", "probe", "cluster"):
        assert "text, json, sarif or html" in help_text(command), command
    env_page = help_text("env")
    assert "env: text, json, dotenv-example or html; env check: text, json, sarif or html" in env_page
    doc = json.loads(invoke("check", EXAMPLE, "--format", "JSON", "--fail-level", "ERROR").stdout)
    assert doc["tool"]["command"] == "check"
    assert invoke("env", EXAMPLE, "-f", "DOTENV-EXAMPLE").exit_code == 0


@pytest.mark.parametrize("target", ["missing-dir/report.json", "."])
def test_output_path_is_checked_before_any_work(tmp_path, target, monkeypatch):
    out = tmp_path / target
    checked = [
        ["check", EXAMPLE, "-o", out],
        ["check", EXAMPLE, "--write-baseline", out],
        ["env", EXAMPLE, "-o", out],
        ["env", "check", EXAMPLE, "--env-file", EXAMPLE / ".env", "-o", out],
        ["cluster", "--hosts", "127.0.0.1", "-o", out],
    ]
    for args in checked:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        assert "is a directory" in result.stderr or "no directory" in result.stderr

    def no_network(*args, **kwargs):
        raise AssertionError("probe did network work before checking -o")
    monkeypatch.setattr("phoenix_ops.live.command.run_probe", no_network)
    for option in ("-o", "--html"):
        result = invoke("probe", "https://example.invalid/", option, out)
        assert result.exit_code == 2 and option in result.stderr, result.output


def test_gate_skips_suppressed_and_informational_findings_everywhere():
    rules = catalog("probe")
    grade = finding("WEB149", Severity.INFO)
    assert rules["WEB149"].informational
    assert gate([grade, finding("SEC001", Severity.ERROR, suppressed="baseline")], Severity.INFO, rules) == 0
    assert gate([finding("SEC001", Severity.WARNING)], Severity.WARNING) == 1
    assert gate([finding("SEC001", Severity.WARNING)], Severity.ERROR) == 0


def test_quiet_prints_nothing_but_writes_the_file_asked_for(tmp_path):
    result = invoke("check", EXAMPLE, "--quiet")
    assert result.exit_code == 1 and result.output == ""
    out = tmp_path / "r.json"
    result = invoke("check", EXAMPLE, "-q", "-f", "json", "-o", out)
    assert result.exit_code == 1 and result.output == "" and json.loads(out.read_text())["findings"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_follows_no_color_force_color_and_the_terminal(monkeypatch):
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    assert color_wanted(False, FakeTerminal()) and not color_wanted(False, io.StringIO())
    assert not color_wanted(True, FakeTerminal())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert color_wanted(False, io.StringIO()) and not color_wanted(True, io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_wanted(False, FakeTerminal())
    monkeypatch.setenv("NO_COLOR", "")  # empty: as if unset (no-color.org)
    assert color_wanted(False, io.StringIO())

    forced = invoke("check", EXAMPLE, env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert ESC in forced.stdout
    for env, args in (({"FORCE_COLOR": "1", "NO_COLOR": "1"}, []), ({"FORCE_COLOR": "1"}, ["--no-color"])):
        assert ESC not in invoke("check", EXAMPLE, *args, env=env).stdout


def test_spinner_only_on_a_terminal_and_without_colour_when_colour_is_off(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert isinstance(Tail().progress("x"), NoProgress)
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert isinstance(Tail(quiet=True).progress("x"), NoProgress)
    for no_color, coloured in ((False, True), (True, False)):
        spinner = Tail(no_color=no_color).progress("auditing")
        assert isinstance(spinner, Progress)
        with spinner:
            spinner.update("step 1/2")
            time.sleep(0.25)
        drawn = terminal.getvalue()
        terminal.seek(0), terminal.truncate()
        assert "step 1/2" in drawn and drawn.endswith("\r\x1b[K")
        assert ("\x1b[36m" in drawn) is coloured


def test_from_here_is_relative_as_given_or_below_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    assert from_here(Path("a/./b")) == "a/b" and from_here(Path(".")) == ""
    assert from_here(tmp_path / "a") == "a" and from_here(Path("/elsewhere/x")) == "/elsewhere/x"


def test_text_paths_open_from_the_current_directory_and_sarif_keeps_repository_uris(monkeypatch):
    monkeypatch.chdir(REPO)
    text = invoke("check", "examples/shop", "--no-color").stdout
    assert "examples/shop/config/prod.exs:5: " in text
    assert not re.search(r"^config/", text, re.M)
    sarif = json.loads(invoke("check", "examples/shop", "-f", "sarif").stdout)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"] for loc in r["locations"]}
    assert "examples/shop/config/prod.exs" in uris  # from the repository's root, as GitHub wants
    monkeypatch.chdir(EXAMPLE / "config")
    assert "../config/prod.exs:5: " in invoke("check", "..", "--no-color").stdout


def test_a_fix_shared_by_many_findings_is_printed_once_with_its_subjects():
    from phoenix_ops.report.text import render_text

    rule = catalog("envfile")["REL050"]
    found = [rule.finding(f"{name} is missing", Location(path="prod.env"), key=name) for name in ("A_VAR", "B_VAR")]
    found.append(catalog("static")["SEC001"].finding("a literal secret", Location(path="config/prod.exs", line=3)))
    text = render_text(found, base="app")
    assert text.count(rule.hint) == 1 and "REL050 (2 findings: A_VAR, B_VAR)" in text
    assert "app/config/prod.exs:3: " in text and "    fix: " + catalog("static")["SEC001"].hint in text


def test_unknown_select_and_ignore_entries_are_refused_with_a_suggestion():
    for option, value, suggestion in (("--select", "FOO", ""), ("--ignore", "XYZ999", ""),
                                      ("--select", "literal-secret-in-confg", "did you mean literal-secret-in-config?")):
        result = invoke("check", EXAMPLE, option, value)
        assert result.exit_code == 2 and f"{option} {value}" in result.stderr and suggestion in result.stderr
    by_name = json.loads(invoke("check", EXAMPLE, "--select", "REL,literal-secret-in-config", "-f", "json").stdout)
    assert by_name["findings"] and {f["rule_id"][:3] for f in by_name["findings"]} <= {"REL", "SEC"}
    assert invoke("check", EXAMPLE, "--select", "sec").exit_code == 1  # an area prefix, any case


def test_explain_takes_a_rule_name_and_shows_a_raised_severity():
    rule = catalog()["SEC001"]
    by_name = invoke("explain", rule.name)
    assert by_name.exit_code == 0 and by_name.stdout.startswith(f"{rule.id} {rule.name}\n")
    typo = invoke("explain", rule.name[:-1] + "x")
    assert typo.exit_code == 2 and f"did you mean {rule.name}?" in typo.stderr


def test_a_severity_above_the_rules_default_is_explained_in_rules_and_explain():
    rules = catalog()
    doc = json.loads(invoke("check", EXAMPLE, "-f", "json").stdout)
    raised = {f["rule_id"] for f in doc["findings"] if Severity.parse(f["severity"]) > rules[f["rule_id"]].severity}
    assert raised == {"REL005"}  # its "localhost" host in a release
    for rule_id in raised:
        assert rules[rule_id].raised and doc["rules"][rule_id]["raised"] == rules[rule_id].raised
        assert f"Severity raised: {rules[rule_id].raised}" in invoke("explain", rule_id).stdout
        assert re.search(rf"^{rule_id}  warning\+ ", invoke("rules").stdout, re.M)


def write_app(root: Path, app: str, phoenix: bool = True) -> Path:
    deps = '[{:phoenix, "~> 1.7"}]' if phoenix else "[]"
    files = {"mix.exs": f'defmodule {app.title()}.MixProject do\n  use Mix.Project\n'
                        f'  def project, do: [app: :{app}, version: "0.1.0", deps: {deps}]\nend\n',
             "config/config.exs": 'import Config\nimport_config "#{config_env()}.exs"\n',
             "config/prod.exs": f'import Config\nconfig :{app}, {app.title()}.Mailer, api_key: "not-so-secret-key"\n'}
    for rel, body in files.items():
        (root / app / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / app / rel).write_text(body)
    return root / app


def test_a_folder_of_several_phoenix_projects_is_not_silently_narrowed_to_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_app(tmp_path / "apps", "admin"), write_app(tmp_path / "apps", "shop"), write_app(tmp_path / "apps", "lib", False)
    for args, more in ((["check", "apps"], ", or give --all\n"), (["env", "check", "apps", "--env-file", "x.env"], "\n")):
        result = invoke(*args)
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1, result.output
        assert result.stderr.endswith("apps holds 2 Phoenix projects: apps/admin, apps/shop; name one" + more)

    text = invoke("check", "apps", "--all", "--select", "SEC001")
    assert text.exit_code == 1
    assert "project apps/admin: app admin, env prod\napps/admin/config/prod.exs:2: error SEC001" in text.stdout
    assert "project apps/shop: app shop, env prod\napps/shop/config/prod.exs:2: error SEC001" in text.stdout
    assert "apps/admin/config/prod.exs:2: error SEC001" in text.stdout.split("SEC: 1 failed")[0]  # each its checklist
    doc = json.loads(invoke("check", "apps", "--all", "-f", "json").stdout)
    assert [r["project"]["app"] for r in doc["reports"]] == ["admin", "shop"]
    assert all(r["checklist"]["SEC"]["counts"]["failed"] == 1 for r in doc["reports"])
    sarif = json.loads(invoke("check", "apps", "--all", "-f", "sarif").stdout)
    assert [run["properties"]["project"]["app"] for run in sarif["runs"]] == ["admin", "shop"]
    assert invoke("check", "apps", "--all", "-f", "html").exit_code == 2

    (tmp_path / "apps" / "admin" / "mix.exs").unlink()
    (tmp_path / "apps" / "admin" / "mix.exs").write_text("defmodule Admin do\nend\n")  # no longer Phoenix
    one = json.loads(invoke("check", "apps", "-f", "json").stdout)
    assert one["project"]["app"] == "shop"


def test_json_and_sarif_name_the_project_and_a_terminal_sees_it_first(tmp_path, monkeypatch):
    doc = json.loads(invoke("check", EXAMPLE, "-f", "json").stdout)
    assert doc["project"]["app"] == "shop" and doc["project"]["env"] == "prod"
    run = json.loads(invoke("check", EXAMPLE, "-f", "sarif").stdout)["runs"][0]
    assert run["properties"]["project"]["app"] == "shop"

    monkeypatch.chdir(REPO)
    master, slave = os.openpty()  # stdout a real terminal
    done = subprocess.run([sys.executable, "-m", "phoenix_ops", "check", "examples/shop", "--no-color"],
                          stdout=slave, stderr=subprocess.PIPE, timeout=120)
    os.close(slave)
    shown = os.read(master, 1 << 16).decode()
    os.close(master)
    assert done.returncode == 1
    assert shown.splitlines()[0] == "project examples/shop: app shop, env prod"


def modules_loaded_by(*argv: str) -> set[str]:
    """The modules a command imports, run in a fresh interpreter, with their top-level packages."""
    code = ("import sys\nsys.argv = ['phoenix-ops', *sys.argv[1:]]\nfrom phoenix_ops.__main__ import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
    return {name for m in done.stderr.split() for name in (m, m.split(".")[0])}


def test_each_command_imports_only_what_it_needs(tmp_path):
    version = modules_loaded_by("--version")
    assert not {"typer", "rich", "click", "tree_sitter"} & version
    check = modules_loaded_by("check", str(EXAMPLE), "-q")
    assert "tree_sitter" in check and not {"httpx", "websockets", "dns", "cryptography", "rich", "jinja2"} & check
    # A project outside git, with no settings file, no YAML and no baseline: none of their readers.
    from project_shapes import GOOD

    for rel, body in GOOD.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    bare = modules_loaded_by("check", str(tmp_path), "-q")
    assert "phoenix_ops.rules.secrets" in bare
    assert not {"subprocess", "tomllib", "json", "hashlib", "shutil", "yaml", "difflib",
                "phoenix_ops.project.deploy.kubernetes", "phoenix_ops.project.deploy.fly"} & bare


def test_probe_text_names_each_node_and_counts_as_json_does():
    from phoenix_ops.live.command import ProbeRun
    from phoenix_ops.live.target import ProbeOptions, Target, TargetResult

    rules = catalog("probe")
    results = []
    for node, found in (("10.0.0.1", ["WEB101"]), ("10.0.0.2", ["WEB101", "WEB117"])):
        target = Target("https://shop.example/", "shop.example", node)
        where = Location(url=target.url, node=node)
        findings = [rules[i].finding(f"{i} seen", where) for i in found]
        findings.append(rules["WEB149"].finding("grade B (85/100)", where))  # information, not counted
        results.append(TargetResult(target, findings, grade="B", score=85))
    run = ProbeRun(results, ProbeOptions())
    text = run.text(False)
    assert "== https://shop.example/ via 10.0.0.1: grade B" in text and "via 10.0.0.2" in text
    summary = json.loads(Tail(fmt="json").render(run.findings, tool="probe", rules=rules, extra=run.facts()))["summary"]
    last = text.strip().splitlines()[-1]
    expected = ", ".join(f"{summary[s]} {s}{'s' if summary[s] != 1 else ''}" for s in ("error", "warning", "info"))
    assert last == f"== 2 targets: {expected}"
    assert sum(summary.values()) == 3


def test_the_html_renderer_runs_only_when_html_is_asked_for(monkeypatch, tmp_path, capsys):
    from phoenix_ops.live.command import ProbeRun
    from phoenix_ops.live.target import ProbeOptions, Target, TargetResult

    def refuse(*args, **kwargs):
        raise AssertionError("HTML rendered without being asked for")
    monkeypatch.setattr("phoenix_ops.report.html.render_html", refuse)
    run = ProbeRun([TargetResult(Target("https://shop.example/", "shop.example"), grade="A", score=95)],
                   ProbeOptions())
    for fmt in ("text", "json", "sarif"):
        assert run.finish(Tail(fmt=fmt)) == 0
    assert invoke("check", EXAMPLE, "-f", "json").exit_code == 1
    with pytest.raises(AssertionError, match="without being asked"):
        run.finish(Tail(fmt="json"), html=tmp_path / "r.html")


def test_check_turns_garbage_collection_back_on_when_the_entry_point_held_it_off():
    # __main__ holds collection off while the modules load; the command line turns it back on,
    # with what start-up made frozen (a collection never scans it), and check freezes its own imports too.
    gc.disable()
    try:
        assert invoke("check", EXAMPLE, "-q").exit_code == 1
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.enable()
        gc.unfreeze()

"""`phoenix-ops probe` from the command line: formats, reports, exit codes, several targets."""

from __future__ import annotations

import json

import pytest
from cli_run import invoke
from live_servers import free_port

from phoenix_ops.command import NoProgress, Progress, Tail
from phoenix_ops.live.command import ProbeArgs, prepare
from phoenix_ops.live.command import probe as run_probe


def probe(*args: str):
    return invoke(["probe", *args])


@pytest.mark.parametrize("args, message", [
    ([], "give at least one URL"),
    (["ftp://x/"], "not an http(s) URL"),
    (["https://localhost/", "--resolve", "nonsense"], "--resolve wants HOST:PORT:ADDR"),
    (["https://localhost/", "--format", "yaml"], "unknown format"),
    (["https://localhost/", "--timeout", "0"], "must be positive"),
    (["https://localhost/", "--fail-level", "loud"], "unknown severity"),
    (["--targets", "/nonexistent/targets.txt"], "No such file"),
])
def test_usage_errors_exit_2(args, message):
    result = probe(*args)
    assert result.exit_code == 2 and message in result.output


def test_explain_and_rules_list_the_probe_rules():
    page = invoke(["explain", "WEB102"])
    assert page.exit_code == 0 and "rewrite_on: [:x_forwarded_proto]" in page.output and "kind: probe" in page.output
    listing = invoke(["rules"]).output
    assert "WEB149" in listing and "AST100" in listing and "HLT101" in listing


@pytest.mark.slow
def test_good_site_exits_0_and_bad_site_exits_1_with_json(lab):
    good = lab.site({"headers": "strong"})
    bad = lab.site({"check_origin": False, "session_flags": "; path=/"})
    ok = probe(f"https://localhost:{good.https_port}/", "--ca-file", lab.certs.ca_file,
               "--http-port", str(good.http_port), "--timeout", "2")
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(f"== https://localhost:{good.https_port}/: grade A+ (100/100)\n")
    out = probe(f"https://localhost:{bad.https_port}/", "--ca-file", lab.certs.ca_file, "--format", "json",
                "--http-port", str(bad.http_port), "--timeout", "2")
    assert out.exit_code == 1
    doc = json.loads(out.output)
    (target,) = doc["targets"].values()
    assert doc["grade"] == "F" == target["grade"] and target["session_cookie"] == "_demo_key"
    assert "SFMyNTY" not in out.output  # the session token itself is never reported
    rules = {f["rule_id"] for f in doc["findings"]}
    assert {"WEB117", "SEC100"} <= rules
    assert all(f["location"]["url"].startswith(("https://", "wss://", "http://")) for f in doc["findings"])


@pytest.mark.slow
def test_targets_file_html_report_and_fail_level(lab, tmp_path):
    a, b = lab.site(), lab.site({"dev_routes": True})
    targets = tmp_path / "targets.txt"
    targets.write_text(f"# two nodes\nhttps://localhost:{a.https_port}/\n\nhttps://localhost:{b.https_port}/\n")
    html = tmp_path / "report.html"
    result = probe("--targets", str(targets), "--ca-file", lab.certs.ca_file, "--html", str(html),
                   "--fail-level", "error", "--timeout", "2", "--http-port", str(a.http_port), "-q")
    assert result.exit_code == 1 and result.output == ""  # WEB120 on b is an error; --quiet prints nothing
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'data-grade="F"' in page
    assert f"https://localhost:{a.https_port}" in page and "/dev/dashboard answers 200" in page
    assert f'<span class="badge small g-F">F</span><span>https://localhost:{b.https_port}</span>' in page
    warn_only = probe(f"https://localhost:{a.https_port}/", "--ca-file", lab.certs.ca_file, "--fail-level", "error",
                      "--timeout", "2", "--http-port", str(a.http_port))
    assert warn_only.exit_code == 0  # only warnings (the 1.8 default CSP) below --fail-level error
    sarif = probe(f"https://localhost:{b.https_port}/", "--ca-file", lab.certs.ca_file, "--format", "sarif",
                  "--timeout", "2", "--http-port", str(a.http_port))
    results = json.loads(sarif.output)["runs"][0]["results"]
    assert sarif.exit_code == 1 and any(r["ruleId"] == "WEB120" for r in results)
    assert all("physicalLocation" not in loc for r in results for loc in r.get("locations", []))


def test_progress_goes_to_stderr_only_when_asked(capsys):
    args = ProbeArgs([f"http://127.0.0.1:{free_port()}/"], None, 1.0, None, False, None, None, (), (), None,
                     None, None, (), 0.0, False, 1000, 10, "/", 4)
    targets, opts = prepare(args)

    def run_command(progress):
        run = run_probe(targets, opts, progress)
        report = Tail(fmt="json").render(run.findings, tool="probe", rules={}, extra=run.facts())
        html = Tail(fmt="html").render(run.findings, tool="probe", rules={}, extra=run.facts(html=True))
        return report, html, Tail().gate(run.findings)

    with Progress("probing", color=False) as progress:
        report, html, code = run_command(progress)
    assert code == 1 and "probed 1/1" in capsys.readouterr().err
    assert json.loads(report)["grade"] == "" and html.startswith("<!DOCTYPE html>")  # unreachable: no grade
    run_command(NoProgress())
    assert capsys.readouterr().err == ""

"""What the probe says when things go wrong: in words, with the way out, and no grade for a target
that never answered; text output names the node and counts as JSON does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import websockets
from cli_run import invoke
from live_servers import free_port

from phoenix_ops.catalog import catalog
from phoenix_ops.command import NoProgress, Tail
from phoenix_ops.live.command import ProbeArgs, prepare, probe
from phoenix_ops.live.socket import refusal


@pytest.mark.parametrize("exc", [websockets.InvalidMessage("did not receive a valid HTTP response"),
                                 websockets.InvalidHandshake("bad"), TimeoutError(),
                                 ConnectionRefusedError(111, "Connection refused")])
def test_upgrade_failures_are_said_in_words(exc):
    said = refusal(exc)
    assert "InvalidMessage" not in said and "Error" not in said and said
    if isinstance(exc, websockets.InvalidMessage):
        assert said.startswith("got no valid HTTP answer")


@pytest.mark.slow
def test_a_page_that_never_answers_is_not_called_a_redirect_chain(lab):
    silent = lab.hostile("silent")
    (result,) = lab.probe(f"http://127.0.0.1:{silent}/", timeout=1.0, budget=0.5)
    (message,) = [f.message for f in result.findings if f.rule_id == "WEB140"]
    assert message == "no answer within 0.5 s" and result.grade == ""


@pytest.mark.slow
def test_certificate_of_an_unknown_ca_points_at_ca_file_and_insecure(lab):
    site = lab.site()
    (result,) = lab.probe(site=site, ca_file=None)
    (message,) = [f.message for f in result.findings if f.rule_id == "WEB140"]
    assert "TLS certificate rejected" in message and "--ca-file" in message and "--insecure" in message
    assert result.grade == ""
    (insecure,) = lab.probe(site=site, ca_file=None, insecure=True)
    (invalid,) = [f.message for f in insecure.findings if f.rule_id == "WEB106"]
    assert "--ca-file" in invalid and insecure.grade == "F"


@pytest.mark.slow
def test_text_names_the_node_and_counts_as_json(lab):
    site = lab.site()
    port = site.https_port
    args = ProbeArgs([f"https://localhost:{port}/"], None, timeout=3.0, ca_file=Path(lab.certs.ca_file),
                     http_port=site.http_port,
                     resolve=(f"localhost:{port}:127.0.0.1", f"localhost:{port}:127.0.0.2"))
    run = probe(*prepare(args), NoProgress())
    text = run.text(color=False)
    doc = json.loads(Tail(fmt="json").render(run.findings, tool="probe", rules=catalog("probe"), extra=run.facts()))
    assert f"== https://localhost:{port}/ via 127.0.0.2: grade" in text
    assert re.search(rf"^https://localhost:{port}/ via 127\.0\.0\.2: info WEB114", text, re.M)
    total = re.search(r"^== 2 targets: (\d+) errors?, (\d+) warnings?, (\d+) infos?$", text, re.M)
    assert total, text
    expected = doc["summary"]
    assert [int(n) for n in total.groups()] == [expected["error"], expected["warning"], expected["info"]]


def test_unreachable_targets_have_no_grade_in_json():
    out = invoke(["probe", f"http://127.0.0.1:{free_port()}/", "--format", "json", "--timeout", "1"])
    doc = json.loads(out.output)
    (target,) = doc["targets"].values()
    assert target["grade"] == "" and doc["grade"] == ""
    assert [f["message"] for f in doc["findings"] if f["rule_id"] == "WEB149"] == \
        ["no grade: the target is unreachable"]

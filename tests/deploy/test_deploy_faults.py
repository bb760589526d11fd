"""Deploy faults on the real stack: a canary that misbehaves while it serves ends rolled back."""

import json
import re
import time

import pytest
from lab import Load
from test_rollout import first_deploy, project, run, running

pytestmark = pytest.mark.slow


def journal_end(proj) -> dict:
    events = [json.loads(line) for line in (proj / ".phoenix-ops" / "deploy.jsonl").read_text().splitlines()]
    return events[-1]


@pytest.mark.parametrize(("knob", "value", "verdict", "users_see"), [
    ("FAULT_5XX_SHARE", "0.5", r"canary error rate too high: canary (\d+)/(\d+) 5xx", {"500"}),
    ("FAULT_DELAY_MS", "1000", r"canary slower than the rest: canary (\d+)/(\d+) 5xx, median (\d+) ms", set()),
], ids=["5xx", "slow"])
def test_a_canary_failing_its_metric_gate_rolls_everything_back(lab, tmp_path, env_file, phoenix_build,
                                                                phoenix_build_v2, knob, value, verdict, users_see):
    """0.2.0 on the canary (the first host) only answers half its requests with 500, or every one a
    second late; it boots and its health path answers, so only the metric gate can tell.

    Asserted: the deploy fails naming the gate and its figures and says it rolled back; the journal
    ends "rolled back" and `deploy status` says so; every host runs 0.1.0 again from its `current`
    link; the two hosts the deploy never touched answered every request sent to them directly during
    the deploy; through nginx the only failures are the canary's own 500s (none when it is only
    slow), and after the rollback nginx answers every request."""
    faulty = lab.faulty(env_file, lab.hosts[0], "0.2.0", **{knob: value})
    proj = project(lab, tmp_path, faulty, "canary", **{"canary-window": 3})
    first_deploy(lab, proj, phoenix_build)
    direct = [Load(f"http://127.0.0.1:{h.http_port}/", threads=1) for h in lab.hosts[1:]]
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load, direct[0], direct[1]:
        result = run(lab, proj, "deploy", phoenix_build_v2.tarball)
    assert result.exit_code == 1, result.output
    figures = re.search(verdict, result.stderr)
    assert figures and "rolled back: the previous version serves" in result.stderr, result.stderr
    errors, total = int(figures[1]), int(figures[2])
    if knob == "FAULT_5XX_SHARE":
        assert total >= 10 and errors / total > 0.2, figures[0]
    else:
        assert errors == 0 and int(figures[3]) >= 1000, figures[0]
    assert journal_end(proj)["result"] == "rolled back"
    assert "rolled back" in run(lab, proj, "deploy", "status").stdout

    assert running(lab) == ["0.1.0"] * 3
    assert all((h.root / "current").resolve().name == "0.1.0" for h in lab.hosts)
    for d in direct:
        assert d.ok > 10 and d.failures == [], (d.ok, d.failures[:5])
    assert load.ok > 50 and set(load.failures) <= users_see, (load.ok, load.failures[:5])
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as after:
        time.sleep(2)
    assert after.ok > 20 and after.failures == [], (after.ok, after.failures[:5])


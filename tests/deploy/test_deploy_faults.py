"""Deploy faults on the real stack: a canary that misbehaves while it serves, and a host lost in the
middle of a rolling deploy. Each ends rolled back (or finished later), never half-done."""

import json
import re
import subprocess
import sys
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


LOST_BOUND_SECONDS = 90.0  # SSH keepalive gives up after 15-20 s, one reconnect 10 s, one node restarted


def test_a_host_lost_mid_deploy_is_left_out_until_it_answers_then_resume_finishes(lab, tmp_path, env_file,
                                                                                  phoenix_build, phoenix_build_v2):
    """The second host stops answering over SSH once the first batch is back in the balancer: the
    deploy gives up on it within the keepalive, rolls the first host back, leaves the lost one out of
    the balancer (what it runs is unknown to the tool) and says so; `--resume` is refused while it
    stays silent and, once it answers, starts the deploy over and finishes it on every host. Nginx
    answers every request throughout."""
    proj = project(lab, tmp_path, env_file)
    first_deploy(lab, proj, phoenix_build)
    first, lost, last = lab.hosts
    label = f"127.0.0.1:{lost.ssh_port}"
    journal = proj / ".phoenix-ops" / "deploy.jsonl"
    cmd = [sys.executable, "-m", "phoenix_ops", "deploy", str(phoenix_build_v2.tarball), "--project", str(proj),
           "--known-hosts", str(lab.known_hosts), "--identity", str(lab.identity)]
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        undrained = f'"step": "undrain 127.0.0.1:{first.ssh_port}"'
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and undrained not in journal.read_text().partition('"version": "0.2.0"')[2]:
            time.sleep(0.05)
        lost.freeze()
        try:
            frozen_at = time.monotonic()
            _, err = proc.communicate(timeout=300)
            took = time.monotonic() - frozen_at
            running_then = running(lab)
            current_then = [(h.root / "current").resolve().name for h in lab.hosts]
            upstream = (tmp_path / "nginx" / "upstream.conf").read_text()
            status = run(lab, proj, "deploy", "status").stdout
            end = journal_end(proj)
            refused = run(lab, proj, "deploy", "--resume")
        finally:
            lost.thaw()
        resumed = run(lab, proj, "deploy", "--resume")

    assert proc.returncode == 1, err
    assert f"{label}: connection lost" in err and f"{label} does not answer over SSH" in err, err
    assert "`deploy --resume` starts this deploy over" in err
    assert took < LOST_BOUND_SECONDS, took
    # The first host back on 0.1.0, the last never touched; the lost one runs 0.1.0 still, or nothing
    # when its stop began just before it went silent: `current` was not switched either way.
    assert running_then[::2] == ["0.1.0"] * 2 and running_then[1] in ("0.1.0", "") and current_then == ["0.1.0"] * 3
    assert f":{first.http_port};" in upstream and f":{last.http_port};" in upstream
    assert f":{lost.http_port};" not in upstream
    assert end["result"] == "failed" and end["unreachable"] == [label]
    assert end["reason"].startswith(f"{label}: connection lost"), end
    assert ", failed" in status and f"out of the balancer (did not answer over SSH): {label}" in status, status

    assert refused.exit_code == 2 and "nothing was changed" in refused.stderr, refused.output
    assert resumed.exit_code == 0, resumed.output
    assert running(lab) == ["0.2.0"] * 3
    upstream = (tmp_path / "nginx" / "upstream.conf").read_text()
    assert all(f":{h.http_port};" in upstream for h in lab.hosts), upstream
    assert journal_end(proj)["result"] == "finished"
    assert load.ok > 50 and load.failures == [], (load.ok, load.failures[:5])
    print(f"lost host: the deploy ended {took:.0f} s after the host went silent")

"""Deploy faults on the real stack: a canary that misbehaves while it serves, a host lost in the middle
of a rolling or blue-green deploy, a host that refuses the upload. Each ends rolled back, untouched, or
finished later, never half-done."""

import json
import re
import time

import pytest
from lab import Load
from test_rollout import deploy_until, first_deploy, project, run, running

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
        assert total >= 5 and errors / total > 0.2, figures[0]
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


def test_a_new_node_too_slow_for_the_session_gate_rolls_everything_back(lab, tmp_path, env_file, phoenix_build,
                                                                        phoenix_build_v2):
    """0.2.0 on the first host is ready (its health path answers at once) but its pages take 6 s, more
    than the session gate waits: the gate fails and every host is rolled back, instead of the deploy
    stopping half-done on an error the gate did not expect. The slow node was drained, so no request
    through nginx fails."""
    faulty = lab.faulty(env_file, lab.hosts[0], "0.2.0", FAULT_DELAY_MS="6000")
    proj = project(lab, tmp_path, faulty, **{"session-page": "/counter"})  # `/` rewrites its session
    first_deploy(lab, proj, phoenix_build)
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
        result = run(lab, proj, "deploy", phoenix_build_v2.tarball)
    assert result.exit_code == 1, result.output
    assert f":{lab.hosts[0].http_port}/counter did not answer with the session" in result.stderr, result.stderr
    assert "rolled back: the previous version serves" in result.stderr, result.stderr
    assert journal_end(proj)["result"] == "rolled back"
    assert running(lab) == ["0.1.0"] * 3
    assert load.ok > 20 and load.failures == [], (load.ok, load.failures[:5])


# SSH keepalive gives up within 15-20 s, the rollback's reconnect within 10 s; one node restarted on a busy machine
LOST_BOUND_SECONDS = 90.0
RETRY_SECONDS = 3.0  # nginx sends a request its node has not answered within this to another node


def lost_midway(lab, proj, tarball, step: str, lost) -> dict:
    """Run `deploy TARBALL`, freeze the `lost` host once the journal records `step`, and gather, while
    it stays frozen, what the deploy said and left: exit status, stderr, seconds from the freeze to
    the end, the journal's last event, `deploy status`, the upstream file, and `--resume` and
    `rollback` (both refused while a host is silent)."""
    proc = deploy_until(lab, proj, tarball, step)
    lost.freeze()
    try:
        frozen_at = time.monotonic()
        _, err = proc.communicate(timeout=300)
        seen = {"exit": proc.returncode, "err": err, "took": time.monotonic() - frozen_at,
                "end": journal_end(proj), "status": run(lab, proj, "deploy", "status").stdout,
                "upstream": (lab.tmp / "nginx" / "upstream.conf").read_text(),
                "current": [(h.root / "current").resolve().name for h in lab.hosts]}
        seen["refused"] = [run(lab, proj, *args) for args in (("deploy", "--resume"), ("rollback",))]
        journal = (proj / ".phoenix-ops" / "deploy.jsonl").read_text().splitlines()
        print("deploy stderr:", err, "journal:", *journal[-12:], sep="\n")  # shown when the test fails
    finally:
        lost.thaw()
    return seen


def assert_lost_and_left_out(seen: dict, lab, lost) -> None:
    """What every lost-host deploy must say and leave while the host is silent."""
    label = f"127.0.0.1:{lost.ssh_port}"
    why = seen["err"] + json.dumps(seen["end"])
    assert seen["exit"] == 1, why
    assert re.search(rf"{re.escape(label)}: (connection lost|no answer within)", seen["err"]), why
    assert f"{label} does not answer over SSH: left out of the balancer" in seen["err"], why
    assert "`deploy --resume` starts this deploy over" in seen["err"], why
    assert seen["took"] < LOST_BOUND_SECONDS, seen["took"]
    assert seen["end"]["result"] == "failed" and seen["end"]["unreachable"] == [label], why
    assert seen["end"]["reason"].startswith(f"{label}: "), why
    assert ", failed" in seen["status"], seen["status"]
    assert f"out of the balancer (did not answer over SSH): {label}" in seen["status"], seen["status"]
    assert f":{lost.http_port};" not in seen["upstream"] and f":{lost.http_port + 1};" not in seen["upstream"]
    for refused in seen["refused"]:
        assert refused.exit_code == 2 and f"{label}: SSH did not answer" in refused.stderr, refused.output
        assert "nothing was changed" in refused.stderr, refused.output


@pytest.mark.parametrize(("strategy", "then"), [("rolling", "resume"), ("rolling", "rollback"),
                                               ("canary", "resume")])
def test_a_host_lost_mid_rolling_deploy_is_left_out_until_it_answers_then_resume_or_rollback_ends_it(
        lab, tmp_path, env_file, phoenix_build, phoenix_build_v2, strategy, then):
    """The second host goes silent (sshd and its node frozen) once the first batch is back in the
    balancer (a canary: once the canary passed its gate, before the rest are drained and stopped
    together): the deploy gives up on it within the SSH keepalive, puts the first host back on 0.1.0,
    leaves the lost one out of the balancer (what it runs is unknown to the tool) and says so;
    `--resume` and `rollback` are refused while it stays silent; once it answers, `--resume` starts
    the deploy over and finishes it on every host, or `rollback` puts 0.1.0 back on every host and
    every host back into the balancer.

    Through nginx no request may fail, from the first deploy to the resumed one's end. A request
    nginx had sent to the frozen node (in the moment before that node was drained) is answered by
    another node after RETRY_SECONDS, as a balancer with proxy_next_upstream does; the test tolerates
    that delay, not a failure."""
    lab.retry_after(RETRY_SECONDS)
    proj = project(lab, tmp_path, env_file, strategy, **({"canary-window": 3} if strategy == "canary" else {}))
    first_deploy(lab, proj, phoenix_build)
    first, lost, last = lab.hosts
    step = "canary gate" if strategy == "canary" else f"undrain 127.0.0.1:{first.ssh_port}"
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
        seen = lost_midway(lab, proj, phoenix_build_v2.tarball, step, lost)
        ran = running(lab)
        ended = run(lab, proj, "deploy", "--resume") if then == "resume" else run(lab, proj, "rollback")
    assert_lost_and_left_out(seen, lab, lost)
    # The first host back on 0.1.0, the last never touched; the lost one runs 0.1.0 still, or nothing
    # when its stop began just before it went silent: `current` was not switched either way.
    assert ran[::2] == ["0.1.0"] * 2 and ran[1] in ("0.1.0", "") and seen["current"] == ["0.1.0"] * 3, \
        f"running {ran}, current {seen['current']}\n{seen['err']}\n{json.dumps(seen['end'])}"  # a str: shown whole
    assert f":{first.http_port};" in seen["upstream"] and f":{last.http_port};" in seen["upstream"]

    assert ended.exit_code == 0, ended.output
    version = "0.2.0" if then == "resume" else "0.1.0"
    assert running(lab) == [version] * 3
    assert all((h.root / "current").resolve().name == version for h in lab.hosts)
    upstream = (tmp_path / "nginx" / "upstream.conf").read_text()
    assert all(f":{h.http_port};" in upstream for h in lab.hosts), upstream
    assert journal_end(proj)["result"] == ("finished" if then == "resume" else "rolled back")
    assert load.ok > 50 and load.failures == [], (load.ok, load.failures[:5])
    print(f"lost host ({strategy}, then {then}): the deploy ended {seen['took']:.0f} s after the host went silent")


@pytest.mark.parametrize("then", ["rollback", "resume"])
def test_a_host_lost_mid_blue_green_deploy_is_left_out_then_rollback_or_resume_ends_it(
        lab, tmp_path, env_file, phoenix_build, phoenix_build_v2, then):
    """The green colours start on every host at once; the second host's first start of green is held
    back (its env file waits, then fails) and the host goes silent in the middle of it, once the
    first host's green has started: the deploy gives up on it, stops the green colour where it
    started, keeps nginx on the blue colour of the hosts that answer and leaves the lost host out.
    Once it answers, `rollback` stops whatever green it started, points `current` back and puts its
    blue colour back into nginx; or `deploy --resume` starts the deploy over and switches every host
    to green.

    No request through nginx may fail, from before the deploy to the end; a request caught by the
    frozen blue node is answered by another after RETRY_SECONDS (see the rolling test)."""
    lab.retry_after(RETRY_SECONDS)
    once = tmp_path / "held"
    held = lab.only_on(env_file, lab.hosts[1], "0.2.0", f"[ -e {once} ] || {{ : > {once}; sleep 60; exit 1; }}")
    proj = project(lab, tmp_path, held, "blue-green")
    assert run(lab, proj, "deploy", phoenix_build.tarball).exit_code == 0
    first, lost, last = lab.hosts
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
        seen = lost_midway(lab, proj, phoenix_build_v2.tarball, f"start 127.0.0.1:{first.ssh_port} green", lost)
        blue, green = running(lab, "blue"), running(lab, "green")
        back = run(lab, proj, "rollback") if then == "rollback" else run(lab, proj, "deploy", "--resume")
        time.sleep(1)
    assert_lost_and_left_out(seen, lab, lost)
    # Blue (0.1.0) serves on every host; green was stopped where it started, and never started on the
    # lost host.
    assert blue == ["0.1.0"] * 3 and green == ["", "", ""], (blue, green)
    assert seen["current"] == ["0.1.0"] * 3
    assert all(f":{h.http_port};" in seen["upstream"] for h in (first, last)), seen["upstream"]

    assert back.exit_code == 0, back.output
    upstream = (tmp_path / "nginx" / "upstream.conf").read_text()
    if then == "rollback":
        assert running(lab, "blue") == ["0.1.0"] * 3 and running(lab, "green") == [""] * 3
        assert all((h.root / "current").resolve().name == "0.1.0" for h in lab.hosts)
        assert all(f":{h.http_port};" in upstream and f":{h.http_port + 1};" not in upstream for h in lab.hosts)
        assert journal_end(proj)["result"] == "rolled back"
    else:
        assert running(lab, "green") == ["0.2.0"] * 3 and running(lab, "blue") == ["0.1.0"] * 3
        assert all((h.root / "current").resolve().name == "0.2.0" for h in lab.hosts)
        assert all(f":{h.http_port + 1};" in upstream and f":{h.http_port};" not in upstream for h in lab.hosts)
        assert journal_end(proj)["result"] == "finished"
    assert load.ok > 50 and load.failures == [], (load.ok, load.failures[:5])
    print(f"lost host (blue-green, then {then}): the deploy ended {seen['took']:.0f} s after the host went silent")


def test_a_host_refusing_the_upload_stops_the_deploy_before_any_node_changes(
        lab, tmp_path, env_file, phoenix_build, phoenix_build_v2):
    """The last host cannot unpack 0.2.0 (a file stands where its release directory goes). Every
    upload ends before the first node is drained, so the deploy stops with every node untouched and
    in the balancer; once the host takes the release, `--resume` finishes it."""
    proj = project(lab, tmp_path, env_file)
    first_deploy(lab, proj, phoenix_build)
    last = lab.hosts[-1]
    label = f"127.0.0.1:{last.ssh_port}"
    blocker = last.root / "releases" / "0.2.0"
    blocker.write_text("not a directory\n")
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
        result = run(lab, proj, "deploy", phoenix_build_v2.tarball)
    assert result.exit_code == 1, result.output
    assert f"{label}: exit 1: mkdir: cannot create directory" in result.stderr, result.stderr
    assert "no host was switched, every node runs what it ran before" in result.stderr, result.stderr
    assert running(lab) == ["0.1.0"] * 3
    assert all((h.root / "current").resolve().name == "0.1.0" for h in lab.hosts)
    upstream = (tmp_path / "nginx" / "upstream.conf").read_text()
    assert all(f":{h.http_port};" in upstream for h in lab.hosts), upstream
    end = journal_end(proj)
    assert end["result"] == "failed" and end["reason"].startswith(f"{label}: exit 1"), end
    journal = (proj / ".phoenix-ops" / "deploy.jsonl").read_text()
    this_run = journal[journal.rfind('"event": "start"'):]
    assert '"step": "drain' not in this_run and '"step": "stop' not in this_run, this_run
    assert ", failed" in run(lab, proj, "deploy", "status").stdout
    assert load.ok > 20 and load.failures == [], (load.ok, load.failures[:5])

    blocker.unlink()
    resumed = run(lab, proj, "deploy", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert running(lab) == ["0.2.0"] * 3


def test_a_rollback_where_every_host_changed_drains_each_node_before_its_stop(lab, tmp_path, env_file, phoenix_build,
                                                                            phoenix_build_v2):
    """0.2.0 cannot start on the last host (its env file exits there): by then the first two run 0.2.0
    and the last runs nothing, so every host changed and none is left untouched to serve alone. The
    rollback puts 0.1.0 back node after node, each drained behind the nodes that serve meanwhile
    (those still on 0.2.0 too): no request through nginx fails."""
    faulty = lab.only_on(env_file, lab.hosts[2], "0.2.0", "echo 'this host refuses 0.2.0' >&2; exit 1")
    proj = project(lab, tmp_path, faulty)
    first_deploy(lab, proj, phoenix_build)
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
        result = run(lab, proj, "deploy", phoenix_build_v2.tarball)
        time.sleep(1)
    assert result.exit_code == 1, result.output
    assert "this host refuses 0.2.0" in result.stderr and "rolled back: the previous version serves" in result.stderr
    assert running(lab) == ["0.1.0"] * 3
    assert all((h.root / "current").resolve().name == "0.1.0" for h in lab.hosts)
    upstream = (tmp_path / "nginx" / "upstream.conf").read_text()
    assert all(f":{h.http_port};" in upstream for h in lab.hosts), upstream
    assert load.ok > 50 and load.failures == [], (load.ok, load.failures[:5])

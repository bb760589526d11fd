"""`deploy` to three sshd hosts behind nginx, with the real Phoenix release of tests/phoenix_app:
zero failed requests while it rolls, and each fault ends finished or rolled back, never half-done."""

import asyncio
import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

import pytest
from cli_run import invoke
from lab import HeldSocket, Lab, Load
from live.live_servers import free_port
from phoenix_fixture import start_epmd

from phoenix_ops.cluster import epmd
from phoenix_ops.deploy import beam, remote
from phoenix_ops.deploy.plan import load_plan

pytestmark = pytest.mark.slow

HEARTBEAT_SECONDS = 30.0  # phoenix.js's heartbeatIntervalMs


def run(lab, project: Path, *args):
    return invoke([*map(str, args), "--project", str(project), "--known-hosts",
                                    str(lab.known_hosts), "--identity", str(lab.identity)])


def project(lab, tmp_path, env_file, strategy="rolling", **extra) -> Path:
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    (root / ".phoenix-ops.toml").write_text(lab.plan(strategy, env_file, **extra))
    return root


def running(lab, color="main") -> list[str]:
    return [(h.root / "run" / f"{color}.version").read_text().strip()
            if (h.root / "run" / f"{color}.pid").exists() else "" for h in lab.hosts]


def first_deploy(lab, proj, phoenix_build):
    result = run(lab, proj, "deploy", phoenix_build.tarball)
    assert result.exit_code == 0, result.output
    assert running(lab) == ["0.1.0"] * 3


@pytest.mark.parametrize("strategy", ["rolling", "canary"])
def test_rolling_and_canary_deploys_lose_no_request(lab, tmp_path, env_file, phoenix_build, phoenix_build_v2,
                                                    strategy):
    proj = project(lab, tmp_path, env_file, strategy, **({"canary-window": 3} if strategy == "canary" else {}),
                   **{"session-page": "/counter"})
    first_deploy(lab, proj, phoenix_build)
    socket = HeldSocket(f"ws://127.0.0.1:{lab.nginx_port}/socket/websocket?vsn=2.0.0")
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load, socket:
        time.sleep(1)
        result = run(lab, proj, "deploy", phoenix_build_v2.tarball)
        time.sleep(1)
    assert result.exit_code == 0, result.output
    assert load.ok > 50 and load.failures == [], (load.ok, load.failures[:5])
    # Every node was stopped once, the one holding the socket too: it closed and came back through
    # another node well within phoenix.js's heartbeat.
    assert socket.closed >= 1 and socket.gap < HEARTBEAT_SECONDS, (socket.closed, socket.gap)
    assert running(lab) == ["0.2.0"] * 3
    assert all((h.root / "current").resolve().name == "0.2.0" for h in lab.hosts)
    status = run(lab, proj, "deploy", "status")
    assert "0.2.0" in status.stdout and "finished" in status.stdout
    if strategy == "canary":
        assert "canary gate passed" in result.stderr
    # The session gate asked the plan's session page (the load asks only for /): Phoenix logs it.
    assert any("GET /counter" in (h.root / "log" / "main.log").read_text() for h in lab.hosts)
    assert "the session gate compares nothing" not in result.stderr, result.stderr


def generation(url: str) -> str:
    """The digested asset only the version serving `url` references (it differs between 0.1.0 and 0.2.0)."""
    with urllib.request.urlopen(url, timeout=5) as reply:
        return re.search(r"/assets/generation-[0-9a-f]+", reply.read().decode())[0]


def test_blue_green_switches_at_once_and_keeps_the_old_colour(lab, tmp_path, env_file, phoenix_build,
                                                              phoenix_build_v2):
    """0.1.0 on blue, then 0.2.0 on green, then 0.1.0 again on blue (stopping the 0.1.0 blue kept for
    rollback, never the green that serves), then `rollback` back to green."""
    proj = project(lab, tmp_path, env_file, "blue-green")
    assert run(lab, proj, "deploy", phoenix_build.tarball).exit_code == 0
    assert running(lab, "blue") == ["0.1.0"] * 3
    old = generation(f"http://127.0.0.1:{lab.nginx_port}/")
    for tarball, now in ((phoenix_build_v2.tarball, "green"), (phoenix_build.tarball, "blue")):
        port = 1 if now == "green" else 0
        with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
            time.sleep(1)
            result = run(lab, proj, "deploy", tarball)
            time.sleep(1)
        assert result.exit_code == 0, result.output
        # The fixture's `/` renews its session on every request: the gate says it could not judge.
        assert f"{lab.hosts[0].http_port + 1 - port}/ writes no session, or rewrites it on every request: " \
               "the session gate compares nothing" in result.stderr, result.stderr
        assert load.ok > 50 and load.failures == [], (load.ok, load.failures[:5])
        assert running(lab, "green") == ["0.2.0"] * 3 and running(lab, "blue") == ["0.1.0"] * 3
        upstream = (tmp_path / "nginx" / "upstream.conf").read_text()
        assert all(f":{h.http_port + port};" in upstream and f":{h.http_port + 1 - port};" not in upstream
                   for h in lab.hosts), upstream
        assert (generation(f"http://127.0.0.1:{lab.nginx_port}/") == old) == (now == "blue"), now
    back = run(lab, proj, "rollback")
    assert back.exit_code == 0, back.output
    assert running(lab, "green") == ["0.2.0"] * 3 and running(lab, "blue") == [""] * 3
    upstream = (tmp_path / "nginx" / "upstream.conf").read_text()
    assert all(f":{h.http_port + 1};" in upstream and f":{h.http_port};" not in upstream for h in lab.hosts)
    assert all((h.root / "current").resolve().name == "0.2.0" for h in lab.hosts)


def test_blue_and_green_nodes_get_their_own_names_when_the_env_file_names_none(tmp_path, env_file, phoenix_build,
                                                                               phoenix_build_v2):
    """An env file silent on distribution: the release's default applies (a short name, the release's
    name), nothing forces it off, and the two colours on one host take distinct names. One host with
    its own EPMD, as a real host has; the live colour's node is asked over the SSH connection."""
    one = Lab(tmp_path / "one")
    (tmp_path / "one").mkdir()
    try:
        one.start_hosts(1)
        one.start_nginx()
        port = free_port()
        one.procs.append(start_epmd(port, tmp_path / "epmd.log"))
        silent = tmp_path / "silent.env"
        silent.write_text(env_file.read_text().replace("RELEASE_DISTRIBUTION=none\n", "") + f"ERL_EPMD_PORT={port}\n")
        proj = project(one, tmp_path, silent, "blue-green")
        for build in (phoenix_build, phoenix_build_v2):
            result = run(one, proj, "deploy", build.tarball)
            assert result.exit_code == 0, result.output
        assert running(one, "blue") == ["0.1.0"] and running(one, "green") == ["0.2.0"]
        assert {r.name for r in asyncio.run(epmd.names("127.0.0.1", port))} == {"phx_fixture-blue", "phx_fixture-green"}
        # A third deploy goes to the colour that is not live: blue, stopped first (it ran the version
        # before green's, kept for rollback).
        third = run(one, proj, "deploy", phoenix_build.tarball)
        assert third.exit_code == 0, third.output
        upstream = (tmp_path / "one" / "nginx" / "upstream.conf").read_text()
        assert f":{one.hosts[0].http_port};" in upstream and f":{one.hosts[0].http_port + 1};" not in upstream
        assert running(one, "blue") == ["0.1.0"] and running(one, "green") == ["0.2.0"]

        async def ask_blue():
            plan = load_plan(proj)
            host = plan.hosts[0]
            session = await remote.connect(host, known_hosts=str(one.known_hosts), identity=str(one.identity))
            try:
                said = await session.run(remote.node_script(plan, host, "phx_fixture", "0.1.0", "blue", host.port))
                return await beam.cluster_view(session.conn, beam.parse_facts(said))
            finally:
                await session.close()

        name, seen = asyncio.run(ask_blue())
        assert name.startswith("phx_fixture-blue@") and seen == set()  # short names; the green node is not linked
    finally:
        one.close()


def test_a_host_that_forwards_no_tcp_is_asked_through_the_release_rpc(tmp_path, env_file, phoenix_build):
    """The join gate asks nodes through the SSH connection; a sshd that forwards no TCP leaves only the
    release's own `rpc` (a VM booted on the host), and the deploy says so."""
    one = Lab(tmp_path / "one")
    (tmp_path / "one").mkdir()
    try:
        one.start_hosts(1, forwarding=False)
        one.start_nginx()
        result = run(one, project(one, tmp_path, one.distributed(env_file)), "deploy", phoenix_build.tarball)
        assert result.exit_code == 0, result.output
        assert "forwards no TCP connection" in result.stderr and "bin/phx_fixture rpc" in result.stderr
        assert f"joined the cluster: {one.node_names[0]} sees 0 node(s)" in result.stderr
    finally:
        one.close()


def broken_tarball(build, tmp_path: Path, tail: str = 'raise "this build is broken"') -> Path:
    """v2 with `tail` appended to its runtime.exs: by default it raises at boot, never ready."""
    unpacked = tmp_path / "broken"
    with tarfile.open(build.tarball) as tar:
        tar.extractall(unpacked, filter="tar")
    runtime = next(unpacked.glob("releases/*/runtime.exs"))
    runtime.write_text(runtime.read_text() + f"\n{tail}\n")
    out = tmp_path / f"{build.tarball.name}"
    with tarfile.open(out, "w:gz") as tar:
        for child in unpacked.iterdir():
            tar.add(child, arcname=child.name)
    return out


def test_a_node_that_never_becomes_ready_rolls_everything_back(lab, tmp_path, env_file, phoenix_build,
                                                               phoenix_build_v2):
    proj = project(lab, tmp_path, env_file)
    first_deploy(lab, proj, phoenix_build)
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load:
        result = run(lab, proj, "deploy", broken_tarball(phoenix_build_v2, tmp_path))
    assert result.exit_code == 1 and "never became ready" in result.stderr and "rolled back" in result.stderr
    assert running(lab) == ["0.1.0"] * 3
    assert load.failures == [], load.failures[:5]
    assert "rolled back" in run(lab, proj, "deploy", "status").stdout


def deploy_until(lab, proj: Path, tarball: Path, step: str) -> subprocess.Popen:
    """`deploy TARBALL` in a child process (stderr piped), returned once the journal records a step
    starting with `step` for this deploy (after its own start event)."""
    journal = proj / ".phoenix-ops" / "deploy.jsonl"
    done = len(journal.read_text()) if journal.exists() else 0
    cmd = [sys.executable, "-m", "phoenix_ops", "deploy", str(tarball), "--project", str(proj),
           "--known-hosts", str(lab.known_hosts), "--identity", str(lab.identity)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while f'"step": "{step}' not in (journal.read_text()[done:] if journal.exists() else ""):
        assert time.monotonic() < deadline and proc.poll() is None, f"the deploy never reached {step!r}"
        time.sleep(0.05)
    return proc


def test_killed_mid_deploy_then_resumed_or_rolled_back(lab, tmp_path, env_file, phoenix_build, phoenix_build_v2):
    proj = project(lab, tmp_path, env_file)
    first_deploy(lab, proj, phoenix_build)
    proc = deploy_until(lab, proj, phoenix_build_v2.tarball, "undrain")
    proc.kill()
    proc.communicate()
    status = run(lab, proj, "deploy", "status").stdout
    assert "interrupted" in status
    resumed = run(lab, proj, "deploy", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert running(lab) == ["0.2.0"] * 3
    events = [json.loads(line) for line in (proj / ".phoenix-ops" / "deploy.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "end" and events[-1]["result"] == "finished"
    back = run(lab, proj, "rollback")
    assert back.exit_code == 0, back.output
    assert running(lab) == ["0.1.0"] * 3


def test_dry_run_prints_the_plan_and_connects_to_nothing(lab, tmp_path, env_file, phoenix_build):
    proj = project(lab, tmp_path, env_file)
    for h in lab.hosts:
        h.proc.terminate()
    result = run(lab, proj, "deploy", phoenix_build.tarball, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "strategy rolling" in result.stdout and "tar -xzf" in result.stdout and "kill -TERM" in result.stdout
    assert "only the files it lacks are sent" in result.stdout and "cat \"$r/.manifest\"" in result.stdout
    assert not (proj / ".phoenix-ops").exists()


def test_an_unreachable_host_stops_the_deploy_before_any_change(lab, tmp_path, env_file, phoenix_build):
    proj = project(lab, tmp_path, env_file)
    lab.hosts[2].proc.terminate()
    lab.hosts[2].proc.wait()
    result = run(lab, proj, "deploy", phoenix_build.tarball)
    assert result.exit_code == 2 and "cannot connect" in result.stderr
    assert running(lab) == [""] * 3 and not any((h.root / "releases").exists() for h in lab.hosts)



def test_a_node_that_does_not_join_the_cluster_rolls_everything_back(lab, tmp_path, env_file, phoenix_build,
                                                                     phoenix_build_v2):
    proj = project(lab, tmp_path, lab.distributed(env_file))
    first = run(lab, proj, "deploy", phoenix_build.tarball)
    assert first.exit_code == 0, first.output
    assert "joined the cluster: node-host2@127.0.0.1 sees 2 node(s)" in first.stderr
    # Config merges keyword lists deeply: the host list is emptied, the topology stays.
    alone = broken_tarball(phoenix_build_v2, tmp_path, "config :libcluster, topologies: [epmd: [config: [hosts: []]]]")
    result = run(lab, proj, "deploy", alone)
    assert result.exit_code == 1 and "did not join the cluster" in result.stderr, result.output
    assert "sees no node, not node-host1@127.0.0.1, node-host2@127.0.0.1" in result.stderr
    assert "rolled back" in result.stderr and running(lab) == ["0.1.0"] * 3


def test_an_unsafe_pending_migration_is_refused_before_anything_changes(lab, tmp_path, env_file, phoenix_build,
                                                                         phoenix_build_v2):
    """v2 adds an index without `concurrently` on an existing table (MIG006): old nodes keep serving
    while the table is locked. The plan runs migrations, so `deploy` refuses unless told otherwise."""
    proj = tmp_path / "proj"
    proj.mkdir()
    for part in ("mix.exs", "config", "lib", "priv"):
        src = phoenix_build_v2.source / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, proj / part)
    (proj / ".phoenix-ops.toml").write_text(lab.plan("rolling", env_file).replace('migrate = ""', 'migrate = "true"'))
    first = run(lab, proj, "deploy", phoenix_build.tarball, "--allow-unsafe-migrations")
    assert first.exit_code == 0, first.output
    refused = run(lab, proj, "deploy", phoenix_build_v2.tarball)
    assert refused.exit_code == 1 and "MIG006" in refused.stderr and "nothing was changed" in refused.stderr
    assert running(lab) == ["0.1.0"] * 3 and not any((h.root / "releases" / "0.2.0").exists() for h in lab.hosts)

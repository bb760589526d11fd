"""The path a team takes with a phx.new-shaped app, end to end on real parts.

The fixture app's 0.1.0 serves on three sshd hosts behind nginx (as it did before the team ran
phoenix-ops). The team copies the project at its next version, runs `gen all --target systemd
--write`, settles what `check` still says (a migration made safe as its hint says, four decisions
re-graded with their reasons) until no warning is left, builds `mix release` of that generated project (the
fixture's compiled libraries are reused, so it costs seconds), `release verify`s it, deploys it
rolling under load with a channel socket held through nginx, then `probe`s through the balancer and
asks `cluster` about the nodes. What gen wrote is in the release that serves: its rel/env.sh.eex
names the node unless the hosts' env file does (here it does: three nodes share one machine)."""

import json
import re
import time

import pytest
from cli_run import invoke
from lab import HeldSocket, Load
from phoenix_fixture import copy_built, release_in
from test_rollout import run, running

pytestmark = pytest.mark.slow

HEARTBEAT_SECONDS = 30.0  # phoenix.js's heartbeatIntervalMs

# What `check` says of the fixture that no file gen writes can settle: the team's decisions, kept
# visible at info level in the committed settings, each with its reason.
DECISIONS = {
    "WEB001": "TLS ends at the balancer; the app's HTTPS redirect is switched on at runtime (HARDEN)",
    "OBS009": "the nodes' HTTP ports are reachable only from the balancer and the metrics scraper",
    "JOB007": "the only job is an idempotent echo: an orphaned one is retried by hand",
    "CLU006": "RELEASE_COOKIE comes from the hosts' env file (deploy env-file), never from the repository",
}


def cli(*args):
    return invoke(list(map(str, args)))


def serious(report: str) -> set[str]:
    return {f["rule_id"] for f in json.loads(report)["findings"] if f["severity"] in ("error", "warning")}


def test_gen_check_release_verify_deploy_probe_cluster(lab, tmp_path, env_file, phoenix_build, phoenix_build_v2):
    started = time.monotonic()
    distributed = lab.distributed(env_file)
    app_dir = copy_built(phoenix_build_v2, tmp_path / "app")
    (app_dir / ".phoenix-ops.toml").write_text(
        lab.plan("rolling", distributed)
        + "".join(f'[rules.{rule}]\nseverity = "info"\nreason = "{why}"\n' for rule, why in DECISIONS.items()))
    first = run(lab, app_dir, "deploy", phoenix_build.tarball)
    assert first.exit_code == 0, first.output

    generated = cli("gen", "all", app_dir, "--target", "systemd", "--write")
    assert generated.exit_code == 0, generated.output
    for path in ("rel/env.sh.eex", "rel/overlays/bin/server", "rel/overlays/bin/migrate",
                 "deploy/systemd/phx_fixture.service"):
        assert (app_dir / path).is_file(), path
    # What check's hint says for the new migration's index (MIG006), done by the team.
    migration = next((app_dir / "priv/repo/migrations").glob("*_add_note_to_items.exs"))
    migration.write_text(migration.read_text()
                         .replace("use Ecto.Migration\n", "use Ecto.Migration\n  @disable_ddl_transaction true\n"
                                  "  @disable_migration_lock true\n")
                         .replace("create index(:items, [:name])", "create index(:items, [:name], concurrently: true)"))
    checked = cli("check", app_dir, "--format", "json")
    assert checked.exit_code == 0 and not serious(checked.stdout), checked.stdout[-3000:]
    assert cli("gen", "all", app_dir, "--target", "systemd").exit_code == 0  # nothing left to write

    t0 = time.monotonic()
    tarball = release_in(app_dir, 2)
    build_seconds = time.monotonic() - t0
    release = app_dir / "_build/prod/rel/phx_fixture"
    assert "RELEASE_HOST" in (release / "releases/0.2.0/env.sh").read_text()  # gen's env.sh.eex, rendered
    assert (release / "bin/server").is_file() and (release / "bin/migrate").is_file()

    verified = cli("release", "verify", tarball, "--env-file", env_file, "--project", app_dir, "--health", "/health",
                   "--format", "json")
    assert verified.exit_code in (0, 1), verified.output
    found = {f["rule_id"]: f for f in json.loads(verified.stdout)["findings"]}
    assert "REL110" in found and "booted in" in found["REL110"]["message"]
    # The release's own checks pass; the probe's findings on the loopback endpoint (CSP, cookie flags)
    # are the fixture's, seen again through the balancer below.
    assert not {i for i, f in found.items() if i.startswith("REL") and f["severity"] in ("error", "warning")}

    socket = HeldSocket(f"ws://127.0.0.1:{lab.nginx_port}/socket/websocket?vsn=2.0.0")
    with Load(f"http://127.0.0.1:{lab.nginx_port}/") as load, socket:
        time.sleep(1)
        t0 = time.monotonic()
        rolled = run(lab, app_dir, "deploy", tarball)
        deploy_seconds = time.monotonic() - t0
        time.sleep(1)
    assert rolled.exit_code == 0, rolled.output
    assert load.ok > 50 and load.failures == [], (load.ok, load.failures[:5])
    # The node that held the socket was stopped: the socket closed and came back through another
    # node well within phoenix.js's 30 s heartbeat.
    assert socket.closed >= 1 and socket.gap < HEARTBEAT_SECONDS, (socket.closed, socket.gap)
    assert running(lab) == ["0.2.0"] * 3
    for name in lab.node_names:  # the env file's names, not env.sh.eex's default for the host
        assert f"joined the cluster: {name}" in rolled.stderr, rolled.stderr

    probed = cli("probe", f"http://127.0.0.1:{lab.nginx_port}/", "--health", "/health", "--format", "json")
    assert probed.exit_code in (0, 1), probed.output
    grades = [f["message"] for f in json.loads(probed.stdout)["findings"] if f["rule_id"] == "WEB149"]
    assert grades and re.match(r"grade [A-F]", grades[0]), probed.stdout[-2000:]

    cluster = cli("cluster", "--hosts", ",".join(lab.node_names), "--epmd-port", lab.epmd_port,
                  "--cookie-file", lab.cookie_file, "--expect", 3, "--format", "json")
    assert cluster.exit_code == 0, cluster.output
    assert json.loads(cluster.stdout)["cluster"]["partitions"] == [sorted(lab.node_names)]
    print(f"end to end {time.monotonic() - started:.0f} s: mix release {build_seconds:.0f} s, rolling deploy "
          f"under load {deploy_seconds:.0f} s, {load.ok} requests, 0 failed; socket closed {socket.closed}x, "
          f"longest gap {socket.gap:.1f} s")

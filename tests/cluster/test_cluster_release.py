"""Nodes started from a real Mix release (built offline with Debian's elixir): a rolling deploy caught midway."""

from __future__ import annotations

import os
import subprocess

import pytest
from beam_nodes import LOOPBACK
from conftest import COOKIE

from phoenix_ops.cluster.command import run_doctor
from phoenix_ops.cluster.discovery import parse_hosts
from phoenix_ops.cluster.doctor import DoctorOptions

pytestmark = pytest.mark.slow


def build_release(root, version: str):
    """`mix new` + `MIX_ENV=prod mix release`, the project's version set to `version`."""
    env = dict(os.environ, HOME=str(root), MIX_HOME=str(root / ".mix"), MIX_ENV="prod", LANG="C.UTF-8")
    subprocess.run(["mix", "new", "shop"], cwd=root, env=env, check=True, capture_output=True, timeout=120)
    mix_exs = root / "shop" / "mix.exs"
    mix_exs.write_text(mix_exs.read_text().replace('version: "0.1.0"', f'version: "{version}"'))
    done = subprocess.run(["mix", "release", "--quiet"], cwd=root / "shop", env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "shop" / "_build" / "prod" / "rel" / "shop" / "bin" / "shop"


def test_release_nodes_mid_rolling_deploy(beam, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir(), new.mkdir()
    old_bin, new_bin = build_release(old, "1.0.0"), build_release(new, "1.1.0")
    beam.start_release(old_bin, "shop_a", COOKIE)
    beam.start_release(new_bin, "shop_b", COOKIE)
    # Join them the way an operator would, through the release's own rpc command.
    env = dict(beam.env, RELEASE_DISTRIBUTION="name", RELEASE_NODE=f"shop_b@{LOOPBACK}", RELEASE_COOKIE=COOKIE)
    joined = subprocess.run([str(new_bin), "rpc", f"IO.puts(Node.connect(:'shop_a@{LOOPBACK}'))"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert joined.stdout.strip() == "true", joined.stdout + joined.stderr

    opts = DoctorOptions(cookie=COOKIE, seeds=parse_hosts(f"shop_a@{LOOPBACK},shop_b@{LOOPBACK}", None, None),
                         epmd_port=beam.epmd_port)
    view, findings = run_doctor(opts)
    assert view.partitions() == [[f"shop_a@{LOOPBACK}", f"shop_b@{LOOPBACK}"]]
    apps = {n.name: n.facts.applications for n in view.members()}
    assert apps[f"shop_a@{LOOPBACK}"]["shop"] == "1.0.0" and apps[f"shop_b@{LOOPBACK}"]["shop"] == "1.1.0"
    assert apps[f"shop_a@{LOOPBACK}"]["elixir"] == apps[f"shop_b@{LOOPBACK}"]["elixir"]
    (skew,) = [f for f in findings if f.rule_id == "CLU160"]
    assert skew.key == "shop" and "rolling deploy" in skew.message

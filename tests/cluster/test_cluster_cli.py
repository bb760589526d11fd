"""`phoenix-ops cluster` end to end, as a user runs it, against real nodes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from beam_nodes import LOOPBACK, NodeSpec
from conftest import COOKIE

from phoenix_ops.catalog import catalog


def cli(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "phoenix_ops.cli", "cluster", *args], capture_output=True,
                          text=True, timeout=timeout, env=env or dict(os.environ))


@pytest.mark.slow
def test_text_json_picture_and_exit_codes(zoo, cookie_file, tmp_path):
    common = ["--hosts", LOOPBACK, "--epmd-port", str(zoo.beam.epmd_port), "--cookie-file", str(cookie_file),
              "--timeout", "1"]
    text = cli(*common, "--picture", str(tmp_path / "c.svg"))
    assert text.returncode == 1, text.stderr
    assert text.stdout.splitlines()[0].split()[:2] == ["node", "state"]
    a, b = (", ".join(f"{n}@{LOOPBACK}" for n in group) for group in (("a1", "a2", "a3"), ("b1", "b2")))
    assert f"partitions (2): {{{a}}} | {{{b}}}" in text.stdout
    assert "CLU153 [cookie-mismatch]" in text.stdout
    assert any(line.startswith("CLU: ") and line.endswith(" not applicable") for line in text.stdout.splitlines())
    assert text.stderr == ""  # no progress output when stderr is not a terminal
    ET.parse(tmp_path / "c.svg")

    doc = json.loads(cli(*common, "--format", "json").stdout)
    assert doc["tool"]["command"] == "cluster"
    assert len(doc["cluster"]["partitions"]) == 2
    assert {f["rule_id"] for f in doc["findings"]} >= {"CLU150", "CLU152", "CLU153", "CLU155", "CLU158", "CLU160"}
    cookie_finding = next(f for f in doc["findings"] if f["rule_id"] == "CLU153")
    assert cookie_finding["location"] == {"node": f"odd@{LOOPBACK}"}
    checks = {r["id"]: r for r in doc["checklist"]["CLU"]["rules"]}
    assert set(checks) == catalog("cluster").ids() and checks["CLU150"]["status"] == "failed"
    assert checks["CLU165"] == {"id": "CLU165", "name": "fewer-nodes-than-expected", "status": "not applicable",
                                "reason": "no --expect N given"}
    assert checks["CLU166"]["status"] == "passed"  # every host's EPMD answered

    sarif = json.loads(cli(*common, "--format", "sarif").stdout)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {f["rule_id"] for f in doc["findings"]}
    for r in results:  # live findings name a node or an EPMD URL, never a file
        assert "physicalLocation" not in r["locations"][0] and r["locations"][0]["logicalLocations"][0]["name"]

    for out in (text.stdout, json.dumps(doc), json.dumps(sarif)):
        assert COOKIE not in out


@pytest.mark.slow
def test_progress_goes_to_a_terminal_only(zoo, capsys):
    from phoenix_ops.cluster.command import run_doctor
    from phoenix_ops.cluster.discovery import parse_hosts
    from phoenix_ops.cluster.doctor import DoctorOptions
    from phoenix_ops.command import Progress

    opts = DoctorOptions(cookie=COOKIE, seeds=parse_hosts(LOOPBACK, "a1", None), epmd_port=zoo.beam.epmd_port)
    with Progress("looking for nodes", color=False) as progress:
        run_doctor(opts, progress)
    err = capsys.readouterr().err
    assert "asking EPMD: 0/1" in err and "checking nodes: 0/1" in err and "checking nodes: 1/1" in err
    assert err.endswith("\r\x1b[K")  # the line is wiped before the report


@pytest.mark.slow
def test_healthy_cluster_exits_zero_and_reads_release_cookie(beam, tmp_path):
    beam.start(NodeSpec("w1", COOKIE), NodeSpec("w2", COOKIE, peers=["w1"]))
    env = dict(os.environ, RELEASE_COOKIE=COOKIE, HOME=str(tmp_path))
    done = cli("--hosts", LOOPBACK, "--epmd-port", str(beam.epmd_port), "--expect", "2", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 connected members" in done.stdout and "no findings" in done.stdout
    assert COOKIE not in done.stdout + done.stderr


@pytest.mark.slow
def test_hosts_carry_their_epmd_port(beam, tmp_path):
    beam.start(NodeSpec("p1", COOKIE))
    env = dict(os.environ, RELEASE_COOKIE=COOKIE, HOME=str(tmp_path))
    done = cli("--hosts", f"{LOOPBACK}:{beam.epmd_port}", "--expect", "1", "--format", "json", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    (host,) = json.loads(done.stdout)["cluster"]["hosts"]
    assert host["port"] == beam.epmd_port and f"{LOOPBACK}:{beam.epmd_port}:4369" not in done.stdout


@pytest.mark.slow
def test_home_cookie_and_fail_level(beam, tmp_path):
    beam.start(NodeSpec("solo", COOKIE))
    (tmp_path / ".erlang.cookie").write_text(COOKIE)
    env = {k: v for k, v in os.environ.items() if k != "RELEASE_COOKIE"} | {"HOME": str(tmp_path)}
    args = ["--hosts", LOOPBACK, "--epmd-port", str(beam.epmd_port), "--expect", "2"]
    assert cli(*args, env=env).returncode == 1
    assert cli(*args, "--fail-level", "error", "--quiet", env=env).returncode == 1
    args[-1] = "1"
    quiet = cli(*args, "--quiet", env=env)
    assert quiet.returncode == 0 and quiet.stdout == ""


@pytest.mark.parametrize("args, words", [
    ([], "--hosts, --dns, --srv, or --project"),
    (["--hosts", LOOPBACK, "--cookie-file", "/nonexistent/cookie"], "cannot read the cookie file"),
    (["--hosts", LOOPBACK, "--format", "yaml"], "unknown format"),
    (["--hosts", LOOPBACK, "--tls-cert", "/x.pem"], "--tls-cert and --tls-key go together"),
    (["--hosts", LOOPBACK, "--fail-level", "fatal"], "unknown severity"),
])
def test_usage_errors_exit_two_with_one_line(args, words, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), RELEASE_COOKIE="x")
    done = cli(*args, env=env)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_no_cookie_anywhere_is_a_usage_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "RELEASE_COOKIE"} | {"HOME": str(tmp_path)}
    done = cli("--hosts", LOOPBACK, env=env)
    assert done.returncode == 2 and "no cookie" in done.stderr


MIX_EXS = '''defmodule Shop.MixProject do
  use Mix.Project
  def project, do: [app: :shop, version: "0.1.0", deps: deps()]
  defp deps, do: [{:phoenix, "~> 1.7"}, {:libcluster, "~> 3.3"}]
end
'''
RUNTIME_EXS = '''import Config

config :libcluster,
  topologies: [
    internal: [
      strategy: Cluster.Strategy.DNSPoll,
      config: [query: System.get_env("CLUSTER_QUERY", "wrong.internal"), node_basename: "shop"]
    ],
    k8s: [strategy: Cluster.Strategy.Kubernetes, config: [kubernetes_selector: "app=shop"]]
  ]
'''


@pytest.mark.slow
def test_discovery_from_the_projects_libcluster_config(beam, cookie_file, tmp_path):
    from dns_server import DnsServer

    project = tmp_path / "shop"
    (project / "config").mkdir(parents=True)
    (project / "mix.exs").write_text(MIX_EXS)
    (project / "config" / "config.exs").write_text("import Config\n")
    (project / "config" / "runtime.exs").write_text(RUNTIME_EXS)
    beam.start(NodeSpec("shop", COOKIE), NodeSpec("worker", COOKIE))
    dns = DnsServer({("shop.internal", "A"): [LOOPBACK]})
    try:
        env = dict(os.environ, CLUSTER_QUERY="shop.internal")  # the query is read at run time, as the app does
        done = cli("--project", str(project), "--nameserver", dns.nameserver, "--epmd-port", str(beam.epmd_port),
                   "--cookie-file", str(cookie_file), "--format", "json", env=env)
    finally:
        dns.close()
    doc = json.loads(done.stdout)
    assert [n["name"] for n in doc["cluster"]["nodes"]] == [f"shop@{LOOPBACK}"]  # node_basename keeps `worker` out
    assert done.returncode == 0 and "libcluster:k8s: kubernetes_api discovery cannot be repeated" in done.stderr


@pytest.mark.slow
def test_a_cookie_no_node_accepts_is_called_the_wrong_one(beam, tmp_path):
    beam.start(NodeSpec("k1", COOKIE), NodeSpec("k2", COOKIE, peers=["k1"]))
    wrong = tmp_path / "wrong.cookie"
    wrong.write_text("not-the-cluster-cookie")
    done = cli("--hosts", LOOPBACK, "--epmd-port", str(beam.epmd_port), "--cookie-file", str(wrong))
    assert done.returncode == 1
    # (the long temp path itself may be shortened by the shared secret redaction)
    assert done.stdout.count("no node accepted the cookie from ") == 2
    assert done.stdout.count(".cookie, so that one is probably wrong") == 2
    assert "not-the-cluster-cookie" not in done.stdout

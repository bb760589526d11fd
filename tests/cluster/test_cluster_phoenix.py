"""The doctor on real Phoenix releases (tests/phoenix_app): clustered by libcluster's Epmd strategy
or by dns_cluster against a loopback DNS server, split apart and joined again, one node without
discovery; PubSub reach, Presence replicas and counts, and secret_key_base compared by digest."""

from __future__ import annotations

import json
import time

import pytest
from dns_server import DnsServer
from phoenix_fixture import PhoenixLab
from test_cluster_cli import cli

from phoenix_ops.catalog import catalog
from phoenix_ops.cluster.command import run_doctor
from phoenix_ops.cluster.discovery import parse_hosts
from phoenix_ops.cluster.doctor import DoctorOptions
from phoenix_ops.rule import standings

pytestmark = pytest.mark.slow
SECRET = "s" * 64
PRESENCE_RULES = {"CLU172", "CLU173", "CLU174"}
CONVERGE = 45.0  # idle trackers announce themselves every 15 s; joins and diffs travel faster


def node(name: str) -> str:
    return f"{name}@127.0.0.1"


def doctor(lab: PhoenixLab):
    opts = DoctorOptions(cookie=lab.cookie, seeds=parse_hosts("127.0.0.1", None, None), epmd_port=lab.epmd_port,
                         timeout=5.0)
    view, findings = run_doctor(opts)
    rules: dict[str, list] = {}
    for f in findings:
        rules.setdefault(f.rule_id, []).append(f)
    return view, rules


def settle(lab: PhoenixLab, done, timeout: float = CONVERGE):
    """Sweep until `done(view, rules)` holds (trackers and discovery converge), or fail with the last."""
    deadline = time.monotonic() + timeout
    while True:
        view, rules = doctor(lab)
        if done(view, rules):
            return view, rules
        if time.monotonic() > deadline:
            pytest.fail(f"did not settle in {timeout:g} s: {sorted(rules)} "
                        + "; ".join(f.message for fs in rules.values() for f in fs))
        time.sleep(1.0)


def track(release, topic: str, *users: str) -> None:
    """Presences held by processes on the node, as channel joins would hold them."""
    names = " ".join(users)
    release.rpc(f'for u <- ~w({names}), do: spawn(fn -> PhxFixtureWeb.Presence.track(self(), "{topic}", u, %{{}}); '
                "Process.sleep(:infinity) end)")


def online(view, name: str) -> dict[str, int]:
    (member,) = [n for n in view.members() if n.name == name]
    return member.facts.phoenix.trackers["PhxFixtureWeb.Presence_shard0"].online(name)


@pytest.fixture(scope="module")
def libcluster_trio(tmp_path_factory, phoenix_build):
    """a, b, c clustered by libcluster (Epmd strategy), one secret, presences on two of them."""
    lab = PhoenixLab(tmp_path_factory.mktemp("trio"), phoenix_build)
    try:
        hosts = ",".join(node(n) for n in "abc")
        for name in "abc":
            lab.start(name=name, env={"CLUSTER_HOSTS": hosts}, secret_key_base=SECRET)
        a, b, _ = lab.nodes
        track(a, "room:lobby", "ada", "alan")
        track(b, "room:lobby", "grace")
        track(b, "room:other", "edsger")
        view, rules = settle(lab, lambda v, r: not (PRESENCE_RULES & set(r)) and len(v.partitions()) == 1
                             and online(v, node("c")).get("room:lobby") == 3)
        yield lab, view, rules
    finally:
        lab.close()


def test_libcluster_trio_passes_every_check(libcluster_trio):
    _, view, rules = libcluster_trio
    assert view.partitions() == [[node("a"), node("b"), node("c")]]
    assert not [f for fs in rules.values() for f in fs if f.severity.label in ("error", "warning")], rules
    for member in view.members():
        phoenix = member.facts.phoenix
        assert phoenix.pubsub["PhxFixture.PubSub.Adapter"] == [node("a"), node("b"), node("c")]
        shard = phoenix.trackers["PhxFixtureWeb.Presence_shard0"]
        assert set(shard.replicas) == {node(n) for n in "abc"} - {member.name}
        assert set(shard.replicas.values()) == {"up"}
        assert online(view, member.name) == {"room:lobby": 3, "room:other": 1}
        assert list(phoenix.secret_digests) == ["phx_fixture PhxFixtureWeb.Endpoint"]
    judged = standings(catalog("cluster"), [view])  # PubSub, Presence and the endpoint: each judged, and passed
    assert not {"CLU172", "CLU173", "CLU174", "CLU175"} & {*judged["not_applicable"], *judged["not_determined"]}


def test_secret_digest_never_reaches_the_report(libcluster_trio):
    _, view, _ = libcluster_trio
    report = str(view.to_dict())
    assert SECRET not in report and "secret_digests" not in report
    assert "phx_fixture PhxFixtureWeb.Endpoint" in report  # which endpoints were compared


def test_nodes_started_apart_then_joined(phoenix):
    """A real partition: two nodes without discovery, each with its own presences, then joined."""
    p1 = phoenix.start(name="p1", secret_key_base=SECRET)
    p2 = phoenix.start(name="p2", secret_key_base=SECRET)
    track(p1, "room:lobby", "ada", "alan")
    track(p2, "room:lobby", "grace")
    view, rules = doctor(phoenix)
    assert len(rules["CLU150"]) == 1  # the split itself
    reach = {f.location.node: f.message for f in rules["CLU172"]}
    assert set(reach) == {node("p1"), node("p2")}
    assert "reaches 1 of the 2 nodes" in reach[node("p1")] and f"{node('p2')} (not connected)" in reach[node("p1")]
    unknown = [f for f in rules["CLU173"] if "does not replicate" in f.message]
    assert {f.location.node for f in unknown} == {node("p1"), node("p2")}
    (counts,) = rules["CLU174"]
    assert f"2 on {node('p1')}, 1 on {node('p2')}" in counts.message and "'room:lobby'" in counts.message
    assert "CLU175" not in rules  # one secret
    p1.rpc(f'true = Node.connect(:"{node("p2")}")')
    view, rules = settle(phoenix, lambda v, r: not (PRESENCE_RULES | {"CLU150"}) & set(r)
                         and online(v, node("p2")).get("room:lobby") == 3)
    assert online(view, node("p1")) == online(view, node("p2")) == {"room:lobby": 3}


@pytest.fixture
def dns():
    """Requested before `phoenix`, so it stops after the nodes that keep asking it."""
    server = DnsServer({("phx.test", "A"): ["127.0.0.1"]})
    yield server
    server.close()


def test_dns_cluster_pair_and_a_node_without_discovery(dns, phoenix, tmp_path):
    """d1 and d2 find each other through dns_cluster; d3 was deployed without discovery and with
    another secret_key_base."""
    query = {"DNS_CLUSTER_QUERY": "d1@phx.test,d2@phx.test", "DNS_NAMESERVER": dns.nameserver}
    phoenix.start(name="d1", env=query, secret_key_base=SECRET)
    phoenix.start(name="d2", env=query, secret_key_base=SECRET)
    phoenix.start(name="d3", secret_key_base="t" * 64)
    view, rules = settle(phoenix, lambda v, r: [node("d1"), node("d2")] in v.partitions())
    assert ("phx.test", "A") in dns.queries
    assert view.partitions() == [[node("d1"), node("d2")], [node("d3")]]
    reach = {f.location.node for f in rules["CLU172"]}
    assert reach == {node("d1"), node("d2"), node("d3")}
    (secret,) = rules["CLU175"]
    assert secret.message == ("PhxFixtureWeb.Endpoint (phx_fixture) runs with 2 different secret_key_base values: "
                              f"{{{node('d1')}, {node('d2')}}} | {{{node('d3')}}}")
    assert SECRET not in secret.message
    cookie = tmp_path / "cookie"
    cookie.write_text(phoenix.cookie)
    common = ["--hosts", "127.0.0.1", "--epmd-port", str(phoenix.epmd_port), "--cookie-file", str(cookie)]
    done = cli(*common, "--format", "json")
    assert done.returncode == 1, done.stderr
    assert cli(*common, "--format", "html", "-o", str(tmp_path / "cluster.html")).returncode == 1
    doc = json.loads(done.stdout)
    assert {"CLU150", "CLU172", "CLU175"} <= {f["rule_id"] for f in doc["findings"]}
    d3 = next(n for n in doc["cluster"]["nodes"] if n["name"] == node("d3"))
    assert d3["facts"]["phoenix"]["endpoints"] == ["phx_fixture PhxFixtureWeb.Endpoint"]
    assert "secret_digests" not in done.stdout and "CLU175" in (tmp_path / "cluster.html").read_text()

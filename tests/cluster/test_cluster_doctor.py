"""The whole sweep against real nodes: partitions, cookies, skew, impostors, stopped nodes, EPMD trouble."""

from __future__ import annotations

import time

import pytest
from beam_nodes import LOOPBACK, NodeSpec, free_port
from conftest import COOKIE
from impostors import Impostor

from phoenix_ops.cluster.command import run_doctor
from phoenix_ops.cluster.discovery import parse_hosts
from phoenix_ops.cluster.doctor import DoctorOptions
from phoenix_ops.cluster.facts import CALLS, LATE_CALLS

pytestmark = pytest.mark.slow


def sweep(epmd_port: int, hosts: str = LOOPBACK, **kw):
    opts = DoctorOptions(cookie=COOKIE, seeds=parse_hosts(hosts, kw.pop("basename", None), kw.pop("dist_port", None)),
                         epmd_port=epmd_port, **kw)
    return run_doctor(opts)


def by_rule(findings) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append(f)
    return out


def node(n: str) -> str:
    return f"{n}@{LOOPBACK}"


@pytest.fixture(scope="module")
def zoo_sweep(zoo):
    started = time.monotonic()
    view, findings = sweep(zoo.beam.epmd_port, timeout=2.0, expect=8)
    return view, by_rule(findings), time.monotonic() - started


def test_split_cluster_is_reported_with_each_partition(zoo_sweep):
    view, rules, _ = zoo_sweep
    assert view.partitions() == [[node("a1"), node("a2"), node("a3")], [node("b1"), node("b2")]]
    (split,) = rules["CLU150"]
    assert "2 partitions" in split.message and "{b1@127.0.0.1, b2@127.0.0.1}" in split.message
    assert "CLU151" not in rules  # real connections are symmetric
    shell = next(n for n in view.nodes if n.name == node("shell"))
    assert shell.reached and shell.hidden and node("shell") in next(
        n.facts.hidden for n in view.members() if n.name == node("a1"))


def test_cookie_mismatch_names_the_node_and_never_the_cookie(zoo_sweep):
    _, rules, _ = zoo_sweep
    (f,) = rules["CLU153"]
    assert f.location.node == node("odd")
    assert COOKIE not in f.message + f.hint


def test_epmd_entry_without_a_listener_is_unreachable(zoo_sweep):
    _, rules, _ = zoo_sweep
    (f,) = rules["CLU152"]
    assert f.location.node == node("ghost") and "refused" in f.message.lower()


def test_impostors_are_told_apart(zoo_sweep, zoo):
    _, rules, elapsed = zoo_sweep
    not_erlang = {f.location.node: f.message for f in rules["CLU155"]}
    assert set(not_erlang) == {node("junk"), node("web")}
    assert "HTTP/1.1 400" in not_erlang[node("web")]
    (stalled,) = rules["CLU158"]
    assert stalled.location.node == node("stall") and "waiting for the challenge" in stalled.message
    assert elapsed < 2.0 + 1.5  # the stalled peer costs one timeout, in parallel with the rest


def test_version_and_tick_skew_across_live_nodes(zoo_sweep):
    view, rules, _ = zoo_sweep
    (apps,) = [f for f in rules["CLU160"] if f.key == "demo"]
    assert "1.0.0 on a1@127.0.0.1" in apps.message and "1.1.0 on a2@127.0.0.1" in apps.message
    assert "rolling deploy" in apps.message
    (tick,) = rules["CLU164"]
    assert tick.location.node == node("a3") and "90 on a3@127.0.0.1" in tick.message
    facts = {n.name: n.facts for n in view.members()}
    assert facts[node("a1")].otp_release == facts[node("b1")].otp_release
    assert "CLU159" not in rules  # every node runs the same Debian OTP


def test_facts_are_real_numbers(zoo_sweep):
    view, rules, _ = zoo_sweep
    a1 = next(n for n in view.members() if n.name == node("a1"))
    f = a1.facts
    assert f.visible == [node("a2"), node("a3")]
    assert 0 < f.process_count < f.process_limit and 0 < f.atom_count < f.atom_limit
    assert f.schedulers >= 1 and f.memory["total"] > f.memory["processes"] > 0
    assert f.uptime_seconds > 0 and f.net_ticktime == 60
    assert f.applications["kernel"] and f.applications["demo"] == "1.0.0"
    assert not f.failed and "CLU169" not in rules


def test_expect_counts_members_only(zoo_sweep):
    _, rules, _ = zoo_sweep
    (f,) = rules["CLU165"]
    assert f.message.startswith("5 of 8 expected nodes answered")


def test_stopped_node_is_missing_from_epmd_and_from_the_count(beam):
    beam.start(NodeSpec("n1", COOKIE), NodeSpec("n2", COOKIE, peers=["n1"]))
    beam.stop_node("n2")
    deadline = time.monotonic() + 10
    while "n2" in beam.registered() and time.monotonic() < deadline:
        time.sleep(0.05)
    view, findings = sweep(beam.epmd_port, f"n1@{LOOPBACK},n2@{LOOPBACK}", expect=2)
    rules = by_rule(findings)
    (gone,) = rules["CLU152"]
    assert gone.location.node == node("n2") and "not registered in EPMD" in gone.message
    assert rules["CLU165"][0].message.startswith("1 of 2")


def test_node_without_epmd_by_basename_and_port(beam):
    dist_port = free_port()
    beam.start(NodeSpec("fixed", COOKIE, ["-kernel", "inet_dist_listen_min", str(dist_port),
                                          "-kernel", "inet_dist_listen_max", str(dist_port)]))
    unused_epmd = free_port()  # proves EPMD is not asked
    view, findings = sweep(unused_epmd, LOOPBACK, basename="fixed", dist_port=dist_port)
    assert [n.name for n in view.members()] == [node("fixed")]
    assert view.hosts == [] and findings == []


def test_empty_garbage_and_missing_epmd(beam):
    garbage = Impostor(b"\x00\x00\x11\x11this is not epmd\n")
    try:
        for port, rule, words in ((beam.epmd_port, "CLU167", "lists no nodes"),
                                  (garbage.port, "CLU166", 'not EPMD: it answered "this is not epmd"'),
                                  (free_port(), "CLU166", "unreachable")):
            started = time.monotonic()
            view, findings = sweep(port, timeout=1.0)
            (f,) = findings
            assert f.rule_id == rule and words in f.message and "b'" not in f.message
            assert f.location.url == f"epmd://{LOOPBACK}:{port}"
            assert time.monotonic() - started < 2.5
    finally:
        garbage.close()


def test_limits_and_run_queue_of_a_busy_node(beam):
    busy = (
        "[spawn(fun() -> receive stop -> ok end end) || _ <- lists:seq(1, 900)], "
        "[list_to_atom(\"filler_\" ++ integer_to_list(I)) || I <- lists:seq(1, 1500)], "
        "[spawn(fun() -> Spin = fun(F) -> F(F) end, Spin(Spin) end) || _ <- lists:seq(1, 6)],"
    )
    limits = ["+P", "1024", "+t", "12000", "+S", "1:1"]
    beam.start(NodeSpec("busy", COOKIE, limits, eval=busy), NodeSpec("calm", COOKIE))
    view, findings = sweep(beam.epmd_port, timeout=3.0)
    rules = by_rule(findings)
    assert [f.location.node for f in rules["CLU161"]] == [node("busy")]
    assert [f.location.node for f in rules["CLU162"]] == [node("busy")]
    assert [f.location.node for f in rules["CLU163"]] == [node("busy")]
    busy_facts = next(n.facts for n in view.members() if n.name == node("busy"))
    assert busy_facts.process_limit == 1024 and busy_facts.atom_limit == 12000 and busy_facts.schedulers == 1


def test_partial_mesh_of_real_nodes_without_connect_all(beam):
    chain = ["-connect_all", "false"]
    beam.start(NodeSpec("m1", COOKIE, chain), NodeSpec("m2", COOKIE, chain, peers=["m1"]),
               NodeSpec("m3", COOKIE, chain, peers=["m2"]))
    view, findings = sweep(beam.epmd_port)
    assert view.partitions() == [[node("m1"), node("m2"), node("m3")]]
    (f,) = by_rule(findings)["CLU171"]
    assert f.message == f"1 of 3 links missing between 3 nodes: {node('m1')} - {node('m3')}"


def test_ipv6_nodes_as_on_a_private_ipv6_network(beam):
    beam.start(NodeSpec("six", COOKIE, host="::1"))
    view, findings = sweep(beam.epmd_port, "::1")
    assert [n.name for n in view.members()] == ["six@::1"] and findings == []
    assert view.members()[0].facts.hidden[0].endswith("@::1")  # our own name speaks IPv6 too


def test_node_without_rex_answers_the_handshake_but_not_the_calls(beam):
    beam.start(NodeSpec("mute", COOKIE, eval="ok = supervisor:terminate_child(kernel_sup, rex),"))
    started = time.monotonic()
    view, findings = sweep(beam.epmd_port, timeout=1.0)
    assert time.monotonic() - started < 4.0  # one call timeout per wave, the calls run concurrently
    (f,) = by_rule(findings)["CLU169"]
    assert f.location.node == node("mute") and "did not answer within 1s" in f.message
    (mute,) = view.nodes
    assert mute.reached and mute.facts.visible is None and set(mute.facts.failed) == set(CALLS) | set(LATE_CALLS)


def test_node_whose_allow_list_excludes_the_doctor_refuses_the_handshake(beam):
    """net_kernel:allow/1, called at boot, admits only the named peers: the doctor is told not_allowed."""
    beam.start(NodeSpec("guarded", COOKIE, eval=f"net_kernel:allow(['friend@{LOOPBACK}']),"), NodeSpec("open", COOKIE))
    view, findings = sweep(beam.epmd_port, timeout=2.0)
    (refused,) = by_rule(findings)["CLU154"]
    assert refused.location.node == node("guarded") and "refused us" in refused.message
    assert [n.name for n in view.members()] == [node("open")]

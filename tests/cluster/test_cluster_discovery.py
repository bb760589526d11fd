"""Discovery from --hosts, DNS A/AAAA and SRV, against a DNS server on loopback."""

from __future__ import annotations

import asyncio
import time

import pytest
from beam_nodes import LOOPBACK, NodeSpec
from conftest import COOKIE
from dns_server import DnsServer

from phoenix_ops.cluster.command import run_doctor
from phoenix_ops.cluster.discovery import (
    Seed,
    from_dns,
    from_srv,
    make_resolver,
    parse_hosts,
)
from phoenix_ops.cluster.doctor import DoctorOptions

RECORDS = {
    ("app.internal", "A"): ["127.0.0.1", "127.0.0.2"],
    ("app.internal", "AAAA"): ["::1"],
    ("v4only.internal", "A"): ["127.0.0.1"],
    ("_epmd._tcp.app.svc", "SRV"): ["0 50 4369 app-0.app.svc.", "0 50 4369 app-1.app.svc."],
    ("app-0.app.svc", "A"): ["127.0.0.1"],
    ("app-1.app.svc", "A"): ["127.0.0.3"],
    ("_broken._tcp.app.svc", "SRV"): ["0 50 4369 gone.app.svc."],
    ("noaddress.internal", "TXT"): ['"a name without addresses"'],
}


@pytest.fixture
def dns():
    server = DnsServer(RECORDS, silent={"silent.internal"})
    yield server
    server.close()


def lookup(coro_fn, dns, query, basename=None, port=None, timeout=2.0):
    return asyncio.run(coro_fn(make_resolver(dns.nameserver, timeout), query, basename, port))


def test_parse_hosts_plain_named_and_ipv6():
    assert parse_hosts("10.0.0.1, app@10.0.0.2,[::1]", "web", 9100) == [
        Seed("10.0.0.1", "10.0.0.1", "hosts", "web", 9100),
        Seed("10.0.0.2", "10.0.0.2", "hosts", "app", 9100),
        Seed("::1", "::1", "hosts", "web", 9100),
    ]


def test_a_and_aaaa_records_are_both_nodes(dns):
    seeds, problems = lookup(from_dns, dns, "app.internal", "app")
    assert problems == []
    assert [(s.address, s.node_name) for s in seeds] == [
        ("127.0.0.1", "app@127.0.0.1"), ("127.0.0.2", "app@127.0.0.2"), ("::1", "app@::1")]


def test_srv_targets_name_the_nodes(dns):
    seeds, problems = lookup(from_srv, dns, "_epmd._tcp.app.svc", "app")
    assert problems == []
    assert [(s.address, s.node_name) for s in seeds] == [
        ("127.0.0.1", "app@app-0.app.svc"), ("127.0.0.3", "app@app-1.app.svc")]


@pytest.mark.parametrize("fn, query, words", [
    (from_dns, "nowhere.internal", "does not exist"),
    (from_dns, "noaddress.internal", "no A or AAAA records"),
    (from_srv, "app.internal", "no SRV records"),
    (from_srv, "_broken._tcp.app.svc", "SRV target does not resolve"),
    (from_dns, "silent.internal", "did not answer in time"),
])
def test_bad_names_are_problems_within_the_timeout(dns, fn, query, words):
    started = time.monotonic()
    seeds, problems = lookup(fn, dns, query, timeout=1.0)
    assert seeds == [] and len(problems) == 1 and words in problems[0].detail
    assert time.monotonic() - started < 2.0  # the 1 s lifetime, with room for a loaded machine


@pytest.mark.slow
def test_doctor_finds_real_nodes_through_dns_and_srv(beam, dns):
    beam.start(NodeSpec("app", COOKIE), NodeSpec("other", COOKIE, peers=["app"]))
    opts = DoctorOptions(cookie=COOKIE, dns=["v4only.internal", "nowhere.internal"], srv=["_epmd._tcp.app.svc"],
                         basename="app", epmd_port=beam.epmd_port, nameserver=dns.nameserver, timeout=1.0)
    view, findings = run_doctor(opts)
    # DNS and SRV both lead to 127.0.0.1; --node-basename keeps only `app` there.
    assert [n.name for n in view.members()] == [f"app@{LOOPBACK}"]
    rules = sorted((f.rule_id, str(f.location)) for f in findings)
    assert ("CLU168", "dns:nowhere.internal") in rules
    assert ("CLU166", "epmd://127.0.0.3:%d" % beam.epmd_port) in rules  # app-1 has no EPMD
    assert ("CLU170", f"other@{LOOPBACK}") in rules  # connected to app, but not what discovery asked for


@pytest.mark.slow
def test_fly_style_aaaa_discovery_of_ipv6_nodes(beam):
    beam.start(NodeSpec("shop", COOKIE, host="::1"))
    server = DnsServer({("shop.internal", "AAAA"): ["::1"]})
    try:
        opts = DoctorOptions(cookie=COOKIE, dns=["shop.internal"], basename="shop", epmd_port=beam.epmd_port,
                             nameserver=server.nameserver, timeout=1.0, expect=1)
        view, findings = run_doctor(opts)
    finally:
        server.close()
    assert [n.name for n in view.members()] == ["shop@::1"] and findings == []

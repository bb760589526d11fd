"""A node with TLS distribution: told apart from plain nodes, inspected when given credentials."""

from __future__ import annotations

import asyncio

import pytest
import trustme
from beam_nodes import LOOPBACK, NodeSpec
from conftest import COOKIE

from phoenix_ops.cluster import dist, epmd
from phoenix_ops.cluster.command import run_doctor
from phoenix_ops.cluster.discovery import parse_hosts
from phoenix_ops.cluster.doctor import DoctorOptions, tls_context

pytestmark = pytest.mark.slow


def write_pki(root, ca: trustme.CA, name: str) -> dict[str, str]:
    leaf = ca.issue_cert(LOOPBACK, "localhost")  # trustme leaves carry serverAuth and clientAuth
    files = {"cacertfile": root / "ca.pem", "certfile": root / f"{name}.pem", "keyfile": root / f"{name}.key"}
    ca.cert_pem.write_to_path(files["cacertfile"])
    leaf.cert_chain_pems[0].write_to_path(files["certfile"])
    leaf.private_key_pem.write_to_path(files["keyfile"])
    return {k: str(v) for k, v in files.items()}


@pytest.fixture
def tls_node(beam, tmp_path):
    ca = trustme.CA()
    node_files = write_pki(tmp_path, ca, "node")
    opts = ", ".join(f'{{{k}, "{v}"}}' for k, v in node_files.items())
    side = f"[{opts}, {{verify, verify_peer}}, {{fail_if_no_peer_cert, true}}]"
    optfile = tmp_path / "ssl_dist.conf"
    optfile.write_text(f"[{{server, {side}}}, {{client, {side}}}].\n")
    beam.start(NodeSpec("secure", COOKIE, ["-proto_dist", "inet_tls", "-ssl_dist_optfile", str(optfile)]),
               NodeSpec("plain", COOKIE))
    client = write_pki(tmp_path, ca, "client")
    return beam, client


def sweep(beam, tls=None):
    opts = DoctorOptions(cookie=COOKIE, seeds=parse_hosts(LOOPBACK, None, None), epmd_port=beam.epmd_port,
                         timeout=2.0, tls=tls)
    return run_doctor(opts)


def test_tls_node_without_credentials_is_recognised(tls_node):
    beam, _ = tls_node
    view, findings = sweep(beam)
    (f,) = findings
    assert f.rule_id == "CLU156" and f.location.node == f"secure@{LOOPBACK}" and "TLS distribution" in f.message
    assert [n.name for n in view.members()] == [f"plain@{LOOPBACK}"]


def test_tls_node_with_credentials_is_inspected(tls_node):
    beam, client = tls_node
    tls = tls_context(client["cacertfile"], client["certfile"], client["keyfile"])
    view, findings = sweep(beam, tls)
    # a TLS node and a plain node cannot connect to each other: the doctor sees them apart
    assert [f.rule_id for f in findings] == ["CLU150"]
    secure = next(n for n in view.members() if n.name == f"secure@{LOOPBACK}")
    assert secure.tls and secure.facts.otp_release and "kernel" in secure.facts.applications


def test_tls_with_the_wrong_ca_fails_clearly(tls_node, tmp_path):
    beam, _ = tls_node
    stranger = write_pki(tmp_path / "..", trustme.CA(), "stranger")
    tls = tls_context(stranger["cacertfile"], stranger["certfile"], stranger["keyfile"])

    async def attempt():
        port = next(r.port for r in await epmd.names(LOOPBACK, beam.epmd_port) if r.name == "secure")
        with pytest.raises(dist.DistError) as info:
            await dist.connect(LOOPBACK, port, cookie=COOKIE, own_basename="doctor_tls", timeout=2.0, tls=tls)
        return info.value

    error = asyncio.run(attempt())
    assert error.kind == "tls_failed" and "CERTIFICATE_VERIFY_FAILED" in str(error)


def test_sweep_with_credentials_of_another_ca_reports_the_failed_tls_handshake(tls_node, tmp_path):
    beam, _ = tls_node
    stranger = write_pki(tmp_path / "..", trustme.CA(), "stranger")
    view, findings = sweep(beam, tls_context(stranger["cacertfile"], stranger["certfile"], stranger["keyfile"]))
    failed = [f for f in findings if f.rule_id == "CLU157"]
    assert [f.location.node for f in failed] == [f"secure@{LOOPBACK}"]
    assert "CERTIFICATE_VERIFY_FAILED" in failed[0].message and COOKIE not in failed[0].message
    assert f"secure@{LOOPBACK}" not in {n.name for n in view.members()}

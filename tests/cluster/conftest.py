"""Fixtures that start real BEAM nodes (and a few impostors) on loopback; all stopped at teardown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from beam_nodes import Beam, EpmdRegistration, NodeSpec, free_port
from impostors import HTTP_ANSWER, STATUS_OK, Impostor

COOKIE = "zoo-cookie-3f9a1c7e52b4d8a6e0f1"


@pytest.fixture
def beam(tmp_path):
    b = Beam(tmp_path)
    yield b
    b.close()


@pytest.fixture
def cookie_file(tmp_path) -> Path:
    path = tmp_path / "cookie"
    path.write_text(COOKIE + "\n")
    return path


def demo_app(root: Path, vsn: str) -> Path:
    """An OTP application with only a .app file, loadable with application:load/1."""
    ebin = root / f"demo-{vsn}" / "ebin"
    ebin.mkdir(parents=True)
    (ebin / "demo.app").write_text(
        f'{{application, demo, [{{description, "demo"}}, {{vsn, "{vsn}"}}, {{modules, []}}, '
        f"{{registered, []}}, {{applications, [kernel, stdlib]}}]}}.\n")
    return ebin


@dataclass
class Zoo:
    beam: Beam
    impostors: dict[str, int]  # name registered in EPMD -> what the port is


@pytest.fixture(scope="session")
def zoo(tmp_path_factory):
    """Two partitions (a1-a3, b1-b2), demo app skew, a tick-time outlier, a node with another cookie,
    a hidden node, and EPMD entries pointing at a closed port, a stalling peer, garbage and HTTP."""
    root = tmp_path_factory.mktemp("zoo")
    beam = Beam(root)
    servers = {"stall": Impostor(STATUS_OK, stall=60), "junk": Impostor(b"\xde\xad\xbe\xef" * 8),
               "web": Impostor(HTTP_ANSWER)}
    registrations = []
    try:
        load = "application:load(demo),"
        beam.start(
            NodeSpec("a1", COOKIE, ["-pa", str(demo_app(root, "1.0.0"))], eval=load),
            NodeSpec("a2", COOKIE, ["-pa", str(demo_app(root, "1.1.0"))], eval=load, peers=["a1"]),
            # Longer, not shorter, than the others: a shorter one drops peers that tick less often.
            NodeSpec("a3", COOKIE, ["-kernel", "net_ticktime", "90"], peers=["a1", "a2"]),
            NodeSpec("b1", COOKIE),
            NodeSpec("b2", COOKIE, peers=["b1"]),
            NodeSpec("odd", "another-cookie"),
            NodeSpec("shell", COOKIE, ["-hidden"], peers=["a1"]),  # what a remote shell looks like
        )
        ports = {name: s.port for name, s in servers.items()} | {"ghost": free_port()}  # nothing listens there
        registrations = [EpmdRegistration(beam.epmd_port, name, port) for name, port in ports.items()]
        yield Zoo(beam, ports)
    finally:
        for r in registrations:
            r.close()
        for s in servers.values():
            s.close()
        beam.close()

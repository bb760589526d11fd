"""The distribution handshake and rex calls against real nodes, and every way a handshake fails."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from beam_nodes import LOOPBACK, NodeSpec, free_port
from conftest import COOKIE
from impostors import HTTP_ANSWER, STATUS_OK, Impostor
from rogue_peer import RoguePeer

from phoenix_ops.cluster import dist, epmd
from phoenix_ops.cluster.etf import Atom

pytestmark = pytest.mark.slow


async def port_of(beam, name: str) -> int:
    return next(r.port for r in await epmd.names(LOOPBACK, beam.epmd_port) if r.name == name)


def connect(port: int, cookie: str = COOKIE, basename: str = "doctor_test", timeout: float = 2.0):
    return dist.connect(LOOPBACK, port, cookie=cookie, own_basename=basename, timeout=timeout)


def failure(port: int, **kw) -> tuple[dist.DistError, float]:
    async def attempt():
        with pytest.raises(dist.DistError) as info:
            await connect(port, **kw)
        return info.value
    started = time.monotonic()
    error = asyncio.run(attempt())
    return error, time.monotonic() - started


def test_hidden_connection_is_not_a_member_and_leaves_cleanly(beam):
    beam.start(NodeSpec("h1", COOKIE), NodeSpec("h2", COOKIE, peers=["h1"]))

    async def scenario():
        port = await port_of(beam, "h1")
        first = await connect(port, basename="doctor_one")
        second = await connect(port, basename="doctor_two")
        assert first.peer.name == f"h1@{LOOPBACK}" and not first.peer.hidden
        visible = await second.call("erlang", "nodes", [], timeout=2)
        hidden = await second.call("erlang", "nodes", [Atom("hidden")], timeout=2)
        assert visible == [Atom(f"h2@{LOOPBACK}")]
        assert {Atom(f"doctor_one@{LOOPBACK}"), Atom(f"doctor_two@{LOOPBACK}")} <= set(hidden)
        await first.close()
        deadline = time.monotonic() + 3
        while Atom(f"doctor_one@{LOOPBACK}") in await second.call("erlang", "nodes", [Atom("hidden")], timeout=2):
            assert time.monotonic() < deadline, "the node still lists the closed connection"
            await asyncio.sleep(0.05)
        await second.close()

    asyncio.run(scenario())


def test_ticks_are_answered_so_the_connection_outlives_net_ticktime(beam):
    beam.start(NodeSpec("ticker", COOKIE, ["-kernel", "net_ticktime", "4"]))

    async def scenario():
        conn = await connect(await port_of(beam, "ticker"))
        await asyncio.sleep(6.5)  # past net_ticktime: without tick answers the node drops us at ~4-5 s
        assert await conn.call("net_kernel", "get_net_ticktime", [], timeout=2) == 4
        await conn.close()

    asyncio.run(scenario())


def test_remote_errors_are_reported_not_raised_as_crashes(beam):
    beam.start(NodeSpec("r1", COOKIE))

    async def scenario():
        conn = await connect(await port_of(beam, "r1"))
        with pytest.raises(dist.RemoteError, match="no_such_module"):
            await conn.call("no_such_module", "f", [], timeout=2)
        assert await conn.call("erlang", "abs", [-3], timeout=2) == 3  # the connection is still fine
        await conn.close()

    asyncio.run(scenario())


def test_cookie_mismatch(beam):
    beam.start(NodeSpec("c1", "a-different-cookie"))
    error, _ = failure(asyncio.run(port_of(beam, "c1")))
    assert error.kind == "cookie"


def test_refused_by_allow_list(beam):
    beam.start(NodeSpec("strict", COOKIE, eval=f"net_kernel:allow(['friend@{LOOPBACK}']),"))
    error, _ = failure(asyncio.run(port_of(beam, "strict")))
    assert error.kind == "refused" and "not_allowed" in str(error)


def test_second_connection_under_the_same_name_is_alive(beam):
    beam.start(NodeSpec("al", COOKIE))

    async def scenario():
        port = await port_of(beam, "al")
        first = await connect(port, basename="same_name")
        try:
            with pytest.raises(dist.DistError) as info:
                await connect(port, basename="same_name")
            assert info.value.kind == "alive"
        finally:
            await first.close()

    asyncio.run(scenario())


def test_suspended_node_stalls_within_the_timeout(beam):
    beam.start(NodeSpec("sleepy", COOKIE))
    port = asyncio.run(port_of(beam, "sleepy"))
    pid = beam.nodes["sleepy"].proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        error, elapsed = failure(port, timeout=1.0)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert error.kind == "timeout" and "waiting for the handshake status" in str(error)
    assert 0.9 < elapsed < 2.5


@pytest.mark.parametrize("answer, stall, kind, words", [
    (STATUS_OK, 30, "timeout", "waiting for the challenge"),
    (b"", 30, "timeout", "waiting for the handshake status"),
    (b"\xde\xad\xbe\xef" * 8, 0, "not_erlang", "not an Erlang distribution port"),
    (HTTP_ANSWER, 0, "not_erlang", "HTTP/1.1"),
    (b"SSH-2.0-OpenSSH_9.2\r\n", 30, "not_erlang", "SSH-2.0"),
    (b"", 0, "closed", "closed the connection"),
])
def test_impostors(answer, stall, kind, words):
    server = Impostor(answer, stall=stall)
    try:
        error, elapsed = failure(server.port, timeout=1.0)
    finally:
        server.close()
    assert error.kind == kind and words in str(error) and "b'" not in str(error)
    assert elapsed < 2.5  # one 1 s timeout at most, with room for a loaded machine


def test_nothing_listening():
    error, elapsed = failure(free_port())
    assert error.kind == "unreachable" and "Connection refused" in str(error) and elapsed < 1


def test_acknowledgement_with_another_cookie():
    rogue = RoguePeer(COOKIE, "wrong_ack")
    try:
        error, _ = failure(rogue.port)
    finally:
        rogue.close()
    assert error.kind == "cookie" and "answered our challenge with another cookie" in str(error)


def test_oversized_frame_after_the_handshake_fails_the_calls_cleanly():
    rogue = RoguePeer(COOKIE, "huge_frame")

    async def scenario():
        conn = await connect(rogue.port)
        try:
            with pytest.raises(dist.DistError) as info:
                await conn.call("erlang", "nodes", [], timeout=2)
            return info.value
        finally:
            await conn.close()
    try:
        error = asyncio.run(scenario())
    finally:
        rogue.close()
    assert error.kind == "protocol" and "a frame of 2147483648 bytes" in str(error)

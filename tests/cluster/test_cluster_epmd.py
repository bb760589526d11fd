"""The EPMD client against a real epmd, and against answers split or spoiled on the way."""

from __future__ import annotations

import asyncio

import pytest
from beam_nodes import LOOPBACK, EpmdRegistration, free_port

from phoenix_ops.cluster import epmd


async def serve_in_pieces(pieces: list[bytes]) -> tuple[asyncio.AbstractServer, int]:
    async def answer(reader, writer):
        await reader.read(3)
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.close()
    server = await asyncio.start_server(answer, LOOPBACK, 0)
    return server, server.sockets[0].getsockname()[1]


def test_names_answer_split_across_segments():
    async def scenario():
        server, port = await serve_in_pieces([b"\x00\x00\x11\x11", b"name a at port 4000\n", b"name b at port 4001\n"])
        async with server:
            return await epmd.names(LOOPBACK, port, timeout=2)
    assert asyncio.run(scenario()) == [epmd.Registration("a", 4000), epmd.Registration("b", 4001)]


@pytest.mark.parametrize("answer, kind", [([b"\x00\x00"], "garbage"), ([b"\x00\x00\x11\x11", b"hello\n"], "garbage")])
def test_spoiled_answers(answer, kind):
    async def scenario():
        server, port = await serve_in_pieces(answer)
        async with server:
            with pytest.raises(epmd.EpmdError) as info:
                await epmd.names(LOOPBACK, port, timeout=2)
            return info.value
    assert asyncio.run(scenario()).kind == kind


def test_unreachable_epmd():
    with pytest.raises(epmd.EpmdError) as info:
        asyncio.run(epmd.names(LOOPBACK, free_port(), timeout=1))
    assert info.value.kind == "unreachable"


@pytest.mark.slow
def test_real_epmd_lists_registrations_with_their_ports(beam):
    registrations = [EpmdRegistration(beam.epmd_port, name, port) for name, port in (("x", 5001), ("y_2", 5002))]
    try:
        found = asyncio.run(epmd.names(LOOPBACK, beam.epmd_port))
    finally:
        for r in registrations:
            r.close()
    assert sorted(found, key=lambda r: r.port) == [epmd.Registration("x", 5001), epmd.Registration("y_2", 5002)]

"""EPMD client: which nodes a host runs and on which distribution ports.

Requests are a u16 length then the request; EPMD answers and closes the connection.
"""

from __future__ import annotations

import asyncio
import re
import struct
from dataclasses import dataclass

from phoenix_ops.cluster.dist import Opener
from phoenix_ops.reasons import os_reason, reply

DEFAULT_PORT = 4369
NAMES_REQ = 110
_NAME_LINE = re.compile(rb"^name (\S+) at port (\d+)$")


class EpmdError(Exception):
    """EPMD could not be asked: `kind` is unreachable, timeout or garbage."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


@dataclass(frozen=True)
class Registration:
    name: str  # the part before @
    port: int


async def _ask(host: str, port: int, request: bytes, timeout: float, opener: Opener | None) -> bytes:
    """Send one request and read everything EPMD says until it closes."""
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await (opener or asyncio.open_connection)(host, port)
            try:
                writer.write(struct.pack(">H", len(request)) + request)
                await writer.drain()
                return await reader.read()  # EPMD closes after answering; the answer may span segments
            finally:
                writer.close()
    except TimeoutError:
        raise EpmdError("timeout", f"EPMD at {host}:{port} did not answer within {timeout:g}s") from None
    except OSError as exc:
        raise EpmdError("unreachable", f"EPMD at {host}:{port} is unreachable: {os_reason(exc)}") from None


async def names(host: str, port: int = DEFAULT_PORT, timeout: float = 2.0,
                opener: Opener | None = None) -> list[Registration]:
    """NAMES_REQ: every node registered on the host (hidden ones too: the handshake tells them apart).
    `opener` opens the connection instead of plain TCP (dist.Opener: a tunnel through SSH)."""
    answer = await _ask(host, port, bytes([NAMES_REQ]), timeout, opener)
    if len(answer) < 4:
        raise EpmdError("garbage", f"{host}:{port} answered {len(answer)} bytes, not an EPMD names reply")
    found = []
    for line in answer[4:].splitlines():
        m = _NAME_LINE.match(line)
        if not m:
            raise EpmdError("garbage", f"{host}:{port} is not EPMD: it answered {reply(line)}")
        found.append(Registration(m.group(1).decode("utf-8", "replace"), int(m.group(2))))
    return found


"""The Erlang distribution protocol, version 6 (OTP 23+, required by OTP 25+), as a hidden node.

Handshake frames carry a u16 length (u32 inside TLS); after the handshake every frame carries a
u32 length, and an empty frame is a tick that must be answered or the peer drops us.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import ssl
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from phoenix_ops.cluster import etf
from phoenix_ops.cluster.erlang_syntax import show
from phoenix_ops.cluster.etf import Atom, Pid, Ref
from phoenix_ops.reasons import os_reason, reply

# Capability flags (erl_dist_protocol): no PUBLISHED bit, so we stay hidden and never join.
DFLAG_PUBLISHED = 0x01
DFLAG_EXTENDED_REFERENCES = 0x04
DFLAG_FUN_TAGS = 0x10
DFLAG_NEW_FUN_TAGS = 0x80
DFLAG_EXTENDED_PIDS_PORTS = 0x100
DFLAG_EXPORT_PTR_TAG = 0x200
DFLAG_BIT_BINARIES = 0x400
DFLAG_NEW_FLOATS = 0x800
DFLAG_UTF8_ATOMS = 0x10000
DFLAG_MAP_TAG = 0x20000
DFLAG_BIG_CREATION = 0x40000
DFLAG_HANDSHAKE_23 = 0x1000000
DFLAG_UNLINK_ID = 0x2000000
DFLAG_MANDATORY_25_DIGEST = 0x4000000
DFLAG_V4_NC = 1 << 34
HIDDEN_NODE_FLAGS = (
    DFLAG_EXTENDED_REFERENCES | DFLAG_FUN_TAGS | DFLAG_NEW_FUN_TAGS | DFLAG_EXTENDED_PIDS_PORTS
    | DFLAG_EXPORT_PTR_TAG | DFLAG_BIT_BINARIES | DFLAG_NEW_FLOATS | DFLAG_UTF8_ATOMS | DFLAG_MAP_TAG
    | DFLAG_BIG_CREATION | DFLAG_HANDSHAKE_23 | DFLAG_UNLINK_ID | DFLAG_MANDATORY_25_DIGEST | DFLAG_V4_NC
)

# Opens a byte stream to (host, port): asyncio.open_connection, or a tunnel with the same reader/writer calls.
Opener = Callable[[str, int], Awaitable[tuple]]

PASS_THROUGH = ord("p")
CTRL_SEND, CTRL_REG_SEND, CTRL_SEND_SENDER = 2, 6, 22
TLS_ALERT = b"\x15\x03"  # a TLS record header: what a TLS distribution port says to a plain frame
MAX_HANDSHAKE_FRAME = 4096
MAX_FRAME = 64 << 20  # far above any reply we ask for; more is a broken or hostile peer


class DistError(Exception):
    """Why a node could not be reached or talked to.

    kind: unreachable, timeout, not_erlang, tls_required, tls_failed, refused, cookie, alive,
    protocol (an Erlang peer that broke the protocol), closed (the peer hung up, in the handshake or later).
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


class RemoteError(Exception):
    """A remote call ran but failed: {badrpc, Reason}."""


@dataclass(frozen=True)
class Peer:
    name: str
    flags: int
    creation: int
    tls: bool

    @property
    def hidden(self) -> bool:
        return not self.flags & DFLAG_PUBLISHED


def digest(cookie: str, challenge: int) -> bytes:
    return hashlib.md5(cookie.encode() + str(challenge).encode()).digest()


ACK_STEP = "waiting for the challenge acknowledgement"


class _Handshake:
    """The initiating side of one handshake; `step` says where a stalled peer stopped."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: bool) -> None:
        self.reader, self.writer, self.tls = reader, writer, tls
        self.size = ">I" if tls else ">H"
        self.step = "connecting"

    async def run(self, *, own_name: str, cookie: str, creation: int) -> Peer:
        name = own_name.encode()
        self.send(b"N" + struct.pack(">QIH", HIDDEN_NODE_FLAGS, creation, len(name)) + name)

        status = await self.receive("waiting for the handshake status")
        if status[:1] != b"s":
            raise DistError("not_erlang", f"not an Erlang distribution port: it answered {reply(status)}")
        text = status[1:].decode("latin-1")
        if text in ("nok", "not_allowed"):
            raise DistError("refused", f"the node refused the connection ({text}): our name or flags are not allowed")
        if text == "alive":
            self.send(b"sfalse")
            raise DistError("alive", "the node already has a connection from a node with our name")
        if text not in ("ok", "ok_simultaneous"):
            raise DistError("protocol", f"unknown handshake status {reply(status[1:])}")

        challenge = await self.receive("waiting for the challenge")
        if challenge[:1] == b"n":
            raise DistError("refused", "the node speaks only distribution protocol 5 (OTP 22 or older)")
        if challenge[:1] != b"N" or len(challenge) < 19:
            raise DistError("protocol", f"unexpected challenge frame: {reply(challenge)}")
        flags, their_challenge, their_creation, name_len = struct.unpack_from(">QIIH", challenge, 1)
        peer_name = challenge[19:19 + name_len].decode("utf-8", "replace")

        ours = secrets.randbits(32)
        self.send(b"r" + struct.pack(">I", ours) + digest(cookie, their_challenge))
        ack = await self.receive(ACK_STEP)
        if ack[:1] != b"a" or len(ack) != 17:
            raise DistError("protocol", f"unexpected acknowledgement frame: {reply(ack)}")
        if ack[1:] != digest(cookie, ours):
            raise DistError("cookie", "the node answered our challenge with another cookie")
        return Peer(peer_name, flags, their_creation, self.tls)

    def send(self, payload: bytes) -> None:
        self.writer.write(struct.pack(self.size, len(payload)) + payload)

    async def receive(self, step: str) -> bytes:
        self.step = step
        head = await self._exactly(struct.calcsize(self.size))
        if not self.tls and head == TLS_ALERT:
            raise DistError("tls_required", "the port speaks TLS: the node uses TLS distribution (inet_tls)")
        (length,) = struct.unpack(self.size, head)
        if length == 0 or length > MAX_HANDSHAKE_FRAME:
            more = await self._peek()
            raise DistError("not_erlang", f"not an Erlang distribution port: it answered {reply(head + more)}")
        return await self._exactly(length)

    async def _exactly(self, n: int) -> bytes:
        try:
            return await self.reader.readexactly(n)
        except asyncio.IncompleteReadError as exc:
            raise self._closed(exc.partial) from None
        except (ConnectionError, ssl.SSLError) as exc:
            raise DistError("closed", f"connection lost while {self.step}: {exc}") from None

    def _closed(self, partial: bytes) -> DistError:
        if self.step == ACK_STEP:
            return DistError("cookie", "the node closed the connection after our challenge reply: "
                                       "it has a different cookie")
        if partial:
            return DistError("not_erlang", f"not an Erlang distribution port: it answered {reply(partial)} and closed")
        return DistError("closed", f"the peer closed the connection while {self.step}")

    async def _peek(self) -> bytes:
        try:
            return await asyncio.wait_for(self.reader.read(32), 0.05)
        except (TimeoutError, OSError, ssl.SSLError):
            return b""


class Connection:
    """An established hidden-node connection: answers ticks, runs remote calls through rex."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: Peer,
                 own_name: str, creation: int) -> None:
        self.reader, self.writer, self.peer = reader, writer, peer
        self.node = Atom(own_name)
        self.creation = creation
        self.pid = Pid(self.node, 1, 0, creation)
        self._refs = itertools.count(1)
        self._pending: dict[Ref, asyncio.Future] = {}
        self._closed: DistError | None = None
        self._pump = asyncio.create_task(self._receive_loop())

    async def call(self, module: str, function: str, args: list, timeout: float) -> object:
        """rpc:call through the peer's rex server; raises RemoteError on {badrpc, _}."""
        if self._closed:
            raise self._closed
        ref = Ref(self.node, self.creation, (next(self._refs), secrets.randbits(32), secrets.randbits(32)))
        future = asyncio.get_running_loop().create_future()
        self._pending[ref] = future
        control = (CTRL_REG_SEND, self.pid, Atom(""), Atom("rex"))
        request = (Atom("call"), Atom(module), Atom(function), args, Atom("user"))
        self._send(etf.encode(control) + etf.encode((Atom("$gen_call"), (self.pid, ref), request)))
        try:
            async with asyncio.timeout(timeout):
                answer = await future
        except TimeoutError:
            raise DistError("timeout", f"{module}:{function} did not answer within {timeout:g}s") from None
        finally:
            self._pending.pop(ref, None)
        if isinstance(answer, tuple) and len(answer) == 2 and answer[0] == Atom("badrpc"):
            raise RemoteError(f"{module}:{function} failed: {show(answer[1])}")
        return answer

    def _send(self, payload: bytes) -> None:
        self.writer.write(struct.pack(">IB", len(payload) + 1, PASS_THROUGH) + payload)

    async def _receive_loop(self) -> None:
        try:
            while True:
                (length,) = struct.unpack(">I", await self.reader.readexactly(4))
                if length == 0:
                    self.writer.write(b"\0\0\0\0")  # answer the tick
                    continue
                if length > MAX_FRAME:
                    raise etf.DecodeError(f"a frame of {length} bytes")
                self._dispatch(await self.reader.readexactly(length))
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError) as exc:
            self._fail(DistError("closed", f"{self.peer.name} closed the connection ({type(exc).__name__})"))
        except etf.DecodeError as exc:
            self._fail(DistError("protocol", f"{self.peer.name} sent an undecodable message: {exc}"))

    def _dispatch(self, frame: bytes) -> None:
        if frame[:1] != bytes([PASS_THROUGH]):
            raise etf.DecodeError(f"unexpected frame type {frame[0]}")
        control, end = etf.decode_prefix(frame, 1)
        if not (isinstance(control, tuple) and control and control[0] in (CTRL_SEND, CTRL_SEND_SENDER)):
            return  # links, monitors and the like are not for us
        message = etf.decode(frame[end:])
        if isinstance(message, tuple) and len(message) == 2 and isinstance(message[0], Ref):
            future = self._pending.get(message[0])
            if future and not future.done():
                future.set_result(message[1])

    def _fail(self, error: DistError) -> None:
        self._closed = error
        for future in self._pending.values():
            if not future.done():
                future.set_exception(error)

    async def close(self) -> None:
        self._pump.cancel()
        self.writer.close()
        try:
            async with asyncio.timeout(1.0):
                await self.writer.wait_closed()
        except (TimeoutError, OSError, ssl.SSLError):
            pass  # the peer is gone or slow to close: either way we are done with it


async def connect(host: str, port: int, *, cookie: str, own_basename: str, timeout: float,
                  tls: ssl.SSLContext | None = None, opener: Opener | None = None) -> Connection:
    """Open a hidden-node connection to host:port, within `timeout` seconds for the whole handshake.
    `opener` opens the byte stream instead of a direct TCP connection (a tunnel through SSH; plain only)."""
    creation = secrets.randbits(32) or 1
    writer = hs = None
    try:
        async with asyncio.timeout(timeout):
            if opener is not None:
                reader, writer = await opener(host, port)
            else:
                reader, writer = await asyncio.open_connection(host, port, ssl=tls,
                                                               server_hostname=host if tls else None)
            own_name = f"{own_basename}@{_own_host(writer)}"
            hs = _Handshake(reader, writer, tls is not None)
            peer = await hs.run(own_name=own_name, cookie=cookie, creation=creation)
    except TimeoutError:
        await _abort(writer)
        step = hs.step if hs else "connecting"
        raise DistError("timeout", f"the peer stalled: no answer within {timeout:g}s {step}") from None
    except ssl.SSLError as exc:
        await _abort(writer)
        raise DistError("tls_failed", f"TLS handshake failed: {exc.reason or exc}") from None
    except OSError as exc:
        await _abort(writer)
        raise DistError("unreachable", f"{host}:{port}: {os_reason(exc)}") from None
    except DistError:
        await _abort(writer)
        raise
    return Connection(reader, writer, peer, own_name, creation)


def _own_host(writer: asyncio.StreamWriter) -> str:
    """Our name's host part: the address the peer sees us on (long names, as `-name` uses)."""
    return writer.get_extra_info("sockname")[0]


async def _abort(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()
        try:
            async with asyncio.timeout(0.5):
                await writer.wait_closed()
        except (TimeoutError, OSError, ssl.SSLError):
            pass

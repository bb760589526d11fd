"""The accepting side of a handshake done right, then misbehaving in ways real nodes do not."""

from __future__ import annotations

import hashlib
import socketserver
import struct

from impostors import LoopbackServer

NODE_FLAGS = 0x0000000407070F95  # the doctor's own flags plus PUBLISHED: a normal node


def _digest(cookie: str, challenge: int) -> bytes:
    return hashlib.md5(cookie.encode() + str(challenge).encode()).digest()


class _Handler(socketserver.BaseRequestHandler):
    def frame(self) -> bytes:
        (size,) = struct.unpack(">H", self._exactly(2))
        return self._exactly(size)

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.request.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def send(self, payload: bytes) -> None:
        self.request.sendall(struct.pack(">H", len(payload)) + payload)

    def handle(self) -> None:
        server = self.server
        try:
            self.frame()  # the doctor's N
            self.send(b"sok")
            name = b"rogue@127.0.0.1"
            self.send(b"N" + struct.pack(">QIIH", NODE_FLAGS, 12345, 1, len(name)) + name)
            reply = self.frame()  # r + their challenge + digest of ours
            (theirs,) = struct.unpack_from(">I", reply, 1)
            ack_cookie = server.cookie if server.behaviour != "wrong_ack" else server.cookie + "-other"
            self.send(b"a" + _digest(ack_cookie, theirs))
            if server.behaviour == "huge_frame":
                self.request.sendall(struct.pack(">I", 1 << 31))
            self.request.recv(1)  # hold the connection until the client goes
        except (ConnectionError, OSError):
            pass


class RoguePeer(LoopbackServer):
    """behaviour: wrong_ack (acknowledges with another cookie) or huge_frame (announces 2 GiB)."""

    def __init__(self, cookie: str, behaviour: str) -> None:
        self.cookie, self.behaviour = cookie, behaviour
        super().__init__(_Handler)

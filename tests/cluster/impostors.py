"""Things on a port that are not healthy Erlang nodes: a server that stalls, one that talks garbage."""

from __future__ import annotations

import socketserver
import threading
import time

from beam_nodes import LOOPBACK


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.settimeout(30)
        try:
            self.request.recv(4096)
            if self.server.answer:
                self.request.sendall(self.server.answer)
            if self.server.stall:
                time.sleep(self.server.stall)  # hold the connection open, say nothing more
        except OSError:
            pass


class LoopbackServer(socketserver.ThreadingTCPServer):
    """A threaded TCP server on a free loopback port, serving in the background until close()."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[socketserver.BaseRequestHandler]) -> None:
        super().__init__((LOOPBACK, 0), handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class Impostor(LoopbackServer):
    """Reads what the client sends, answers `answer` (if any), then stalls `stall` seconds or hangs up."""

    def __init__(self, answer: bytes = b"", stall: float = 0.0) -> None:
        self.answer, self.stall = answer, stall
        super().__init__(_Handler)


HTTP_ANSWER = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
STATUS_OK = b"\x00\x03sok"  # the first handshake answer of a real node, after which this one stalls

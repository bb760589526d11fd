"""The canary's metric gate against small local HTTP servers: the verdict rests on enough requests,
never on a freshly booted node's first, slow answer."""

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from phoenix_ops.deploy.gates import CANARY_MIN_SAMPLES, GateFailed, canary_healthy


def serve(delays):
    """A server answering 200 after delays(n) seconds for its n-th request (from 0)."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(None)
            time.sleep(delays(len(seen) - 1))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}", seen


@pytest.fixture
def servers():
    started = []

    def start(delays):
        server, url, seen = serve(delays)
        started.append(server)
        return url, seen
    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def test_a_canary_slow_only_on_its_first_request_passes(servers):
    canary, _ = servers(lambda n: 2.0 if n == 0 else 0.0)
    rest, _ = servers(lambda n: 0.0)
    figures = asyncio.run(canary_healthy(canary, [rest], "/", window=0.5))
    assert figures.startswith("canary 0/"), figures


def test_a_canary_whose_answers_outlast_the_window_is_judged_on_enough_of_them(servers):
    canary, seen = servers(lambda n: 0.3)
    rest, _ = servers(lambda n: 0.0)
    with pytest.raises(GateFailed, match=rf"canary slower than the rest: canary 0/{CANARY_MIN_SAMPLES} 5xx"):
        asyncio.run(canary_healthy(canary, [rest], "/", window=1.0))
    assert len(seen) == CANARY_MIN_SAMPLES + 1  # the uncounted first one, then enough to judge

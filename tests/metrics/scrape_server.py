"""A loopback HTTP server that answers each GET with the next of its bodies (the last one repeats):
the two scrapes of `metrics`, with the numbers a test plants. A body given as (type, text) sets the
content type; `stall=True` accepts connections and never answers."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


class ScrapeServer:
    def __init__(self, *bodies, status: int = 200, stall: bool = False):
        self.bodies = [b if isinstance(b, tuple) else (PROMETHEUS, b) for b in bodies]
        self.served, self.stop_event = 0, threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if stall:
                    owner.stop_event.wait(30)
                    return
                kind, text = owner.bodies[min(owner.served, len(owner.bodies) - 1)]
                owner.served += 1
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/metrics"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop_event.set()
        self.httpd.shutdown()
        self.httpd.server_close()

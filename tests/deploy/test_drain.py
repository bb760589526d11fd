"""The drain before a node's SIGTERM: the stop waits while the balancer still opens connections to
the node's port, and goes on as soon as none arrives."""

import socket
import subprocess
import threading
import time

from phoenix_ops.deploy.remote import QUIET_TICKS, quiet_script


def test_the_stop_waits_while_new_connections_arrive_and_not_after():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(128)
        port = server.getsockname()[1]
        held, stop = [], threading.Event()

        def accept():
            while not stop.is_set():
                try:
                    held.append(server.accept()[0])
                except OSError:
                    return

        def arrive():  # a balancer still sending: a new connection every 20 ms, kept open
            while not stop.is_set():
                held.append(socket.create_connection(("127.0.0.1", port)))
                time.sleep(0.02)

        threads = [threading.Thread(target=accept, daemon=True), threading.Thread(target=arrive, daemon=True)]
        for t in threads:
            t.start()
        try:
            started = time.monotonic()
            subprocess.run(["sh", "-c", quiet_script(port, bound=1.5)], check=True, timeout=30)
            busy = time.monotonic() - started
            stop.set()
            threads[1].join()
            time.sleep(0.1)
            started = time.monotonic()
            subprocess.run(["sh", "-c", quiet_script(port, bound=5)], check=True, timeout=30)
            quiet = time.monotonic() - started
        finally:
            stop.set()
            for conn in held:
                conn.close()
    assert busy >= 1.5, busy  # never quiet: the whole bound
    assert QUIET_TICKS * 0.05 <= quiet < 2.5, quiet  # the open connections are old ones: quiet at once

"""The drain before a node's SIGTERM: the stop waits while the balancer still opens connections to
the node's port, and goes on as soon as none arrives. Then the stop itself, bounded in seconds."""

import socket
import subprocess
import threading
import time

import pytest

from phoenix_ops.deploy.plan import Host
from phoenix_ops.deploy.remote import QUIET_TICKS, quiet_script, stop_script


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


@pytest.mark.parametrize(("program", "said", "seconds"), [
    ("exec sleep 60", "stopped", (0, 1.0)),
    ("trap '' TERM; sleep 60 & wait; sleep 60", "killed", (1.5, 3.0)),  # ignores SIGTERM, and so does its child
], ids=["stops", "ignores-term"])
def test_the_stop_kills_the_group_once_its_seconds_are_spent(tmp_path, program, said, seconds):
    """The bound is time, not a count of polls: on a loaded host a poll takes far longer than its
    sleep, and a node that ignores SIGTERM must still be killed once `stop-timeout` has passed."""
    (tmp_path / "run").mkdir()
    # Started as the deploy starts a node: in its own session, a child of nobody here (init reaps it).
    pid = subprocess.run(["sh", "-c", 'setsid sh -c "$0" >/dev/null 2>&1 & echo $!', program],
                         capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / "run" / "main.pid").write_text(f"{pid}\n")
    time.sleep(0.3)  # the trap is set
    host = Host("deploy", "127.0.0.1", 22, "127.0.0.1", 4000, str(tmp_path))
    try:
        started = time.monotonic()
        out = subprocess.run(["sh", "-c", stop_script(host, "main", 1.5)], capture_output=True, text=True,
                             timeout=30).stdout
        took = time.monotonic() - started
    finally:
        subprocess.run(["kill", "-KILL", f"-{pid}"], capture_output=True)
    assert out.strip() == said and seconds[0] <= took < seconds[1], (out, took)
    assert not (tmp_path / "run" / "main.pid").exists()
    left = subprocess.run(["ps", "-o", "stat=", "-g", pid], capture_output=True, text=True).stdout.split()
    assert all(state.startswith("Z") for state in left), left  # nothing of the group runs on

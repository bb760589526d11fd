"""The drain before a node's SIGTERM: the stop waits while the balancer still opens connections to
the node's port, and goes on as soon as none arrives. Then the stop itself, bounded in seconds."""

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from phoenix_ops.deploy.plan import Host
from phoenix_ops.deploy.remote import (
    QUIET_SECONDS,
    quiet_script,
    state_script,
    stop_script,
)


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
    assert QUIET_SECONDS <= quiet < 2.5, quiet  # the open connections are old ones: quiet at once


@pytest.mark.parametrize(("program", "said", "seconds"), [
    ("exec sleep 60", "stopped", (0, 5.0)),
    ("trap '' TERM; sleep 60 & wait; sleep 60", "killed", (1.5, 8.0)),  # ignores SIGTERM, and so does its child
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
        gone = group_gone(pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid), signal.SIGKILL)  # only when the stop left something behind
    assert out.strip() == said and seconds[0] <= took < seconds[1], (out, took)
    assert not (tmp_path / "run" / "main.pid").exists()
    assert gone, "the group still runs"


def group_gone(group: str, within: float = 5.0) -> bool:
    """Every process of the group has exited (a zombie has), allowing a loaded machine time to act on
    the SIGKILL already sent."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = subprocess.run(["ps", "-o", "stat=", "-g", group], capture_output=True, text=True).stdout.split()
        if all(state.startswith("Z") for state in left):
            return True
        time.sleep(0.1)
    return False


def test_a_node_that_exited_but_is_not_reaped_yet_is_not_reported_running(tmp_path):
    """A zombie answers `kill -0`; the state a deploy reads must still say nothing runs there."""
    (tmp_path / "run").mkdir()
    exited = subprocess.Popen(["true"])  # not waited for: a zombie until the end of the test
    alive = subprocess.Popen(["sleep", "30"])
    try:
        time.sleep(0.3)
        for color, proc in (("blue", exited), ("green", alive)):
            (tmp_path / "run" / f"{color}.pid").write_text(f"{proc.pid}\n")
            (tmp_path / "run" / f"{color}.version").write_text("0.2.0\n")
        host = Host("deploy", "127.0.0.1", 22, "127.0.0.1", 4000, str(tmp_path))
        out = subprocess.run(["sh", "-c", state_script(host)], capture_output=True, text=True, check=True).stdout
    finally:
        alive.kill()
        for proc in (exited, alive):
            proc.wait()
    assert out.split() == ["current=", "green=0.2.0"], out

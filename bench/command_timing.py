"""Run `phoenix-ops` as a user does and time it: wall time and the child's own CPU time."""

from __future__ import annotations

import resource
import subprocess
import sys
import time


def run_timed(*args: str) -> tuple[float, float, subprocess.CompletedProcess]:
    """`python -m phoenix_ops ARGS`: (wall seconds, CPU seconds of the child, the finished process)."""
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-m", "phoenix_ops", *args], capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, done

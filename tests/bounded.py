"""Run the real command line in a subprocess under limits: wall time, address space, no terminal.

Hostile input must end in an answer (exit 0, 1 or 2), never a hang, an exhausted machine or a
traceback; only a subprocess can show that, as a CI job would see it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MEMORY = 1 << 30  # address space of the run: 1 GiB holds Python, tree-sitter and a 10 MB input
# Bounds are on CPU time (a machine shared by parallel test workers stretches wall time many
# times over); the wall-clock limit only catches what waits forever, such as a read on a FIFO.
SECONDS = 120.0
CPU_SECONDS = 10.0  # what any run on hostile input may cost: a few seconds on an idle machine


@dataclass
class Run:
    code: int  # exit code; -9 when killed for running past the time limit
    stdout: str
    stderr: str
    seconds: float  # wall clock
    cpu: float  # CPU seconds of the child, user and system
    peak_mb: float  # peak resident memory of the child

    @property
    def answered(self) -> bool:
        return self.code in (0, 1, 2) and "Traceback" not in self.stderr

    @property
    def within_bounds(self) -> bool:
        """The issue's bounds: seconds of work, and under 500 MB for any input under 10 MB."""
        return self.cpu < CPU_SECONDS and self.peak_mb < 500


def _limit(memory: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def run_cli(*args: str | Path, seconds: float = SECONDS, memory: int = MEMORY, cwd: Path | None = None,
            env: dict[str, str] | None = None, prefix: tuple[str, ...] = (),
            entry: tuple[str, ...] = ("-m", "phoenix_ops")) -> Run:
    """`phoenix-ops ARGS` in a fresh interpreter, killed past `seconds`, refused memory past `memory`;
    `prefix` runs it under another command (setpriv), `entry` through another script."""
    command = [*prefix, sys.executable, *entry, *map(str, args)]
    child_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    started = time.monotonic()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=cwd, env=child_env, preexec_fn=_limit(memory))
    output: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: output.__setitem__(n, s.read()), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for r in readers:
        r.start()
    timer = threading.Timer(seconds, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here, so its own peak memory is known
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    killed = proc.returncode == -9
    err = output.get("err", b"").decode(errors="replace") + (f"\n(killed after {seconds} s)" if killed else "")
    return Run(proc.returncode, output.get("out", b"").decode(errors="replace"), err,
               time.monotonic() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)

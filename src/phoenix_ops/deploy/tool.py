"""The platform's own CLI (`kubectl`, `fly`) run as a child process, bounded in time: a command that
outlives its bound is killed with its whole process group and reported like a failure."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ToolFailed(RuntimeError):
    """The CLI exited non-zero, or did not finish in time: the message quotes what it said."""


def executable(name: str) -> str:
    from phoenix_ops.command import UsageError
    found = shutil.which(name)
    if found is None:
        raise UsageError(f"`{name}` is not on PATH: deploying to this platform runs its own CLI")
    return found


def shown(argv: list[str]) -> str:
    return shlex.join(argv)


def _kill(proc: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


async def run(argv: list[str], timeout: float) -> str:
    """stdout of `argv`; ToolFailed on a non-zero exit or after `timeout` seconds."""
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        _kill(proc)
        await proc.wait()
        raise ToolFailed(f"`{shown(argv)}` did not finish within {timeout:g} s (killed)") from None
    if proc.returncode:
        said = (err or out).decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ToolFailed(f"`{shown(argv)}` exited {proc.returncode}: {said[0][:300]}")
    return out.decode(errors="replace")


@asynccontextmanager
async def held(argv: list[str], ready: str, timeout: float) -> AsyncIterator[str]:
    """A long-running command (`kubectl port-forward`) kept alive while the block runs: yields the
    first stdout line containing `ready`, and kills the command when the block ends."""
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
    try:
        async def first() -> str:
            while line := (await proc.stdout.readline()).decode(errors="replace"):
                if ready in line:
                    return line.strip()
            err = (await proc.stderr.read()).decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ToolFailed(f"`{shown(argv)}` ended before it was ready: {err[0][:300]}")
        try:
            line = await asyncio.wait_for(first(), timeout)
        except asyncio.TimeoutError:
            raise ToolFailed(f"`{shown(argv)}` was not ready within {timeout:g} s") from None
        yield line
    finally:
        _kill(proc)
        await proc.wait()

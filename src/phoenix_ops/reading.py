"""Reading files the tool is given: regular files only, bounded, never blocking; and which file is being read.

A project is input from anywhere: a FIFO named `Dockerfile` would block a plain `open`, a symlink to
/dev/zero never ends, and a sparse file claims gigabytes. Every file phoenix-ops reads goes through
`read_regular`, and `reading` names the file in hand so a crash report can say where it happened.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

MAX_BYTES = 4 * 1024 * 1024  # the default cap: far above any config, Dockerfile or env file

_current: list[str] = []  # files being read, innermost last
_ATTR = "phoenix_ops_file"  # set on an exception leaving `reading`: the innermost file it left


class Refused(OSError):
    """The path is not a regular file, or is larger than the cap: not read at all."""


def read_regular(path: str | os.PathLike, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; Refused (an OSError) otherwise.

    The file is opened without blocking (a FIFO opens at once) and checked on the open descriptor,
    so a path swapped between the check and the read cannot slip through; the read itself stops
    at `limit + 1` bytes whatever the size the file claims.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"not a regular file ({_kind(st.st_mode)})")
        if st.st_size > limit:
            raise Refused(f"{_size(st.st_size)} is larger than {_size(limit)}")
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise Refused(f"larger than {_size(limit)}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_text(path: str | os.PathLike, limit: int = MAX_BYTES, encoding: str = "utf-8") -> str:
    return read_regular(path, limit).decode(encoding, errors="replace")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "special"


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n} bytes"


@contextlib.contextmanager
def reading(name: str | Path):
    """Mark `name` as the file in hand while the block runs (for the one-line crash report)."""
    _current.append(str(name))
    try:
        yield
    except BaseException as exc:
        if not hasattr(exc, _ATTR):
            setattr(exc, _ATTR, str(name))
        raise
    finally:
        _current.pop()


def file_of(exc: BaseException) -> str | None:
    """The file that was being read when `exc` was raised, if any."""
    return getattr(exc, _ATTR, None) or (_current[-1] if _current else None)

"""The phoenix-ops command line run in the test's own process, its output captured.

An exception escaping the command propagates, traceback and all: the suite sees a crash as a
crash, never as exit code 1 (which means findings).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from phoenix_ops.cli import main


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str
    output: str  # stdout and stderr as they were written, interleaved


class _Capture(io.StringIO):
    """One stream's text, also appended to the interleaved record both streams share."""

    def __init__(self, both: list[str]):
        super().__init__()
        self.both = both

    def write(self, text: str) -> int:
        self.both.append(text)
        return super().write(text)


@contextlib.contextmanager
def _environ(changes: Mapping[str, str | None]) -> Iterator[None]:
    saved = dict(os.environ)
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def invoke(args: Iterable[str | Path], env: Mapping[str, str | None] | None = None) -> Run:
    """Run `phoenix-ops ARGS` (None in `env` unsets a variable) and return what it printed and its exit code."""
    both: list[str] = []
    out, err = _Capture(both), _Capture(both)
    with _environ(env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    return Run(code, out.getvalue(), err.getvalue(), "".join(both))

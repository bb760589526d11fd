"""A generator's output: the files it would create or change, shown as a diff before anything is written.

A file that exists is the user's: a generator never replaces it without --force. A patch computed from
the file as it stands (lines added to config/runtime.exs) is applied by --write alone.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from pathlib import Path

from phoenix_ops.record import record


@record
class Change:
    path: str  # relative to the project root
    content: str  # the whole new content
    old: str | None  # the current content; None when the file does not exist
    why: str  # one line: what the file or the patch gives the project
    patch: bool = False  # lines added to a file the user wrote, keeping all of it
    executable: bool = False

    @property
    def status(self) -> str:
        if self.old is None:
            return "create"
        if self.old == self.content:
            return "same"
        return "patch" if self.patch else "replace"

    def diff(self) -> str:
        before = [] if self.old is None else self.old.splitlines(keepends=True)
        after = self.content.splitlines(keepends=True)
        lines = difflib.unified_diff(before, after, "/dev/null" if self.old is None else f"a/{self.path}",
                                     f"b/{self.path}")
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


@record
class Outcome:
    written: list[str]
    kept: list[str]  # existing files left alone (replacing them needs --force)


def pending(changes: list[Change], force: bool) -> list[Change]:
    """What --write would do: new files, patches, and replacements when forced."""
    return [c for c in changes if c.status in ("create", "patch") or (force and c.status == "replace")]


def render_plan(changes: list[Change], force: bool) -> str:
    out = []
    for c in pending(changes, force):
        out.append(f"# {c.status} {c.path}: {c.why}\n{c.diff()}")
    return "\n".join(out)


def kept(changes: list[Change], force: bool) -> list[Change]:
    return [] if force else [c for c in changes if c.status == "replace"]


def apply(root: Path, changes: list[Change], force: bool) -> Outcome:
    todo = pending(changes, force)
    for c in todo:
        _write_atomically(root / c.path, c.content, c.executable)
    return Outcome([c.path for c in todo], [c.path for c in kept(changes, force)])


def _write_atomically(path: Path, content: str, executable: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content)
        os.chmod(tmp, 0o755 if executable else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

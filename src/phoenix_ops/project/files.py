"""Read every relevant file of a project once; parse on demand."""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path

from tree_sitter import Tree

from phoenix_ops.elixir.parser import SyntaxProblem, parse, syntax_problems
from phoenix_ops.patterns import lazy
from phoenix_ops.reading import Refused, read_regular
from phoenix_ops.record import field, record

# Directories that never hold the project's own source.
SKIP_DIRS = {"_build", "deps", "node_modules", ".git", ".elixir_ls", "cover", "doc", ".hex", ".mix",
             "tmp", "priv/static", ".cache"}
ELIXIR_SUFFIXES = (".ex", ".exs", ".eex", ".heex")
MAX_FILE_BYTES = 4 * 1024 * 1024  # larger files are reported, not read


@record
class SourceFile:
    path: str  # relative to the scan root, forward slashes
    data: bytes

    @cached_property
    def tree(self) -> Tree:
        return parse(self.data)

    @cached_property
    def problems(self) -> list[SyntaxProblem]:
        return syntax_problems(self.tree)

    @property
    def text(self) -> str:
        return self.data.decode(errors="replace")


@record
class ScanIssue:
    path: str
    message: str


@record
class FileSet:
    root: Path
    files: dict[str, SourceFile] = field(default_factory=dict)
    others: list[str] = field(default_factory=list)  # non-Elixir files, by relative path
    issues: list[ScanIssue] = field(default_factory=list)

    def get(self, rel: str) -> SourceFile | None:
        return self.files.get(rel)

    def unreadable(self, rel: str) -> bool:
        """Whether `rel` exists but was not read (permissions, not a regular file, too large)."""
        return any(i.path == rel for i in self.issues)

    def under(self, prefix: str) -> list[SourceFile]:
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        return [f for p, f in self.files.items() if p.startswith(prefix)]


def scan(root: Path) -> FileSet:
    """Walk the tree once (no symlinked directories, so no loops), reading Elixir sources."""
    fs = FileSet(root)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=None):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = sorted(d for d in dirnames
                             if d not in SKIP_DIRS and (rel_dir + d) not in SKIP_DIRS and not d.startswith("_build"))
        for name in sorted(filenames):
            rel = rel_dir + name
            full = os.path.join(dirpath, name)
            if not name.endswith(ELIXIR_SUFFIXES) and name != "mix.lock":  # the lock is an Elixir map
                fs.others.append(rel)
                continue
            _read_source(fs, rel, full)
    return fs


def _read_source(fs: FileSet, rel: str, full: str) -> None:
    try:
        data = read_regular(full, MAX_FILE_BYTES)
    except Refused as exc:
        fs.issues.append(ScanIssue(rel, f"skipped: {exc}"))
        return
    except OSError as exc:
        fs.issues.append(ScanIssue(rel, f"unreadable: {exc.strerror or exc}"))
        return
    if b"\0" in data[:8192]:
        fs.issues.append(ScanIssue(rel, "skipped: binary content in an Elixir source file"))
        return
    # Each level opens with a `do`: a file with fewer than the limit cannot nest past it.
    depth = block_depth(data) if data.count(b"do") > MAX_BLOCK_DEPTH else 0
    if depth > MAX_BLOCK_DEPTH:
        fs.issues.append(ScanIssue(rel, f"skipped: do-blocks nested {depth} deep (the parser would need gigabytes)"))
        return
    fs.files[rel] = SourceFile(rel, data)


_DO_END = lazy(rb"\bdo[ \t]*$|^[ \t]*end\b", re.M)
MAX_BLOCK_DEPTH = 1000  # real code nests blocks a dozen deep; 50,000 nested `case` cost 500 MB to parse


def block_depth(data: bytes) -> int:
    """How deep `do ... end` blocks nest, from lines ending in `do` and lines starting with `end` (linear)."""
    depth = deepest = 0
    for m in _DO_END.finditer(data):
        depth = max(0, depth - 1) if m.group().strip() == b"end" else depth + 1
        deepest = max(deepest, depth)
    return deepest

"""A built release on disk: a directory from `mix release`, or its tarball unpacked into a temp dir."""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from phoenix_ops.record import record


class ReleaseError(ValueError):
    """Not a release we can run: one line, exit 2."""


@record(frozen=True)
class Release:
    root: Path  # the directory holding bin/, releases/ and erts-*
    name: str  # bin/<name>
    version: str

    @property
    def script(self) -> Path:
        return self.root / "bin" / self.name


def open_release(path: Path, scratch: Path) -> Release:
    """The release at `path` (a directory or a .tar.gz); a tarball is unpacked under `scratch`."""
    path = path.resolve()
    if path.is_file():
        path = _unpack(path, scratch)
    elif not path.is_dir():
        raise ReleaseError(f"{path}: no such release directory or tarball")
    data = path / "releases" / "start_erl.data"
    scripts = [p.name for p in (path / "bin").iterdir() if p.is_file()] if (path / "bin").is_dir() else []
    name, version = _identity(path, data.read_text() if data.is_file() else None, scripts,
                              lambda relative: (path / relative).is_file())
    return Release(path, name, version)


@record(frozen=True)
class File:
    """A regular file of a release tarball, by its content."""
    path: str  # relative to the release root
    digest: str  # sha256 of the content, hex
    mode: int  # permission bits
    size: int


@record(frozen=True)
class Contents:
    """A release tarball's name, version and regular files; `others` names its other members
    (directories, symbolic links). `listed` is false when a member cannot be told apart by its
    path on one line, or would land outside the release: it is then only ever unpacked whole."""
    name: str
    version: str
    files: tuple[File, ...]
    others: tuple[str, ...]
    listed: bool


def identify(tarball: Path) -> tuple[str, str]:
    """A release tarball's name and version, from its listing: nothing is unpacked (a deploy streams
    the tarball to the hosts and needs no copy of its own)."""
    contents = _read(tarball, hashed=False)
    return contents.name, contents.version


def contents(tarball: Path) -> Contents:
    """The tarball's name, version and the content hash of every regular file, in the one pass
    `identify` makes (hashing adds a fifth to it)."""
    return _read(tarball, hashed=True)


def _read(tarball: Path, hashed: bool) -> Contents:
    """Read as a stream, in one pass: going back for a member of a compressed tarball decompresses it
    again from the start."""
    files: dict[str, File] = {}  # a path the tarball holds twice is unpacked as its last member
    others: list[str] = []
    listed = True
    start_erl = None
    try:
        with tarfile.open(tarball, "r|*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                listed = listed and _plain(name) and (member.isfile() or member.isdir() or member.issym())
                if not member.isfile():
                    others.append(member.name)
                    files.pop(name, None)
                    continue
                data = tar.extractfile(member).read() if hashed or name == "releases/start_erl.data" else b""
                files[name] = File(name, hashlib.sha256(data).hexdigest() if hashed else "", member.mode & 0o7777,
                                   member.size)
                if name == "releases/start_erl.data":
                    start_erl = data.decode("utf-8", "replace")
    except (tarfile.TarError, OSError) as exc:
        raise ReleaseError(f"{tarball}: cannot read: {exc}") from None
    scripts = [f.removeprefix("bin/") for f in files if f.startswith("bin/") and f.count("/") == 1]
    name, version = _identity(tarball, start_erl, scripts, files.__contains__)
    return Contents(name, version, tuple(files.values()), tuple(others), listed)


def _plain(name: str) -> bool:
    """A relative path on one line that stays below the release root."""
    return not (name.startswith("/") or "\n" in name or "\\" in name or ".." in name.split("/"))


def _identity(where: Path, start_erl: str | None, scripts: list[str], has: Callable[[str], bool]) -> tuple[str, str]:
    """The release's name and version from releases/start_erl.data, the files in bin/ and whether a
    file (relative to the release root) exists."""
    if start_erl is None:
        raise ReleaseError(f"{where}: not a Mix release (no releases/start_erl.data; build one with `mix release`)")
    version = start_erl.split()[-1]
    names = [n for n in scripts if not n.endswith((".bat", ".ps1")) and n not in ("server", "migrate")]
    boot = [n for n in names if has(f"releases/{version}/{n}.rel")] or \
        [n for n in names if has(f"releases/{version}/start.boot")]
    if not boot:
        raise ReleaseError(f"{where}: no release script in bin/")
    return sorted(boot)[0], version


def _unpack(tarball: Path, scratch: Path) -> Path:
    target = Path(tempfile.mkdtemp(prefix="release-", dir=scratch))
    try:
        with tarfile.open(tarball) as tar:
            tar.extractall(target, filter="tar")
    except (tarfile.TarError, OSError) as exc:
        raise ReleaseError(f"{tarball}: cannot unpack: {exc}") from None
    return target

"""A built release on disk: a directory from `mix release`, or its tarball unpacked into a temp dir."""

from __future__ import annotations

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


def identify(tarball: Path) -> tuple[str, str]:
    """A release tarball's name and version, from its listing: nothing is unpacked (a deploy streams
    the tarball to the hosts and needs no copy of its own). Read as a stream, in one pass: going back
    for a member of a compressed tarball decompresses it again from the start."""
    files: set[str] = set()
    start_erl = None
    try:
        with tarfile.open(tarball, "r|*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if member.isfile():
                    files.add(name)
                    if name == "releases/start_erl.data":
                        start_erl = tar.extractfile(member).read().decode("utf-8", "replace")
    except (tarfile.TarError, OSError) as exc:
        raise ReleaseError(f"{tarball}: cannot read: {exc}") from None
    scripts = [f.removeprefix("bin/") for f in files if f.startswith("bin/") and f.count("/") == 1]
    return _identity(tarball, start_erl, scripts, files.__contains__)


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

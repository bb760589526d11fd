"""A built release on disk: a directory from `mix release`, or its tarball unpacked into a temp dir."""

from __future__ import annotations

import tarfile
import tempfile
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
    if not data.is_file():
        raise ReleaseError(f"{path}: not a Mix release (no releases/start_erl.data; build one with `mix release`)")
    version = data.read_text().split()[-1]
    names = [p.name for p in (path / "bin").iterdir() if p.is_file() and not p.name.endswith((".bat", ".ps1"))
             and p.name not in ("server", "migrate")] if (path / "bin").is_dir() else []
    boot = [n for n in names if (path / "releases" / version / f"{n}.rel").is_file()] or \
        [n for n in names if (path / "releases" / version / "start.boot").is_file()]
    if not boot:
        raise ReleaseError(f"{path}: no release script in bin/")
    return Release(path, sorted(boot)[0], version)


def _unpack(tarball: Path, scratch: Path) -> Path:
    target = Path(tempfile.mkdtemp(prefix="release-", dir=scratch))
    try:
        with tarfile.open(tarball) as tar:
            tar.extractall(target, filter="tar")
    except (tarfile.TarError, OSError) as exc:
        raise ReleaseError(f"{tarball}: cannot unpack: {exc}") from None
    return target

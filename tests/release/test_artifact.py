"""A release tarball's name and version, read from its listing (as `deploy` does, without unpacking)
and from the unpacked directory (as `release verify` does): both agree."""

import hashlib
import io
import tarfile

import pytest

from phoenix_ops.release.artifact import ReleaseError, contents, identify, open_release


def tarball(tmp_path, files: dict[str, str], prefix: str = ""):
    path = tmp_path / "shop-1.2.3.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    return path


RELEASE = {"releases/start_erl.data": "14.2.5 1.2.3", "releases/1.2.3/shop.rel": "{release, ...}.",
           "bin/shop": "#!/bin/sh", "bin/shop.bat": "@echo off", "bin/server": "#!/bin/sh", "bin/migrate": "#!/bin/sh",
           "lib/shop-1.2.3/ebin/shop.app": "{application, shop, []}."}


@pytest.mark.parametrize("prefix", ["", "./"])
def test_name_and_version_from_the_listing_match_the_unpacked_release(tmp_path, prefix):
    path = tarball(tmp_path, RELEASE, prefix)
    assert identify(path) == ("shop", "1.2.3")
    unpacked = open_release(path, tmp_path)
    assert (unpacked.name, unpacked.version) == ("shop", "1.2.3")


def test_a_tarball_that_is_no_release_says_so(tmp_path):
    with pytest.raises(ReleaseError, match="not a Mix release"):
        identify(tarball(tmp_path, {"bin/shop": "#!/bin/sh"}))
    with pytest.raises(ReleaseError, match="no release script"):
        identify(tarball(tmp_path, {"releases/start_erl.data": "14.2.5 1.2.3", "bin/server": "#!/bin/sh"}))
    (tmp_path / "junk.tar.gz").write_bytes(b"not gzip")
    with pytest.raises(ReleaseError, match="cannot read"):
        identify(tmp_path / "junk.tar.gz")


def test_contents_hash_each_path_once_as_tar_unpacks_it(tmp_path):
    """A path the tarball holds twice (`mix release` adds overlays beside the directories that hold
    them) is one file on disk, its last member's content."""
    path = tmp_path / "shop-1.2.3.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, text in [*RELEASE.items(), ("bin/server", "#!/bin/sh\nexec start\n")]:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(text.encode()), 0o755
            tar.addfile(info, io.BytesIO(text.encode()))
    release = contents(path)
    assert (release.name, release.version, release.listed) == ("shop", "1.2.3", True)
    assert [f.path for f in release.files] == list(RELEASE)
    server = next(f for f in release.files if f.path == "bin/server")
    assert server.digest == hashlib.sha256(b"#!/bin/sh\nexec start\n").hexdigest() and server.mode == 0o755

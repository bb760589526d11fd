"""Old releases removed once a deploy finished: the script run by `sh` on a host's tree, as SSH runs it."""

import os
import subprocess

import pytest

from phoenix_ops.command import UsageError
from phoenix_ops.deploy.plan import Host, plan_from
from phoenix_ops.deploy.remote import prune_script


def host_tree(root, versions: list[str], current: str, running: dict[str, str]) -> None:
    """releases/<v> for each version, oldest first (their times a minute apart), `current`, run/<colour>.version."""
    (root / "run").mkdir(parents=True)
    for i, v in enumerate(versions):
        release = root / "releases" / v
        (release / "bin").mkdir(parents=True)
        (release / "bin" / "shop").write_text(v)
        os.utime(release, (1_000_000 + 60 * i,) * 2)
    (root / "current").symlink_to(f"releases/{current}")
    for colour, v in running.items():
        (root / "run" / f"{colour}.version").write_text(v + "\n")


def prune(root, keep: int, protected: set[str]) -> list[str]:
    host = Host("deploy", "127.0.0.1", 22, "127.0.0.1", 4000, str(root))
    out = subprocess.run(["sh", "-c", prune_script(host, keep, protected)], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_newest_releases_and_every_one_in_use_are_kept(tmp_path):
    versions = [f"0.{i}.0" for i in range(1, 9)]
    host_tree(tmp_path, versions, current="0.8.0", running={"blue": "0.2.0", "green": "0.8.0"})
    (tmp_path / "releases" / ".0.9.0.partial" / "release").mkdir(parents=True)  # an upload cut short
    shared = tmp_path / "releases" / "0.6.0" / "bin" / "shared"  # linked from 0.1.0 by an upload by content
    shared.hardlink_to(tmp_path / "releases" / "0.1.0" / "bin" / "shop")

    removed = prune(tmp_path, 3, protected={"0.4.0"})

    assert sorted(removed) == ["0.1.0", "0.3.0", "0.5.0"]
    assert sorted(os.listdir(tmp_path / "releases")) == ["0.2.0", "0.4.0", "0.6.0", "0.7.0", "0.8.0"]
    assert (tmp_path / "current").resolve().name == "0.8.0" and shared.read_text() == "0.1.0"
    assert prune(tmp_path, 3, protected={"0.4.0"}) == []  # nothing more to remove


def test_a_kept_name_is_never_read_as_a_pattern(tmp_path):
    host_tree(tmp_path, ["0.1.0", "0.2.0", "0.?.0"], current="0.?.0", running={})
    assert sorted(prune(tmp_path, 1, set())) == ["0.1.0", "0.2.0"]
    assert os.listdir(tmp_path / "releases") == ["0.?.0"]


def test_a_host_without_releases_is_left_alone(tmp_path):
    assert prune(tmp_path, 2, set()) == []
    assert not (tmp_path / "releases").exists()


def test_keep_releases_is_read_from_the_plan():
    base = {"root": "/srv/shop", "hosts": ["deploy@10.0.0.11"]}
    assert plan_from(base).keep_releases == 5
    assert plan_from(base | {"keep-releases": 0}).keep_releases == 0
    for bad in (-1, "3", True):
        with pytest.raises(UsageError, match="keep-releases"):
            plan_from(base | {"keep-releases": bad})

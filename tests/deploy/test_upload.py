"""The upload by content, on three sshd hosts: a host holding a release with a manifest gets only the
files it lacks; one without a manifest, or whose old files fail their check, gets the whole tarball;
either way the release on the host is the tarball's, byte for byte."""

import json
import os
import re
import tarfile
from pathlib import Path

import pytest
from test_rollout import project, run, running

pytestmark = pytest.mark.slow


def uploads(proj: Path) -> dict[str, dict]:
    """The last deploy's upload events, by host label."""
    events = [json.loads(line) for line in (proj / ".phoenix-ops" / "deploy.jsonl").read_text().splitlines()]
    last = max(i for i, e in enumerate(events) if e["event"] == "start")
    return {e["host"]: e for e in events[last:] if e["event"] == "upload"}


def same_as_unpacked(tarball: Path, release: Path, scratch: Path) -> None:
    """`release` holds exactly the tarball's files (content and mode), and its manifest."""
    full = scratch / f"full-{tarball.name}"
    if not full.exists():
        full.mkdir()
        with tarfile.open(tarball) as tar:
            tar.extractall(full, filter="tar")

    def files(root: Path) -> dict[str, tuple[bytes, int]]:
        return {str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mode & 0o7777)
                for p in root.rglob("*") if p.is_file()}

    held = files(release)
    assert held.pop(".manifest")[0].count(b"\n") == len(files(full))
    assert held == files(full)


def test_a_second_deploy_sends_only_what_changed(lab, tmp_path, env_file, phoenix_build, phoenix_build_v2):
    """0.1.0 goes whole to every host (none holds a manifest). Then, for 0.2.0: the first host has
    lost its manifest (a release from before manifests), one file of the second host's 0.1.0 was
    changed (the hashes of the linked files catch it): both get the whole tarball; the third gets
    only the files that changed. Back to 0.1.0, every host reuses all it can. Each deploy, once
    finished, removes the releases beyond the last one kept (keep-releases = 1), never the one a
    rollback would restore."""
    proj = project(lab, tmp_path, env_file, **{"keep-releases": 1})
    labels = [f"127.0.0.1:{h.ssh_port}" for h in lab.hosts]
    v1, v2 = phoenix_build.tarball, phoenix_build_v2.tarball
    first = run(lab, proj, "deploy", v1)
    assert first.exit_code == 0, first.output
    assert all(u["sent"] == v1.stat().st_size and u["reused"] == 0 for u in uploads(proj).values())
    assert "sent the whole tarball, 9.0 MB" in first.stderr and "holds no release with a manifest" in first.stderr

    (lab.hosts[0].root / "releases" / "0.1.0" / ".manifest").unlink()
    changed = lab.hosts[1].root / "releases" / "0.1.0" / "releases" / "0.1.0" / "vm.args"
    text = changed.read_text()
    changed.unlink()  # a new file: the running node keeps what it read
    changed.write_text(text + "## edited\n")
    stale = lab.hosts[2].root / "releases" / "0.0.9"
    (stale / "bin").mkdir(parents=True)
    os.utime(stale, (1_000_000, 1_000_000))
    second = run(lab, proj, "deploy", v2)
    assert second.exit_code == 0, second.output
    assert running(lab) == ["0.2.0"] * 3
    sent = uploads(proj)
    assert sent[labels[0]]["sent"] == sent[labels[1]]["sent"] == v2.stat().st_size, sent
    assert sent[labels[2]]["sent"] < 1_000_000 and sent[labels[2]]["reused"] > 1500, sent
    assert f"{labels[1]}: sent the whole tarball" in second.stderr and "reusing the files of 0.1.0 failed" \
        in second.stderr and "linked from releases/0.1.0 differ from its manifest" in second.stderr, second.stderr
    assert not (lab.hosts[1].root / "releases" / "0.1.0" / ".manifest").exists()  # never trusted again
    assert re.search(rf"{labels[2]}: sent 0\.\d MB of 1\d\.\d MB \(\d\d files\); 1,6\d\d files reused from 0\.1\.0",
                     second.stderr), second.stderr
    assert f"{labels[2]}: removed 1 old release(s): 0.0.9" in second.stderr, second.stderr
    for h in lab.hosts:
        same_as_unpacked(v2, h.root / "releases" / "0.2.0", tmp_path)
        assert sorted(p.name for p in (h.root / "releases").iterdir()) == ["0.1.0", "0.2.0"]

    back = run(lab, proj, "deploy", v1)
    assert back.exit_code == 0, back.output
    sent = uploads(proj)
    # The first and second hosts' 0.1.0 have no manifest (lost, or removed when it failed its check):
    # their files come from 0.2.0; the third reuses all of 0.1.0.
    assert all(sent[label]["base"] == "0.2.0" and sent[label]["sent"] < 1_000_000 for label in labels[:2]), sent
    assert sent[labels[2]]["base"] == "0.1.0" and sent[labels[2]]["files"] < 20, sent
    for h in lab.hosts:
        same_as_unpacked(v1, h.root / "releases" / "0.1.0", tmp_path)
    assert running(lab) == ["0.1.0"] * 3
    assert os.stat(lab.hosts[2].root / "releases" / "0.1.0" / "bin" / "phx_fixture").st_nlink >= 2

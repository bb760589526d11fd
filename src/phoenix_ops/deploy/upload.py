"""The release's upload, by content. Each installed release keeps a manifest (releases/<v>/.manifest:
one line per regular file, `sha256 mode path`, from the hashes computed here). A host holding a
release with a manifest gets only the files it lacks, as a small tar; the rest are hard-linked from
that release (one `cp -l` per pair of directories, never one process per file), every file of the
new release is checked against its manifest, and it is put in place by a rename once whole. A host
with no manifest, or whose linked copy fails, gets the whole tarball. Either way the release is
unpacked in a hidden directory beside the others and renamed into place last: a half-made release
is never where a deploy would start it, or read its manifest."""

from __future__ import annotations

import io
import posixpath
import re
import shlex
import tarfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from phoenix_ops.deploy.plan import Host
from phoenix_ops.deploy.remote import RemoteError, Session
from phoenix_ops.record import field, record
from phoenix_ops.release.artifact import Contents, File

MANIFEST = ".manifest"
LINE = re.compile(r"([0-9a-f]{64}) ([0-7]{1,4}) (.+)")  # a manifest's line: sha256, mode, path


@record
class Reuse:
    """What a host already has of a release: `links` maps (directory in the base release, directory
    in the new one) to the paths below both that are linked; `sent` lists the files that travel."""
    base: str  # the version on the host the files are linked from
    links: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    sent: list[File] = field(default_factory=list)
    reused: list[File] = field(default_factory=list)


@record
class Sent:
    """What one host's upload cost: bytes over the wire, and the release's files reused there."""
    bytes: int
    files: int  # sent
    reused: int
    base: str = ""  # the release they were reused from; "" when the whole tarball went
    why: str = ""  # why the whole tarball went


def manifest(contents: Contents) -> str:
    return "".join(f"{f.digest} {f.mode:o} {f.path}\n" for f in contents.files)


def parse_manifest(text: str) -> dict[tuple[str, int], list[str]]:
    """(digest, mode) -> the paths holding that content; a line that does not read as one (a manifest
    damaged on the host) is left out, and its file sent."""
    held: dict[tuple[str, int], list[str]] = {}
    for line in text.splitlines():
        if entry := LINE.fullmatch(line):
            held.setdefault((entry[1], int(entry[2], 8)), []).append(entry[3])
    return held


def plan_reuse(contents: Contents, base: str, base_manifest: str) -> Reuse:
    """Each file whose content and mode the base release holds is linked from there: from the same
    path, else from a path with the same name whose longest common tail decides the pair of
    directories (an app's lib dir renamed with its version keeps every file below it). Empty files
    and files found under another name travel: they cost a tar header."""
    held = parse_manifest(base_manifest)
    reuse = Reuse(base)
    for f in contents.files:
        paths = held.get((f.digest, f.mode), []) if f.size else []
        pair = (("", ""), f.path) if f.path in paths else _renamed(f.path, paths)
        if pair is None:
            reuse.sent.append(f)
            continue
        dirs, below = pair
        reuse.links.setdefault(dirs, []).append(below)
        reuse.reused.append(f)
    return reuse


def _renamed(path: str, candidates: list[str]) -> tuple[tuple[str, str], str] | None:
    """((base dir, new dir), common tail) for the candidate sharing the longest tail with `path`."""
    parts = path.split("/")
    best = None
    for other in candidates:
        theirs = other.split("/")
        tail = 0
        while tail < min(len(parts), len(theirs)) and parts[-1 - tail] == theirs[-1 - tail]:
            tail += 1
        if tail and (best is None or tail > best[0]):
            best = (tail, theirs)
    if best is None:
        return None
    tail, theirs = best
    return ("/".join(theirs[:-tail]), "/".join(parts[:-tail])), "/".join(parts[-tail:])


def small_tar(tarball: Path, contents: Contents, reuse: Reuse) -> bytes:
    """The files the host lacks and every member that is no regular file, under release/; the link
    lists (links/N, NUL-separated) and the new release's manifest, which its files are checked
    against, beside them."""
    wanted = {f.path for f in reuse.sent}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as small, tarfile.open(tarball, "r|*") as tar:
        for member in tar:
            name = member.name.removeprefix("./")
            if member.isfile() and name not in wanted:
                continue
            member.name = posixpath.join("release", name)
            small.addfile(member, tar.extractfile(member) if member.isfile() else None)
        lists = [("\0".join(paths) + "\0").encode() for paths in reuse.links.values()]
        for name, data in [*((f"links/{i}", text) for i, text in enumerate(lists)),
                           ("manifest", manifest(contents).encode())]:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            small.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _q(text: str) -> str:
    return shlex.quote(text)


def base_script(host: Host, version: str) -> str:
    """The release on the host whose manifest says what it holds: `version` itself (installed
    before), else the one `current` points at, else the newest with a manifest. Prints its version,
    then its manifest; nothing when there is none."""
    return (f"cd {_q(host.root)}/releases 2>/dev/null || exit 0; c=$(readlink ../current 2>/dev/null || :); "
            f'for r in {_q(version)} "${{c##*/}}" $(ls -t); do [ -n "$r" ] && [ -f "$r/{MANIFEST}" ] && '
            f'{{ echo "$r"; cat "$r/{MANIFEST}"; exit 0; }}; done; exit 0')


def _prepare(host: Host, version: str) -> str:
    """In releases/, an empty hidden directory for the release (`$P`), removed again if the script fails."""
    root, part = _q(host.root), _q(f".{version}.partial")
    return (f"set -e; mkdir -p {root}/releases/{_q(version)} {root}/run {root}/log; cd {root}/releases; "
            f"R=$PWD; P={part}; rm -rf \"$P\"; mkdir -p \"$P/release\"; "
            "trap '[ $? = 0 ] || rm -rf \"$P\"' EXIT; ")


def _seal(version: str, count: int | None) -> str:
    """With `count`, the release must hold that many regular files; its manifest is moved in, then the
    release into place (what was there before moved aside and removed)."""
    v, old = _q(version), _q(f".{version}.old")
    checked = "" if count is None else (
        f'n=$(find "$P/release" -type f | wc -l); [ "$n" -eq {count} ] || '
        f'{{ echo "releases/{version} would hold $n files where the release has {count}" >&2; exit 1; }}; '
        f'mv "$P/manifest" "$P/release/{MANIFEST}"; ')
    return f"{checked}rm -rf {old}; mv -T {v} {old}; mv -T \"$P/release\" {v}; rm -rf {old} \"$P\""


def delta_script(host: Host, version: str, contents: Contents, reuse: Reuse) -> str:
    """Unpack the small tar arriving on standard input, link what the host has from the base release,
    check every file of the release against its manifest, then seal. When they differ, a file of the
    base release was changed on the host: its manifest is removed, so no later deploy trusts it."""
    links = "".join(
        f'mkdir -p "$P/release/"{_q(to or ".")}; (cd {_q(posixpath.join(reuse.base, source or "."))} && '
        f'xargs -0 -r cp -l --parents -t "$R/$P/release/"{_q(to or ".")}) < "$P/links/{i}"; '
        for i, (source, to) in enumerate(reuse.links))
    return (f"{_prepare(host, version)}tar -xzf - -C \"$P\"; {links}"
            f"(cd \"$P/release\" && sed -E 's/^([0-9a-f]{{64}}) [0-7]+ /\\1  /' ../manifest | sha256sum --quiet "
            f"--strict -c -) || {{ rm -f {_q(reuse.base)}/{MANIFEST}; echo "
            f"{_q(f'files linked from releases/{reuse.base} differ from its manifest, which is removed')} >&2; "
            "exit 1; }; "
            f"{_seal(version, len(contents.files))}")


def full_script(host: Host, version: str, contents: Contents) -> str:
    """Unpack the whole tarball arriving on standard input; seal once its manifest follows (a second
    command, `manifest_script`) or at once for a release that cannot be listed."""
    unpack = f"{_prepare(host, version)}tar -xzf - -C \"$P/release\""
    return unpack if contents.listed else f"{unpack}; {_seal(version, None)}"


def manifest_script(host: Host, version: str, contents: Contents) -> str:
    """The manifest arriving on standard input written beside the unpacked release, then seal."""
    return (f"set -e; cd {_q(host.root)}/releases; P={_q(f'.{version}.partial')}; cat > \"$P/manifest\"; "
            f"{_seal(version, len(contents.files))}")


async def install(session: Session, version: str, contents: Contents, tarball: Path,
                  delta: Callable[[str, str], Awaitable[tuple[bytes, Reuse]]]) -> Sent:
    """The release installed on the session's host: by content when it holds a release with a manifest
    (`delta(base, manifest)` gives the small tar's bytes and the Reuse plan, shared between hosts with
    the same base), else, or when that fails, the whole tarball."""
    host = session.host
    why = "the release has members that cannot be listed"
    if contents.listed:
        base, _, held = (await session.run(base_script(host, version), timeout=30)).partition("\n")
        why = "it holds no release with a manifest"
        if base:
            data, reuse = await delta(base, held)
            try:
                await session.run(delta_script(host, version, contents, reuse), input=data)
                return Sent(len(data), len(reuse.sent), len(reuse.reused), base)
            except RemoteError as exc:
                why = f"reusing the files of {base} failed ({exc})"
    await session.run(full_script(host, version, contents), stdin=str(tarball))
    if contents.listed:
        await session.run(manifest_script(host, version, contents), input=manifest(contents).encode(), timeout=30)
    return Sent(tarball.stat().st_size, len(contents.files), 0, why=why)


def describe(sent: Sent, contents: Contents) -> str:
    """What the upload cost, as the progress line says it."""
    total = sum(f.size for f in contents.files)
    if sent.base:
        return (f"sent {_mb(sent.bytes)} of {_mb(total)} ({sent.files:,} files); {sent.reused:,} files reused "
                f"from {sent.base}")
    return f"sent the whole tarball, {_mb(sent.bytes)} ({len(contents.files):,} files, {_mb(total)}): {sent.why}"


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"

"""Pending migrations judged before a deploy: what the MIG rules call unsafe breaks the old code that
keeps serving while the new version rolls out, so `deploy` refuses unless told otherwise."""

from __future__ import annotations

import tarfile
from pathlib import Path

from phoenix_ops.findings import Finding, Severity
from phoenix_ops.patterns import lazy

_MIGRATION = lazy(r"priv/(?:[\w.-]+/)*migrations/(\d+)_[\w.-]+\.exs$")


def versions_in_tarball(tarball: Path) -> set[str]:
    with tarfile.open(tarball) as tar:
        return {m.group(1) for name in tar.getnames() if (m := _MIGRATION.search(name))}


def versions_in_listing(listing: str) -> set[str]:
    """Migration versions from `find` output on a host (one path per line)."""
    return {m.group(1) for line in listing.splitlines() if (m := _MIGRATION.search(line.strip()))}


def listing_script(root: str) -> str:
    return f"find {root}/current/lib -path '*migrations/*.exs' 2>/dev/null || true"


def unsafe_pending(project_root: Path, pending: set[str]) -> list[Finding]:
    """MIG findings at warning or above in the project's migrations whose version is pending."""
    if not pending:
        return []
    from phoenix_ops.catalog import catalog
    from phoenix_ops.project import load_project

    project = load_project(project_root, env="prod")
    found = []
    for rule in catalog("static"):
        if rule.area != "MIG" or rule.check is None:
            continue
        for f in rule.check(project):
            m = _MIGRATION.search(f.location.path or "")
            if m and m.group(1) in pending and f.severity >= Severity.WARNING:
                found.append(f)
    return sorted(found, key=Finding.sort_key)

"""Discovery as the project configures it (libcluster topologies, dns_cluster), read by phoenix_ops.project."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from phoenix_ops.cluster.discovery import Seed, parse_hosts
from phoenix_ops.record import field, record

LOOPBACK_KINDS = {"local_epmd"}  # Cluster.Strategy.LocalEpmd: every node on this host


@record
class ProjectDiscovery:
    dns: list[str] = field(default_factory=list)
    srv: list[str] = field(default_factory=list)
    seeds: list[Seed] = field(default_factory=list)
    basename: str | None = None
    skipped: list[str] = field(default_factory=list)  # what cannot be repeated from outside, and why


def from_project(path: Path, env: str = "prod", environ: Mapping[str, str] = os.environ) -> ProjectDiscovery:
    """Turn the project's cluster config into doctor inputs; a query read from an env var at run
    time is taken from our environment when set there, else from its default in the config."""
    from phoenix_ops.project import NotAPhoenixProject, load_project
    from phoenix_ops.project.cluster import cluster_discovery

    try:
        project = load_project(path, env=env)
    except NotAPhoenixProject as exc:
        raise ValueError(str(exc)) from None
    out = ProjectDiscovery()
    for d in cluster_discovery(project):
        query = environ.get(d.query_env) if d.query_env and environ.get(d.query_env) else d.query
        out.basename = out.basename or d.basename
        if d.kind in ("dns_a", "dns_srv") and query:
            (out.dns if d.kind == "dns_a" else out.srv).append(query)
        elif d.kind == "hosts" and d.hosts:
            out.seeds += parse_hosts(",".join(d.hosts), None, None, source="project")
        elif d.kind in LOOPBACK_KINDS:
            out.seeds += parse_hosts("127.0.0.1", d.basename, None, source="project")
        elif d.query_env and not query:
            out.skipped.append(f"{d.source}: the query comes from ${d.query_env} at run time; set it here")
        else:
            out.skipped.append(f"{d.source}: {d.kind} discovery cannot be repeated from outside the cluster")
    return out

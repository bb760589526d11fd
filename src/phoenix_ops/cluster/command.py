"""`phoenix-ops cluster`: options in, view and findings out, with progress on a terminal."""

from __future__ import annotations

import asyncio
from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.cluster.cookie import load_cookie
from phoenix_ops.cluster.diagnosis import diagnose
from phoenix_ops.cluster.discovery import parse_hosts
from phoenix_ops.cluster.doctor import DoctorOptions, examine, tls_context
from phoenix_ops.cluster.epmd import DEFAULT_PORT as DEFAULT_EPMD_PORT
from phoenix_ops.cluster.project_seeds import from_project
from phoenix_ops.cluster.view import ClusterView
from phoenix_ops.command import NoProgress, Progress, Tail, checked
from phoenix_ops.findings import Finding
from phoenix_ops.record import record


@record
class ClusterArgs:
    hosts: str | None = None
    dns: tuple[str, ...] = ()
    srv: tuple[str, ...] = ()
    node_basename: str | None = None
    dist_port: int | None = None
    epmd_port: int = DEFAULT_EPMD_PORT
    cookie_file: Path | None = None
    tls_ca: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    nameserver: str | None = None
    timeout: float = 3.0
    expect: int | None = None
    project: Path | None = None
    env: str = "prod"


def build_options(args: ClusterArgs) -> DoctorOptions:
    """Check the arguments; raise ValueError (a usage error) with a one-line reason."""
    seeds = parse_hosts(args.hosts or "", args.node_basename, args.dist_port)
    dns, srv, basename, notes = list(args.dns), list(args.srv), args.node_basename, []
    if args.project:
        found = from_project(args.project, args.env)
        dns, srv, seeds, notes = dns + found.dns, srv + found.srv, seeds + found.seeds, found.skipped
        basename = basename or found.basename
    if not (seeds or dns or srv):
        raise ValueError("; ".join(notes) if notes else
                         "say where the nodes are: --hosts, --dns, --srv, or --project with libcluster or dns_cluster")
    if args.dist_port is not None and not 0 < args.dist_port < 65536:
        raise ValueError("--dist-port must be a TCP port")
    if args.timeout <= 0:
        raise ValueError("--timeout must be positive")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    tls = None
    if args.tls_ca or args.tls_cert:
        try:
            tls = tls_context(_opt(args.tls_ca), _opt(args.tls_cert), _opt(args.tls_key))
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise ValueError(f"cannot load the TLS files: {exc}") from None
    cookie, cookie_source = load_cookie(args.cookie_file)
    return DoctorOptions(
        cookie=cookie, cookie_source=cookie_source, seeds=seeds, dns=dns, srv=srv, basename=basename,
        dist_port=args.dist_port, epmd_port=args.epmd_port, nameserver=args.nameserver, timeout=args.timeout,
        expect=args.expect, tls=tls, notes=notes,
    )


def _opt(path: Path | None) -> str | None:
    return str(path) if path else None


def run_doctor(opts: DoctorOptions, progress: Progress | NoProgress | None = None) -> tuple[ClusterView, list[Finding]]:
    """Run the sweep, telling `progress` (a spinner on a terminal) each step."""
    progress = progress or NoProgress()
    for note in opts.notes:
        progress.note(f"phoenix-ops: note: {note}")

    def step(name: str, done: int, total: int) -> None:
        progress.update(f"{name}: {done}/{total}")

    view = asyncio.run(examine(opts, step))
    return view, diagnose(view)


def finish(tail: Tail, view: ClusterView, findings: list[Finding]) -> int:
    """Text: the node table then the findings; the other formats through the shared reporters."""
    from phoenix_ops.cluster.table import render_table
    from phoenix_ops.report import render

    rules = catalog("cluster")
    judged = checked(rules, [view])

    def text(color: bool) -> str:
        return render_table(view) + "\n" + render(findings, "text", color=color, extra=judged, rules=rules)

    extra = html_facts(view) if tail.fmt == "html" else {"cluster": view.to_dict()}
    return tail.finish(findings, tool="cluster", rules=rules, extra=extra | judged, text=text)


def html_facts(view: ClusterView) -> dict:
    """The HTML page shows the picture and the node table above the findings."""
    from phoenix_ops.cluster.picture import render_svg
    from phoenix_ops.cluster.table import COLUMNS, node_rows

    expected = {"expected_nodes": view.expected} if view.expected is not None else {}
    return {"nodes": len(view.nodes), "members": len(view.members()), "partitions": len(view.partitions()),
            **expected, "cookie": view.cookie_source, "seconds": f"{view.seconds:.2f} s",
            "picture": render_svg(view) if view.nodes else "",
            "tables": [{"title": "Nodes", "columns": COLUMNS, "rows": node_rows(view),
                        "note": "processes and atoms: used / limit; sees: the other members in its nodes()"}]}

"""The sweep: discovery -> EPMD on every host -> handshake + remote calls on every node, concurrently."""

from __future__ import annotations

import asyncio
import secrets
import ssl
import time
from collections.abc import Callable

from phoenix_ops.cluster import dist, epmd
from phoenix_ops.cluster.discovery import Seed, from_dns, from_srv, make_resolver
from phoenix_ops.cluster.facts import gather_facts, visible_nodes
from phoenix_ops.cluster.phoenix import gather_phoenix, runs_phoenix, trackers
from phoenix_ops.cluster.rules_phoenix import count_differences
from phoenix_ops.cluster.view import ClusterView, HostReport, NodeReport
from phoenix_ops.record import field, record

RECHECK_DELAY = 0.3  # seconds before a second look at nodes that see each other one way only
PRESENCE_RECHECK_DELAY = 3.0  # Phoenix trackers send deltas every 1.5 s: two rounds

Progress = Callable[[str, int, int], None]  # (step, done, to do)


@record
class DoctorOptions:
    cookie: str = field(repr=False)
    cookie_source: str = "the given cookie"  # where the cookie came from: safe to show
    seeds: list[Seed] = field(default_factory=list)  # explicit hosts and the project's own
    dns: list[str] = field(default_factory=list)
    srv: list[str] = field(default_factory=list)
    basename: str | None = None
    dist_port: int | None = None
    epmd_port: int = epmd.DEFAULT_PORT
    nameserver: str | None = None
    timeout: float = 3.0
    expect: int | None = None
    tls: ssl.SSLContext | None = None
    concurrency: int = 128
    notes: list[str] = field(default_factory=list)  # said on stderr before the sweep (skipped discovery)


async def examine(opts: DoctorOptions, progress: Progress | None = None) -> ClusterView:
    started = time.monotonic()
    view = ClusterView(expected=opts.expect, cookie_source=opts.cookie_source)
    seeds = list(opts.seeds)
    say = progress or (lambda step, done, total: None)
    if opts.dns or opts.srv:
        view.queried = [*opts.dns, *opts.srv]
        say("asking DNS", 0, len(opts.dns) + len(opts.srv))
        resolver = make_resolver(opts.nameserver, opts.timeout)
        lookups = [from_dns(resolver, q, opts.basename, opts.dist_port) for q in opts.dns]
        lookups += [from_srv(resolver, q, opts.basename, opts.dist_port) for q in opts.srv]
        for found, problems in await asyncio.gather(*lookups):
            seeds += found
            view.problems += problems

    direct = [s for s in _unique(seeds) if s.port is not None]
    via_epmd = [s for s in _unique(seeds) if s.port is None]
    say("asking EPMD", 0, len(_unique_hosts(via_epmd)))
    view.hosts = await asyncio.gather(*(_ask_epmd(s, opts) for s in _unique_hosts(via_epmd)))
    targets = [NodeReport(s.node_name or f"{s.node_host}:{s.port}", s.address, s.port, s.source) for s in direct]
    targets += _targets_from_epmd(via_epmd, view.hosts, opts.epmd_port)

    own_basename = f"phoenix_ops_{secrets.token_hex(4)}"
    nonce = secrets.token_hex(16)  # keys this sweep's secret_key_base digests
    gate = asyncio.Semaphore(opts.concurrency)
    conns: dict[int, dist.Connection] = {}  # id(NodeReport) -> its open connection
    done = 0

    async def visit(node: NodeReport) -> None:
        nonlocal done
        if node.port is not None:
            async with gate:
                conn = await _visit(node, opts, own_basename, nonce)
            if conn:
                conns[id(node)] = conn
        done += 1
        say("checking nodes", done, len(targets))

    say("checking nodes", 0, len(targets))
    try:
        await asyncio.gather(*(visit(n) for n in targets))
        view.nodes = targets
        await _recheck_one_way(view, conns, opts.timeout)
        await _recheck_presence(view, conns, opts.timeout)
    finally:
        await asyncio.gather(*(c.close() for c in conns.values()))
    view.seconds = time.monotonic() - started
    return view


async def _recheck_one_way(view: ClusterView, conns: dict[int, dist.Connection], timeout: float) -> None:
    """A one-way view is usually a connection caught half set up: look again before reporting it."""
    pairs = view.one_way()
    if not pairs:
        return
    await asyncio.sleep(RECHECK_DELAY)
    involved = {name for pair in pairs for name in pair}
    nodes = [n for n in view.members() if n.name in involved and id(n) in conns]
    again = await asyncio.gather(*(visible_nodes(conns[id(n)], timeout) for n in nodes))
    for node, visible in zip(nodes, again):
        if visible is not None:
            node.facts.visible = visible


async def _recheck_presence(view: ClusterView, conns: dict[int, dist.Connection], timeout: float) -> None:
    """Presence counts that differ may be trackers still exchanging deltas: read them once more."""
    if not count_differences(view):
        return
    await asyncio.sleep(PRESENCE_RECHECK_DELAY)
    nodes = [n for n in view.members() if n.facts.phoenix is not None and id(n) in conns]
    again = await asyncio.gather(*(trackers(conns[id(n)], timeout) for n in nodes), return_exceptions=True)
    for node, found in zip(nodes, again):
        if isinstance(found, dict):
            node.facts.phoenix.trackers = found


def _unique(seeds: list[Seed]) -> list[Seed]:
    seen, out = set(), []
    for s in seeds:
        key = (s.address, s.port, s.epmd_port, s.basename)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def _unique_hosts(seeds: list[Seed]) -> list[Seed]:
    return list({(s.address, s.epmd_port): s for s in seeds}.values())


async def _ask_epmd(seed: Seed, opts: DoctorOptions) -> HostReport:
    port = seed.epmd_port or opts.epmd_port
    report = HostReport(seed.address, seed.node_host, port=port)
    try:
        report.registered = await epmd.names(seed.address, port, opts.timeout)
    except epmd.EpmdError as exc:
        report.error_kind, report.error = exc.kind, str(exc)
    return report


def _targets_from_epmd(seeds: list[Seed], hosts: list[HostReport], epmd_port: int) -> list[NodeReport]:
    """One target per registered node; a seed naming a node EPMD does not list is reported missing."""
    by_address = {(h.address, h.port): h for h in hosts}
    targets: dict[tuple[str, str], NodeReport] = {}
    for seed in seeds:
        host = by_address[(seed.address, seed.epmd_port or epmd_port)]
        if host.error_kind:
            continue
        wanted = [r for r in host.registered if seed.basename in (None, r.name)]
        for reg in wanted:
            name = f"{reg.name}@{seed.node_host}"
            targets.setdefault((seed.address, reg.name), NodeReport(name, seed.address, reg.port, "epmd"))
        if seed.basename and not wanted:
            targets[(seed.address, seed.basename)] = NodeReport(
                seed.node_name, seed.address, None, seed.source, error_kind="not_registered",
                error=f"{seed.basename} is not registered in EPMD on {seed.address}:{host.port}")
    return list(targets.values())


async def _visit(node: NodeReport, opts: DoctorOptions, own_basename: str, nonce: str) -> dist.Connection | None:
    """Handshake (plain, then TLS when the port speaks it and we hold credentials), then the calls."""
    try:
        try:
            conn = await _connect(node, opts, own_basename, tls=None)
        except dist.DistError as exc:
            if exc.kind != "tls_required" or opts.tls is None:
                raise
            conn = await _connect(node, opts, own_basename, tls=opts.tls)
    except dist.DistError as exc:
        node.error_kind, node.error = exc.kind, str(exc)
        return None
    node.name, node.hidden, node.tls = conn.peer.name, conn.peer.hidden, conn.peer.tls
    try:
        node.facts = await gather_facts(conn, opts.timeout)
        if runs_phoenix(node.facts.applications):
            node.facts.phoenix = await gather_phoenix(conn, opts.timeout, nonce)
    except BaseException:
        await conn.close()
        raise
    return conn  # kept open until the sweep ends, for a second look


async def _connect(node: NodeReport, opts: DoctorOptions, own_basename: str,
                   tls: ssl.SSLContext | None) -> dist.Connection:
    return await dist.connect(node.address, node.port, cookie=opts.cookie, own_basename=own_basename,
                              timeout=opts.timeout, tls=tls)


def tls_context(ca: str | None, cert: str | None, key: str | None) -> ssl.SSLContext:
    """Client context for TLS distribution: the node's chain is checked against the given CA.

    Host names are not checked: distribution certificates usually name the node, not the address
    we dial, and OTP's own inet_tls client does not check them by default either.
    """
    context = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
    context.check_hostname = False
    if cert:
        context.load_cert_chain(cert, key)
    return context

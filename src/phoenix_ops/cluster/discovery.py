"""Where the nodes are: explicit hosts, DNS A/AAAA (DNSPoll, dns_cluster), DNS SRV (headless services).

Discovery yields Seeds: a host to ask, the host part of node names there, and optionally a node
basename and distribution port for nodes that run without EPMD.
"""

from __future__ import annotations

import asyncio

import dns.asyncresolver
import dns.exception
import dns.resolver

from phoenix_ops.record import record


@record(frozen=True)
class Seed:
    address: str  # what we connect to
    node_host: str  # the part after @ in node names there (an IP, or the SRV target's name)
    source: str  # hosts, dns, srv, project
    basename: str | None = None
    port: int | None = None  # the node's distribution port, when it is reached without EPMD
    epmd_port: int | None = None  # EPMD's port on this host, when not the default of --epmd-port

    @property
    def node_name(self) -> str | None:
        return f"{self.basename}@{self.node_host}" if self.basename else None


@record(frozen=True)
class DiscoveryProblem:
    source: str
    query: str
    detail: str


def parse_hosts(text: str, basename: str | None, port: int | None, source: str = "hosts") -> list[Seed]:
    """`--hosts a,b:4370,name@c,name@d:9100`: a bare host takes --node-basename and is asked through
    EPMD, on the port given after it (EPMD's) or --epmd-port; name@host names one node, and a port
    after it is that node's distribution port (reached directly, as --dist-port). IPv6 with a port
    is written [addr]:port."""
    seeds = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        name, _, address = entry.rpartition("@")
        host, given = split_port(address, "--hosts")
        if name and given is not None:
            seeds.append(Seed(host, host, source, name, given))
        else:
            seeds.append(Seed(host, host, source, name or basename, port, epmd_port=given))
    return seeds


def split_port(address: str, option: str) -> tuple[str, int | None]:
    """("host", port or None) from host, host:port, [v6] or [v6]:port; a bare v6 address has no port."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else None
    elif address.count(":") == 1:
        host, _, port_text = address.partition(":")
    else:
        return address, None
    if port_text is None:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"{option}: {port_text!r} in {address} is not a TCP port")
    return host, int(port_text)


def make_resolver(nameserver: str | None, timeout: float) -> dns.asyncresolver.Resolver:
    """The system resolver, or one nameserver given as IP or IP:PORT (IPv6 as [IP]:PORT)."""
    if not nameserver:
        resolver = dns.asyncresolver.Resolver()
    else:
        resolver = dns.asyncresolver.Resolver(configure=False)
        host, port = split_port(nameserver, "--nameserver")
        resolver.nameservers = [host]
        resolver.port = port or 53
    resolver.lifetime = timeout
    return resolver


async def _lookup(resolver: dns.asyncresolver.Resolver, query: str, rdtype: str) -> list:
    try:
        return list(await resolver.resolve(query, rdtype))
    except dns.resolver.NoAnswer:  # the name exists without this record type (often A but no AAAA)
        return []


async def resolve_addresses(resolver: dns.asyncresolver.Resolver, query: str) -> list[str]:
    """A and AAAA records, as libcluster's DNSPoll and dns_cluster read them."""
    results = await asyncio.gather(_lookup(resolver, query, "A"), _lookup(resolver, query, "AAAA"))
    return sorted({r.address for answer in results for r in answer})


async def _addresses_or_reason(resolver: dns.asyncresolver.Resolver, name: str) -> tuple[list[str], str | None]:
    """The name's addresses, or why there are none."""
    try:
        addresses = await resolve_addresses(resolver, name)
    except dns.exception.DNSException as exc:
        return [], _dns_reason(exc)
    return addresses, None if addresses else "the name has no A or AAAA records"


async def from_dns(resolver: dns.asyncresolver.Resolver, query: str, basename: str | None,
                   port: int | None) -> tuple[list[Seed], list[DiscoveryProblem]]:
    addresses, reason = await _addresses_or_reason(resolver, query)
    if reason:
        return [], [DiscoveryProblem("dns", query, reason)]
    return [Seed(a, a, "dns", basename, port) for a in addresses], []


async def from_srv(resolver: dns.asyncresolver.Resolver, query: str, basename: str | None,
                   port: int | None) -> tuple[list[Seed], list[DiscoveryProblem]]:
    """SRV targets name the nodes (basename@target, as libcluster's DNSSRV builds them)."""
    try:
        records = await _lookup(resolver, query, "SRV")
    except dns.exception.DNSException as exc:
        return [], [DiscoveryProblem("srv", query, _dns_reason(exc))]
    if not records:
        return [], [DiscoveryProblem("srv", query, "the name has no SRV records")]
    targets = sorted({r.target.to_text(omit_final_dot=True) for r in records})
    seeds, problems = [], []
    resolved = await asyncio.gather(*(_addresses_or_reason(resolver, t) for t in targets))
    for target, (addresses, reason) in zip(targets, resolved):
        if reason:
            problems.append(DiscoveryProblem("srv", target, f"SRV target does not resolve: {reason}"))
        else:
            seeds.append(Seed(addresses[0], target, "srv", basename, port))
    return seeds, problems


def _dns_reason(exc: Exception) -> str:
    if isinstance(exc, dns.resolver.LifetimeTimeout):
        return "the DNS server did not answer in time"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "no DNS server could answer (SERVFAIL or refused)"
    return str(exc) or type(exc).__name__

"""A host's BEAM node as the deploy reaches it: through the deploy's own SSH connection (direct-tcpip
to the host's EPMD and the node's distribution port), as a hidden node with the release's cookie.
No VM is booted on the host, so asking a node which nodes it sees costs milliseconds, not a second.

How the node is named and found (distribution mode, name, EPMD port, cookie) comes from the host,
worked out as the release's bin script does it (remote.node_script). The cookie is a secret: it is
kept here, never printed, journaled or put in a message.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from phoenix_ops.cluster import dist, epmd

TIMEOUT = 5.0


class Unreachable(RuntimeError):
    """The node could not be asked over the tunnel: the message says why."""


class TunnelRefused(Unreachable):
    """The host's sshd forwards no TCP (AllowTcpForwarding no), or the node speaks TLS distribution,
    whose certificates the deploy does not hold: only the release's own `rpc` can ask it."""


@dataclass(frozen=True)
class NodeFacts:
    distribution: str  # name | sname | none, as the release starts
    node: str  # RELEASE_NODE as the bin script has it; without "@host" Erlang adds the host's name
    epmd_port: int
    cookie: str = field(repr=False)

    @property
    def alive(self) -> str:
        return self.node.partition("@")[0]

    @property
    def address(self) -> str:
        """Where, seen from the host, the node listens: its name's host part, else the loopback."""
        return self.node.partition("@")[2] or "127.0.0.1"


def parse_facts(out: str) -> NodeFacts | None:
    """The node facts a script printed; None when it printed none (a release's env.sh that exited)."""
    said = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    try:
        return NodeFacts(said["distribution"], said["node"], int(said["epmd"]), said["cookie"])
    except (KeyError, ValueError):
        return None


def tunnel(conn) -> dist.Opener:
    """Byte streams to (host, port) as seen from the SSH server, over `conn` (asyncssh)."""
    async def opener(host: str, port: int):
        import asyncssh
        try:
            return await conn.open_connection(host, port)
        except asyncssh.ChannelOpenError as exc:
            if exc.code == asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED:
                raise TunnelRefused(f"its sshd forwards no TCP connection ({exc.reason})") from None
            raise ConnectionRefusedError(f"{host}:{port}: {exc.reason}") from None
    return opener


async def cluster_view(conn, facts: NodeFacts, timeout: float = TIMEOUT) -> tuple[str, set[str]]:
    """The node's full name and the nodes it is connected to (erlang:nodes(), hidden ones left out)."""
    opener = tunnel(conn)
    try:
        registered = await epmd.names(facts.address, facts.epmd_port, timeout, opener=opener)
    except epmd.EpmdError as exc:
        raise Unreachable(str(exc)) from None
    port = next((r.port for r in registered if r.name == facts.alive), None)
    if port is None:
        raise Unreachable(f"no node {facts.alive} in EPMD at {facts.address}:{facts.epmd_port} "
                          f"(registered: {', '.join(r.name for r in registered) or 'none'})")
    try:
        connection = await dist.connect(facts.address, port, cookie=facts.cookie, timeout=timeout,
                                        own_basename=f"phoenix_ops_deploy_{secrets.token_hex(4)}", opener=opener)
    except dist.DistError as exc:
        if exc.kind == "tls_required":
            raise TunnelRefused(str(exc)) from None
        raise Unreachable(f"{facts.alive} on port {port}: {exc}") from None
    try:
        seen = await connection.call("erlang", "nodes", [], timeout)
    except (dist.DistError, dist.RemoteError) as exc:
        raise Unreachable(f"{connection.peer.name}: {exc}") from None
    finally:
        await connection.close()
    return connection.peer.name, {str(n) for n in seen}

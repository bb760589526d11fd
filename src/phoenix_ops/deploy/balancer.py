"""The load balancer in front of the nodes: an nginx upstream file rewritten and reloaded."""

from __future__ import annotations

import asyncio
import os
import shlex
import tempfile
from pathlib import Path

from phoenix_ops.deploy.plan import Balancer
from phoenix_ops.deploy.remote import RemoteError, Session


def upstream(name: str, servers: list[str]) -> str:
    body = "".join(f"    server {s};\n" for s in servers)
    return f"upstream {name} {{\n{body}}}\n"


async def point(balancer: Balancer, servers: list[str], session: Session | None) -> None:
    """Send traffic to exactly `servers` (address:port), then reload gracefully."""
    if not servers:
        raise RemoteError("the balancer would have no server left: refusing to empty it")
    text = upstream(balancer.upstream, servers)
    if session is not None:
        tmp = f"{balancer.upstream_file}.next"
        await session.run(f"printf %s {shlex.quote(text)} > {shlex.quote(tmp)} && "
                          f"mv {shlex.quote(tmp)} {shlex.quote(balancer.upstream_file)} && {balancer.reload}")
        return
    target = Path(balancer.upstream_file)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, target)
    proc = await asyncio.create_subprocess_shell(balancer.reload, stdout=asyncio.subprocess.PIPE,
                                                 stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    if proc.returncode:
        raise RemoteError(f"balancer reload failed: {out.decode(errors='replace').strip()[:300]}")

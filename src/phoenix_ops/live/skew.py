"""Assets across nodes: during a rolling deploy one node's page names digests the other node never
built. Each node is asked for the digested assets that the other nodes' pages reference."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.live.http import Http, ProbeError
from phoenix_ops.live.replay import by_public_name
from phoenix_ops.live.target import ProbeOptions, TargetResult
from phoenix_ops.rule import rule

ASSET_SKEW = rule(
    "AST104", "asset-missing-on-another-node", Severity.ERROR, Confidence.HIGH, kind="probe",
    title="A digested asset one node's page references is missing on another node",
    why="""
    Behind one host name, the page comes from one node and its assets often from another. While a
    rolling deploy mixes releases, a page of the new release names `app-<new digest>.js`, which the
    old nodes never built: they answer 404, and the user gets an unstyled page or a dead LiveView —
    for as long as the rollout takes, on a random share of page views. Each node alone passes every
    asset check.
    """,
    fix="""
    Serve assets from somewhere every release can read (a CDN or bucket that keeps older digests,
    via the endpoint's `static_url`), or keep the previous release's digested files in
    priv/static when building the next one, or route a session to one release (sticky sessions)
    during the rollout.

    Found by probing one URL through several nodes (--resolve HOST:PORT:ADDR once per node).
    Pass: every node serves every digested asset any node's page references. Fail: a node answers
    another status for one.
    """,
)


async def _missing(node: TargetResult, url: str, opts: ProbeOptions) -> int | None:
    async with Http(node.target, opts) as http:
        try:
            reply = await http.get(url, max_body=1)
        except ProbeError:
            return None  # no signal: the page check already says what is wrong with this node
    return reply.status if reply.status != 200 else None


async def check_asset_skew(results: list[TargetResult], opts: ProbeOptions) -> None:
    """Adds AST104 findings to nodes that lack an asset a sibling node's page references."""
    for nodes in by_public_name(results):
        for node in nodes:
            own = set(node.assets)
            wanted = {url: other for other in nodes if other is not node for url in other.assets if url not in own}
            statuses = await asyncio.gather(*(_missing(node, url, opts) for url in wanted))
            for (url, other), status in zip(wanted.items(), statuses):
                if status is not None:
                    path = urlsplit(url).path
                    node.findings.append(ASSET_SKEW.finding(
                        f"answers {status} for {path}, which the page of {other.target.label} references: "
                        "the nodes serve different builds", Location(url=url, node=node.target.addr), key=path))

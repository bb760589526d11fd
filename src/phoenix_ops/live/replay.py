"""Session replay across nodes: a session cookie from one node, sent to the other nodes of the same
host, is refused (a fresh session cookie comes back) when their secret_key_base differs."""

from __future__ import annotations

from collections import defaultdict

from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.live.cookies import Cookie, session_cookie
from phoenix_ops.live.http import Http, ProbeError
from phoenix_ops.live.target import ProbeOptions, TargetResult
from phoenix_ops.rule import rule

SESSION_MISMATCH = rule(
    "SEC101", "secret-key-base-mismatch", Severity.ERROR, Confidence.MEDIUM, kind="probe",
    title="Nodes behind one host do not accept each other's session cookie",
    why="""
    A session cookie from one node, replayed to another node of the same app, is refused when the
    nodes run with different secret_key_base values: users are logged out or get CSRF errors at
    random as the load balancer moves them. Only pages that write the session (the CSRF meta tag of
    a browser page) give a signal; an API-only app gives none, and the probe says so.
    """,
    fix="""
    Give every node the same SECRET_KEY_BASE (one secret in the platform, not one per instance).

    Pass: the cookie from the first node is accepted by the others (they set no new session cookie).
    Fail: another node answers with a fresh session cookie. No signal: no node wrote a session.
    """,
)


async def _rejects(result: TargetResult, opts: ProbeOptions, cookie: Cookie) -> bool | str:
    """True when the node answers the replayed cookie with a new session cookie."""
    url = result.facts["page_url"]
    async with Http(result.target, opts) as http:
        try:
            reply = await http.get(url, headers={"cookie": f"{cookie.name}={cookie.value}"})
        except ProbeError as exc:
            return str(exc)
    again = session_cookie(reply)
    return again is not None and again.name == cookie.name


def by_public_name(results: list[TargetResult]) -> list[list[TargetResult]]:
    """The nodes behind each public host name that were probed through more than one node."""
    groups: dict[str, list[TargetResult]] = defaultdict(list)
    for r in results:
        if "page_url" in r.facts:
            groups[r.target.name].append(r)
    return [g for g in groups.values() if len(g) > 1]


async def check_replay(results: list[TargetResult], opts: ProbeOptions) -> None:
    """Adds SEC101 findings to the results of nodes that share a public host name."""
    for nodes in by_public_name(results):
        source = next((n for n in nodes if n.session), None)
        if source is None:
            for n in nodes:
                n.findings.append(SESSION_MISMATCH.finding(
                    "no node wrote a session cookie on this page, so replay gives no signal (an API-only "
                    "app never does; probe a page with a CSRF token)", Location(url=n.facts["page_url"], node=n.target.addr),
                    severity=Severity.INFO, confidence=Confidence.LOW, hint="", key="no-signal"))
            continue
        if await _rejects(source, opts, source.session) is not False:
            source.findings.append(SESSION_MISMATCH.finding(
                "the node that wrote the session cookie rewrites it on every request, so replay gives no "
                "signal", Location(url=source.facts["page_url"], node=source.target.addr), severity=Severity.INFO,
                confidence=Confidence.LOW, hint="", key="no-signal"))
            continue
        for node in (n for n in nodes if n is not source):
            verdict = await _rejects(node, opts, source.session)
            if verdict is True:
                node.findings.append(SESSION_MISMATCH.finding(
                    f"refuses the session cookie {source.session.name} written by {source.target.label}: "
                    "different secret_key_base (or session store)", Location(url=node.facts["page_url"], node=node.target.addr),
                    key=source.target.label))

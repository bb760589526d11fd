"""What every check of one target shares: the target, the options, its HTTP client and the page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin

from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.live.http import Http, Reply
from phoenix_ops.live.target import ProbeOptions, Target
from phoenix_ops.record import field, record
from phoenix_ops.rule import Subject, rule


def on_page(absent: str, check: str, present: Callable[[dict], bool]) -> Subject:
    """What a probe rule judges on a target: `present(facts)` of what its `check` recorded, unknown
    when that check did not finish (WEB141 then says why), so neither a pass nor an absence is claimed."""
    return Subject(absent, lambda result: present(result.facts),
                   lambda result: None if check in result.facts.get("check_seconds", {}) else
                   f"the {check} check did not finish")


HTTPS = Subject("the page is served over plain HTTP: no TLS to judge",
                lambda result: result.facts.get("page_url", "").startswith("https://"))
# The TLS rules judge a handshake: a failed one is WEB140's finding, and says nothing of the rest.
TLS = HTTPS & Subject(present=lambda result: "tls_version" in result.facts,
                      unknown=lambda result: "no TLS handshake completed")


UNREACHABLE = rule(
    "WEB140", "target-unreachable", Severity.ERROR, Confidence.HIGH, kind="probe",
    title="The target does not answer HTTP within the probe's time limit",
    why="""
    A load balancer, a browser and an attacker all see the same thing: nothing. The probe reports
    the precise failure (DNS, refused connection, timeout, bytes that are not HTTP, headers too large,
    a TLS handshake that fails) instead of hanging: every request has a timeout and the whole probe
    of one target has a budget (--budget).
    """,
    fix="""
    Check that the endpoint listens where the URL says (`http: [ip: {0, 0, 0, 0}, port: ...]`,
    `server: true` or PHX_SERVER=true in a release) and that the proxy forwards to it.

    Pass: the URL answers an HTTP status line and headers within --timeout seconds, below 500.
    Fail: no connection, no complete answer in time, an answer that is not HTTP, or a 5xx page
    (502/504 from a proxy whose upstream is down).
    """,
)

INCOMPLETE = rule(
    "WEB141", "check-incomplete", Severity.WARNING, Confidence.LOW, kind="probe",
    title="A check could not finish within its time limit",
    why="""
    A check that cannot finish says nothing either way, and a silent pass would be a lie. Slow or
    stalled answers on one path (a server that trickles bytes, a socket that never upgrades) are
    themselves worth a look: a load balancer gives up on them too.
    """,
    fix="""
    Look at the path named in the finding; raise --timeout or --budget if the target is just far away.

    Pass: every check completes. Fail: a check hit its timeout or the target's budget ran out.
    """,
)


@record
class Context:
    target: Target
    opts: ProbeOptions
    http: Http
    chain: list[Reply]  # the redirect chain from the target URL to the page
    facts: dict = field(default_factory=dict)

    @property
    def page(self) -> Reply:
        return self.chain[-1]

    def url(self, path: str) -> str:
        return urljoin(self.page.url, path)

    def at(self, url: str | None = None) -> Location:
        return Location(url=url or self.page.url, node=self.target.addr)

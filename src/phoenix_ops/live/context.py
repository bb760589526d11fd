"""What every check of one target shares: the target, the options, its HTTP client and the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin

from phoenix_ops.findings import Location
from phoenix_ops.live.http import Http, Reply
from phoenix_ops.live.target import ProbeOptions, Target


@dataclass
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

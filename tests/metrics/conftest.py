"""Scrape servers started per test and always stopped."""

from __future__ import annotations

import pytest
from scrape_server import ScrapeServer


@pytest.fixture
def serve():
    servers: list[ScrapeServer] = []

    def start(*bodies, **kw) -> str:
        servers.append(ScrapeServer(*bodies, **kw))
        return servers[-1].url
    yield start
    for s in servers:
        s.close()

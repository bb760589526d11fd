"""Fetch a Prometheus endpoint and parse it with prometheus-client's text parser.

A node's scrape can run to megabytes, most of it per-route histogram buckets no rule reads, and the
library's parser is pure Python. So each sample line is first sorted by its metric name (the text
before `{` or the first space): every family name is kept, but only the lines of series a rule
reads (and the first CHECKED lines, so that text which is not Prometheus fails) go to the parser.
The values always come from the library."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from phoenix_ops.patterns import lazy
from phoenix_ops.reasons import reason
from phoenix_ops.record import field, record

Labels = tuple[tuple[str, str], ...]
MAX_BYTES = 64 * 2**20
CHECKED = 200  # the first lines are parsed whatever they hold: text that is not Prometheus fails there
_NAME = lazy(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


class MetricsError(Exception):
    """The endpoint cannot be read as Prometheus text: one line, exit 2."""


@record
class Snapshot:
    """One scrape: every family name seen, and the samples of the families that were parsed."""

    url: str
    at: float  # time.monotonic() of the scrape
    names: set[str] = field(default_factory=set)  # family and sample names present (with samples)
    declared: set[str] = field(default_factory=set)  # families with HELP/TYPE lines, samples or not
    types: dict[str, str] = field(default_factory=dict)  # family -> counter, gauge, histogram, ...
    samples: dict[str, dict[Labels, float]] = field(default_factory=dict)  # sample name -> labels -> value
    size: int = 0

    def series(self, name: str) -> dict[Labels, float]:
        return self.samples.get(name, {})


def fetch(url: str, *, timeout: float, headers: dict[str, str] | None = None) -> str:
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True, headers=headers) as client:
            with client.stream("GET", url, headers={"Accept": "text/plain;version=0.0.4"}) as resp:
                if resp.status_code != 200:
                    raise MetricsError(f"{url} answered HTTP {resp.status_code}, not a scrape")
                kind = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind in ("text/html", "application/json", "application/xhtml+xml"):
                    raise MetricsError(f"{url} answered {kind}, not Prometheus text (is it the metrics path?)")
                body = bytearray()
                for chunk in resp.iter_bytes():
                    body += chunk
                    if len(body) > MAX_BYTES:
                        raise MetricsError(f"{url} sent more than {MAX_BYTES // 2**20} MB")
    except httpx.InvalidURL as exc:
        raise MetricsError(f"bad URL {url!r}: {exc}") from None
    except httpx.UnsupportedProtocol:
        raise MetricsError(f"bad URL {url!r}: use http:// or https://") from None
    except httpx.TimeoutException:
        raise MetricsError(f"{url} did not answer within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise MetricsError(f"cannot scrape {url}: {reason(exc)}") from None
    return body.decode("utf-8", errors="replace")


def parse(text: str, url: str, wanted: Callable[[str], bool]) -> Snapshot:
    """The snapshot of one scrape's text; only the samples whose name `wanted` accepts are parsed."""
    snap = Snapshot(url, time.monotonic(), size=len(text))
    if text.lstrip()[:1] == "<":
        raise MetricsError(f"{url} answered HTML, not Prometheus text (is it the metrics path?)")
    kept: list[str] = []
    for line in text.splitlines():
        if not line or line.isspace():
            continue
        if line[0] == "#":
            parts = line.split(None, 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                snap.declared.add(parts[2])
                if wanted(parts[2]) or parts[1] == "TYPE":
                    kept.append(line)
            continue
        m = _NAME.match(line)
        if not m:
            raise MetricsError(f"{url} is not Prometheus text: {line[:60]!r}")
        snap.names.add(m.group())
        if wanted(m.group()) or len(kept) < CHECKED:
            kept.append(line)
    try:
        for family in text_string_to_metric_families("\n".join(kept) + "\n"):
            snap.types[family.name] = family.type
            for s in family.samples:
                name = s.name
                # The library renames counters to OpenMetrics' `_total`; keep the name the node sends.
                if family.type == "counter" and name not in snap.names and name[:-6] in snap.names:
                    name = name[:-6]
                snap.samples.setdefault(name, {})[tuple(sorted(s.labels.items()))] = s.value
    except (ValueError, IndexError, KeyError) as exc:
        raise MetricsError(f"{url} is not Prometheus text: {exc}") from None
    if not snap.declared and not snap.names:
        raise MetricsError(f"{url} answered an empty scrape")
    return snap

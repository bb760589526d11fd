"""Two scrapes of one node, and the questions the metrics rules ask of them."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from phoenix_ops.findings import Location
from phoenix_ops.metrics.scrape import Labels, Snapshot
from phoenix_ops.record import Derived, field, record
from phoenix_ops.rule import Subject


@record(frozen=True)
class Limits:
    """Thresholds of the metrics rules, each a command-line flag."""

    usage: float = 0.8  # processes, atoms, ports, ETS tables: share of the limit
    memory_limit: float | None = None  # bytes the container may use (--memory-limit)
    memory_share: float = 0.8
    schedulers: int | None = None  # when the scrape does not say
    run_queue_factor: float = 2.0  # run queue above this many times the schedulers
    quantile: float = 0.95
    ecto_queue: float = 0.05  # seconds at the quantile
    ecto_query: float = 0.5
    error_share: float = 0.05  # 5xx share of requests between the scrapes
    min_requests: int = 20  # fewer requests between the scrapes say nothing about a share
    max_queue_length: int = 10_000


@record
class Series:
    name: str
    labels: Labels
    value: float

    def label(self, key: str) -> str | None:
        return dict(self.labels).get(key)


@record
class MetricsView(Derived):
    """What the metrics rules judge: one node's scrapes. A value several rules ask for (a subject's
    test, then the check) is computed once with `derived`."""

    url: str
    first: Snapshot
    second: Snapshot | None  # None with --interval 0: no rates
    limits: Limits = field(default_factory=Limits)
    expected: tuple[str, ...] = ("vm", "phoenix")  # series groups the node should export
    dropped: list[str] | None = None  # telemetry summaries the reporter cannot export (None: no project read)
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def latest(self) -> Snapshot:
        return self.second or self.first

    @property
    def interval(self) -> float | None:
        return self.second.at - self.first.at if self.second else None

    def find(self, pattern: re.Pattern) -> list[Series]:
        snap = self.latest
        return [Series(name, labels, value) for name in sorted(snap.samples) if pattern.search(name)
                for labels, value in snap.samples[name].items()]

    def delta(self, s: Series) -> float | None:
        """The increase of a counter between the two scrapes (None without two, or after a reset)."""
        if self.second is None:
            return None
        before = self.first.series(s.name).get(s.labels)
        if before is None:
            return s.value if s.name in self.first.samples else None
        return s.value - before if s.value >= before else None

    def quantile(self, pattern: re.Pattern, q: float) -> tuple[float, float, str] | None:
        """(value at quantile q in the series' own unit, observations, series name) for the first
        histogram matching `pattern`, summed over its labels; between the scrapes when both have
        new observations, else since the node started. Estimated as Prometheus's histogram_quantile."""
        names = sorted(n for n in self.latest.samples if pattern.search(n))
        if not names:
            return None
        name = names[0]
        now = _buckets(self.latest.series(name))
        if self.second is not None:
            between = {le: c - _buckets(self.first.series(name)).get(le, 0.0) for le, c in now.items()}
            if between.get(math.inf, 0) > 0:
                now = between
        total = now.get(math.inf, 0.0)
        if total <= 0:
            return None
        return _histogram_quantile(sorted(now.items()), q, total), total, name

    def at(self, what: str = "") -> Location:
        return Location(url=self.url + (f"#{what}" if what else ""))


def scraped(what: str, present: Callable[[MetricsView], bool]) -> Subject:
    """What a rule judges in the scrape: when the series are not there, the rule cannot tell (not a pass)."""
    return Subject(present=present, unknown=lambda view: f"the scrape has no {what}")


def _buckets(series: dict[Labels, float]) -> dict[float, float]:
    out: dict[float, float] = {}
    for labels, value in series.items():
        le = dict(labels).get("le")
        if le is not None:
            bound = float(le)
            out[bound] = out.get(bound, 0.0) + value
    return out


def _histogram_quantile(buckets: list[tuple[float, float]], q: float, total: float) -> float:
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound  # the highest finite bucket, as Prometheus answers
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound

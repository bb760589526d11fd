"""Metrics rules about the application: series that should be there, database timings, errors,
Oban queues."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from phoenix_ops.findings import Confidence, Finding, Severity
from phoenix_ops.metrics import names
from phoenix_ops.metrics.view import MetricsView, scraped
from phoenix_ops.rule import Subject, rule

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW

_WHAT = {"vm": "BEAM (memory, run queue, process counts)", "phoenix": "Phoenix endpoint and router",
         "ecto": "Ecto repo queries", "oban": "Oban jobs and queues"}


@rule(
    "OBS103", "metrics-series-missing", Severity.WARNING, M, kind="metrics",
    title="The scrape lacks the series of a part of the app that should be monitored",
    why="""
        A metrics endpoint that exports nothing about the VM, the endpoint, the repo or Oban
        leaves those parts dark: the dashboards stay empty and no alert can fire on memory,
        request errors, pool waits or job backlogs.
    """,
    fix="""
        Add the metrics to the telemetry module (phx.new's `metrics/0` lists VM, Phoenix and
        Ecto ones) or enable the matching PromEx plugin, and make sure the reporter exports
        their type (telemetry_metrics_prometheus drops `summary`).
    """,
)
def series_missing(view: MetricsView) -> Iterator[Finding]:
    present = view.latest.names | view.latest.declared  # a declared family without samples yet is there
    for group in view.expected:
        if not any(names.GROUPS[group].search(n) for n in present):
            yield series_missing.finding(
                f"no {_WHAT[group]} series in the scrape ({len(present)} series names present)",
                view.at(), key=group, confidence=H if group in ("ecto", "oban") else M)


@rule(
    "OBS104", "cowboy-metrics-on-bandit", Severity.WARNING, M, kind="metrics",
    subject=Subject("the scrape declares no Cowboy series",
                    lambda view: any(names.COWBOY.search(n) for n in view.latest.declared)),
    title="Cowboy metrics are declared but empty: the app serves with Bandit",
    why="""
        Phoenix 1.7.11+ apps serve with Bandit. A Cowboy metrics plugin left in place (PromEx's
        `PlugCowboy`) declares its series and never fills them, so HTTP dashboards and alerts
        built on them show nothing while the app takes traffic.
    """,
    fix="""
        Remove the Cowboy plugin and use the Phoenix plugin's request metrics (or Bandit's
        telemetry events) for HTTP.
    """,
)
def cowboy_on_bandit(view: MetricsView) -> Iterator[Finding]:
    snap = view.latest
    declared = sorted(n for n in snap.declared if names.COWBOY.search(n))
    if declared and not any(names.COWBOY.search(n) for n in snap.names):
        yield cowboy_on_bandit.finding(
            f"{len(declared)} Cowboy series declared with no samples (e.g. {declared[0]})", view.at(declared[0]),
            key="cowboy")


@rule(
    "OBS105", "telemetry-summary-dropped", Severity.WARNING, H, kind="metrics",
    subject=Subject(present=lambda view: view.dropped is not None,
                    unknown=lambda view: "the telemetry module is read with --project"),
    title="A telemetry `summary` metric is defined but never exported",
    why="""
        telemetry_metrics_prometheus does not support `summary`: it logs a warning at boot and
        drops the metric. phx.new's telemetry module defines its durations as summaries, so a
        Prometheus setup built on it silently lacks request and query timings.
    """,
    fix="""
        Change the metric to `distribution(...)` with `reporter_options: [buckets: [...]]`; the
        Prometheus reporter exports it as a histogram.
    """,
)
def summary_dropped(view: MetricsView) -> Iterator[Finding]:
    for metric in view.dropped:
        exported = metric.replace(".", "_")
        if not any(n.startswith(exported) for n in view.latest.names):
            yield summary_dropped.finding(
                f'summary("{metric}") is defined in the telemetry module, and {exported} is not in the scrape',
                view.at(exported), key=metric)


def _quantile(pattern) -> Callable[[MetricsView], tuple[float, float, str] | None]:
    """The quantile the limits name of the histogram `pattern` matches, as `view.derived` computes it once."""
    def measure(view: MetricsView) -> tuple[float, float, str] | None:
        return view.quantile(pattern, view.limits.quantile)
    return measure


_QUEUE_TIME, _QUERY_TIME = _quantile(names.ECTO_QUEUE), _quantile(names.ECTO_QUERY)


def _observed(measure, what: str) -> Subject:
    return scraped(f"{what} histogram with observations", lambda view: view.derived(measure) is not None)


def _timing(declared, view: MetricsView, measure, limit: float, what: str) -> Iterator[Finding]:
    value, observed, name = view.derived(measure)
    seconds = value * names.unit_scale(name)
    if seconds > limit:
        q = view.limits.quantile
        yield declared.finding(
            f"{what} p{q * 100:g} is {seconds * 1000:.0f} ms over {observed:.0f} queries (limit {limit * 1000:.0f} ms; "
            f"{name})", view.at(name), key=name)


@rule(
    "OBS106", "ecto-queue-time-high", Severity.WARNING, H, kind="metrics",
    subject=_observed(_QUEUE_TIME, "Ecto queue time"),
    title="Queries wait long for a database connection: the Ecto pool is too small",
    why="""
        Queue time is how long a query waited for a free connection from the repo's pool. High
        queue time means requests and jobs stand in line for the database even when the
        database itself answers fast; under more load it ends in DBConnection timeouts.
    """,
    fix="""
        Raise `pool_size` (within what the database allows for all nodes together), shorten
        transactions that hold connections, and move slow work out of request paths.
    """,
)
def ecto_queue_time(view: MetricsView) -> Iterator[Finding]:
    yield from _timing(ecto_queue_time, view, _QUEUE_TIME, view.limits.ecto_queue, "Ecto queue time")


@rule(
    "OBS107", "ecto-query-time-high", Severity.WARNING, H, kind="metrics",
    subject=_observed(_QUERY_TIME, "Ecto query time"),
    title="Database queries are slow",
    why="""
        Slow queries hold pool connections, so they slow every other query too, and they are
        the first cause of request timeouts in a Phoenix app.
    """,
    fix="""
        Find them with `pg_stat_statements` or Ecto's telemetry, add the missing indexes, and
        paginate large reads.
    """,
)
def ecto_query_time(view: MetricsView) -> Iterator[Finding]:
    yield from _timing(ecto_query_time, view, _QUERY_TIME, view.limits.ecto_query, "Ecto query time")


def _requests(view: MetricsView) -> dict[str, tuple[float, float]]:
    """Series name -> (requests, 5xx answers) between the scrapes, of the counters with a status label."""
    by_name: dict[str, tuple[float, float]] = {}
    for s in view.find(names.REQUESTS):
        status = next((s.label(k) for k in names.STATUS_LABELS if s.label(k)), None)
        increase = view.delta(s)
        if status is None or increase is None:
            continue
        total, errors = by_name.get(s.name, (0.0, 0.0))
        by_name[s.name] = (total + increase, errors + increase * status.startswith("5"))
    return by_name


@rule(
    "OBS108", "http-5xx-share-high", Severity.ERROR, H, kind="metrics",
    subject=Subject("one scrape only (--interval 0): no request rate to judge", lambda view: view.second is not None)
    & scraped("request counter with a status label", lambda view: bool(view.derived(_requests))),
    title="A large share of requests end in a 5xx error",
    why="""
        Server errors between two scrapes are what users are getting right now: crashes in
        controllers, timeouts, a dependency down.
    """,
    fix="""
        Read the error logs for the routes concerned, and alert on the share (see `gen alerts`)
        rather than on single errors.
    """,
)
def http_errors(view: MetricsView) -> Iterator[Finding]:
    # Several series may count the same requests (a counter and a histogram): judge the fullest.
    name, (total, errors) = max(view.derived(_requests).items(), key=lambda item: (item[1][0], item[0]))
    if total >= view.limits.min_requests and errors > view.limits.error_share * total:
        yield http_errors.finding(
            f"{errors:.0f} of {total:.0f} requests in {view.interval:.0f} s were 5xx ({errors / total:.0%}; "
            f"limit {view.limits.error_share:.0%}; {name})", view.at(name), key=name)


@rule(
    "OBS109", "oban-queue-length-high", Severity.WARNING, H, kind="metrics",
    subject=scraped("Oban queue length", lambda view: bool(view.find(names.OBAN_QUEUE))),
    title="An Oban queue reported by the node is long",
    why="""
        The queue length the node exports is the backlog of work not yet started; a long one
        means jobs run late, and a growing one that they never catch up.
    """,
    fix="""
        Raise the queue's concurrency or add nodes, and run `phoenix-ops jobs` to see whether the
        queue is stalled rather than slow.
    """,
)
def oban_queue_length(view: MetricsView) -> Iterator[Finding]:
    for s in view.find(names.OBAN_QUEUE):
        state = s.label("state")
        if state not in (None, "available"):
            continue
        if s.value > view.limits.max_queue_length:
            queue = s.label("queue") or "?"
            yield oban_queue_length.finding(
                f"Oban queue {queue}: {s.value:.0f} jobs waiting (limit {view.limits.max_queue_length}; {s.name})",
                view.at(s.name), key=f"{s.name}:{queue}")

"""`phoenix-ops metrics URL...`: scrape each node twice, an interval apart, and judge the scrapes."""

from __future__ import annotations

import time
from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.command import Tail, checked
from phoenix_ops.findings import Finding
from phoenix_ops.metrics import names
from phoenix_ops.metrics.scrape import MetricsError, Snapshot, fetch, parse
from phoenix_ops.metrics.view import Limits, MetricsView
from phoenix_ops.record import field, record


@record
class MetricsArgs:
    urls: list[str]
    interval: float = 5.0
    timeout: float = 5.0
    limits: Limits = field(default_factory=Limits)
    headers: dict[str, str] = field(default_factory=dict)
    project: Path | None = None


@record
class ProjectFacts:
    expected: tuple[str, ...] = ("vm", "phoenix")
    dropped: list[str] | None = None  # None: no project read


def project_facts(path: Path | None) -> ProjectFacts:
    """What the project says the scrape should hold: Ecto and Oban series when it uses them, and
    the summaries its Prometheus reporter drops."""
    if path is None:
        return ProjectFacts()
    from phoenix_ops.project import NotAPhoenixProject, load_project
    from phoenix_ops.project.telemetry import reporter, telemetry_metrics

    try:
        project = load_project(path)
    except NotAPhoenixProject as exc:
        raise MetricsError(str(exc)) from None
    expected = ["vm", "phoenix"] + [g for g, dep in (("ecto", "ecto_sql"), ("oban", "oban")) if project.has_dep(dep)]
    dropped = []
    if reporter(project) in ("telemetry_metrics_prometheus", "telemetry_metrics_prometheus_core"):
        dropped = [m.name for m in telemetry_metrics(project.files) if m.kind == "summary"]
    return ProjectFacts(tuple(expected), dropped)


def scrape(url: str, args: MetricsArgs) -> Snapshot:
    return parse(fetch(url, timeout=args.timeout, headers=args.headers), url, names.wanted)


def examine(args: MetricsArgs, progress=None) -> tuple[list[MetricsView], list[Finding]]:
    """Scrape every URL, wait the interval, scrape them again; the views and their findings."""
    if not args.urls:
        raise MetricsError("give the URL of at least one metrics endpoint")
    if args.interval < 0:
        raise MetricsError("--interval cannot be negative")
    facts = project_facts(args.project)
    say = progress or (lambda text: None)
    say(f"scraping {len(args.urls)} endpoint(s)")
    first = [scrape(url, args) for url in args.urls]
    second: list[Snapshot | None] = [None] * len(first)
    if args.interval:
        say(f"waiting {args.interval:g} s for rates")
        time.sleep(args.interval)
        second = [scrape(url, args) for url in args.urls]
    views = [MetricsView(url, a, b, args.limits, facts.expected, facts.dropped)
             for url, a, b in zip(args.urls, first, second)]
    rules = catalog("metrics")
    findings = [f for view in views for rule in rules for f in rule.check(view)]
    return views, sorted(findings, key=Finding.sort_key)


def summary(view: MetricsView) -> dict:
    snap = view.latest
    return {"url": view.url, "bytes": snap.size, "series_names": len(snap.names),
            "interval": round(view.interval, 2) if view.interval else None}


def finish(tail: Tail, views: list[MetricsView], findings: list[Finding]) -> int:
    from phoenix_ops.report import render

    def text(color: bool) -> str:
        head = "".join(f"{s['url']}: {s['series_names']} series names, {s['bytes']} bytes"
                       f"{', two scrapes ' + str(s['interval']) + ' s apart' if s['interval'] else ''}\n"
                       for s in map(summary, views))
        return head + "\n" + render(findings, "text", color=color, extra=judged, rules=rules)

    rules = catalog("metrics")
    judged = checked(rules, views)
    extra = {"metrics": [summary(v) for v in views]} if tail.fmt != "html" else {"endpoints": len(views)}
    return tail.finish(findings, tool="metrics", rules=rules, extra=extra | judged, text=text)


_UNITS = {"": 1, "k": 1e3, "ki": 2**10, "m": 1e6, "mi": 2**20, "g": 1e9, "gi": 2**30, "t": 1e12, "ti": 2**40}


def memory_limit(value: str | None) -> float | None:
    """Bytes from `512Mi`, `1G`, `1073741824`, or from a cgroup file (memory.max, memory.limit_in_bytes)."""
    import re

    if not value:
        return None
    path = Path(value)
    if path.is_file():
        raw = path.read_text().strip()
        if raw == "max" or not raw.isdigit() or int(raw) >= 2**60:
            raise MetricsError(f"--memory-limit {value}: the cgroup sets no memory limit ({raw[:20]!r})")
        return float(raw)
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]i?)?[bB]?\s*", value)
    if not m:
        raise MetricsError(f"--memory-limit {value!r}: give bytes, a size such as 512Mi or 2G, or a cgroup file")
    return float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]

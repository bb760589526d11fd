"""The probe command between the CLI and the checks: arguments -> options -> results -> reports."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.findings import Location, Severity
from phoenix_ops.live.context import UNREACHABLE
from phoenix_ops.live.grade import GRADE, worst_of
from phoenix_ops.live.probe import run_probe
from phoenix_ops.live.target import (
    ProbeOptions,
    ProbeUsageError,
    TargetResult,
    build_targets,
    parse_header,
    parse_resolve,
    read_targets_file,
)
from phoenix_ops.report import FORMATS, render
from phoenix_ops.report.html import section_of
from phoenix_ops.rule import Rule


@dataclass
class ProbeArgs:
    urls: list[str]
    targets_file: Path | None
    fmt: str
    fail_level: str
    timeout: float
    budget: float | None
    insecure: bool
    ca_file: Path | None
    host_header: str | None
    resolve: list[str]
    header: list[str]
    cookie: str | None
    proxy: str | None
    http_port: int | None
    health: list[str]
    ws_idle: float
    active: bool
    max_body: int
    burst: int
    burst_path: str
    concurrency: int
    color: bool = False
    progress: bool = False


def options(a: ProbeArgs) -> ProbeOptions:
    if a.fmt not in FORMATS:
        raise ProbeUsageError(f"unknown format {a.fmt!r} (use {', '.join(FORMATS)})")
    if a.timeout <= 0 or (a.budget is not None and a.budget <= 0) or a.ws_idle < 0:
        raise ProbeUsageError("--timeout and --budget must be positive, --ws-idle not negative")
    if a.burst < 1 or a.burst > 1000 or a.concurrency < 1:
        raise ProbeUsageError("--burst must be 1 to 1000 and --concurrency at least 1")
    if a.ca_file and not a.ca_file.is_file():
        raise ProbeUsageError(f"--ca-file {a.ca_file} is not a file")
    return ProbeOptions(
        timeout=a.timeout, budget=a.budget, insecure=a.insecure, ca_file=str(a.ca_file) if a.ca_file else None,
        host_header=a.host_header, resolve=tuple(parse_resolve(r) for r in a.resolve),
        headers=tuple(parse_header(h) for h in a.header), cookie=a.cookie, proxy=a.proxy, http_port=a.http_port,
        health_paths=tuple(p if p.startswith("/") else f"/{p}" for p in a.health), ws_idle=a.ws_idle,
        active=a.active, max_body=a.max_body, burst=a.burst,
        burst_path=a.burst_path if a.burst_path.startswith("/") else f"/{a.burst_path}", concurrency=a.concurrency)


def summary(results: list[TargetResult]) -> dict:
    """Per-target facts for the JSON and HTML reports (no secrets: the session cookie is left out);
    a target given twice gets a #n suffix instead of hiding the first."""
    out: dict[str, dict] = {}
    for r in results:
        label, n = r.target.label, 2
        while label in out:
            label, n = f"{r.target.label} #{n}", n + 1
        out[label] = {"grade": r.grade, "score": r.score, **r.facts}
    return out


def not_run(results: list[TargetResult], opts: ProbeOptions) -> dict[str, str]:
    """Rules that had no chance to fire in this probe, and why: the report's checklist says so."""
    from phoenix_ops.live import limits, replay

    skipped: dict[str, str] = {}
    if not any("page_url" in r.facts for r in results):
        skipped |= dict.fromkeys(catalog("probe").ids() - {UNREACHABLE.id, GRADE.id}, "no target answered")
    if not opts.active:
        skipped |= dict.fromkeys(rule_ids(limits), "only with --active")
    if len({r.target.name for r in results}) == len(results):
        skipped |= dict.fromkeys(rule_ids(replay), "needs several nodes of one site (--resolve)")
    return skipped


def rule_ids(module) -> set[str]:
    return {v.id for v in vars(module).values() if isinstance(v, Rule) and v.kind == "probe"}


def html_report(results: list[TargetResult], findings: list, facts: dict, opts: ProbeOptions) -> str:
    """The grade is the page's card, not a finding; each site's findings are headed by its grade."""
    sections = {section_of(Location(url=r.target.url, node=r.target.addr)): r.grade for r in results}
    rules = [r for r in catalog("probe") if r.id != GRADE.id]
    return render([f for f in findings if f.rule_id != GRADE.id], "html", tool="probe", rules=rules,
                  extra={**facts, "section_grades": sections, "not_run": not_run(results, opts)})


def run_command(a: ProbeArgs) -> tuple[str, str, int]:
    """(report in the chosen format, HTML report, exit code)."""
    level = Severity.parse(a.fail_level)
    opts = options(a)
    urls = list(a.urls) + (read_targets_file(str(a.targets_file)) if a.targets_file else [])
    if not urls:
        raise ProbeUsageError("give at least one URL, or --targets FILE")
    targets = build_targets(urls, opts)
    done = 0

    def progress(result: TargetResult) -> None:
        nonlocal done
        done += 1
        sys.stderr.write(f"\rprobed {done}/{len(targets)}: {result.target.label[:60]:<60}")
        if done == len(targets):
            sys.stderr.write("\r" + " " * 80 + "\r")
        sys.stderr.flush()

    results = run_probe(targets, opts, progress if a.progress else None)
    findings = [f for r in results for f in r.findings]
    overall = worst_of(*(r.grade for r in results))
    facts = {"targets": summary(results), "grade": overall}
    html = html_report(results, findings, facts, opts)
    if a.fmt == "text":  # one block per target, headed by its grade, so nodes of one URL stay apart
        report = "\n".join(f"== {r.target.label}: grade {r.grade} ({r.score}/100)\n"
                           + render([f for f in r.findings if f.rule_id != GRADE.id], "text", color=a.color)
                           for r in results)
    else:
        report = html if a.fmt == "html" else render(findings, a.fmt, tool="probe", color=a.color, extra=facts, rules=catalog("probe"))
    code = int(any(f.severity >= level and not f.suppressed and f.rule_id != GRADE.id for f in findings))
    return report, html, code

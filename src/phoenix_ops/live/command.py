"""The probe command between the CLI and the checks: arguments -> options -> results -> reports."""

from __future__ import annotations

from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.command import NoProgress, Progress, Tail, checked, write_file
from phoenix_ops.findings import Finding, Location, redact_url
from phoenix_ops.live.context import INCOMPLETE, UNREACHABLE
from phoenix_ops.live.grade import GRADE, grade_label, worst_of
from phoenix_ops.live.probe import run_probe
from phoenix_ops.live.socket import WS_IDLE
from phoenix_ops.live.target import (
    ProbeOptions,
    ProbeUsageError,
    Target,
    TargetResult,
    build_targets,
    parse_header,
    parse_resolve,
    read_targets_file,
)
from phoenix_ops.record import record
from phoenix_ops.rule import Rule


@record
class ProbeArgs:
    urls: list[str]
    targets_file: Path | None
    timeout: float = 5.0
    budget: float | None = None
    insecure: bool = False
    ca_file: Path | None = None
    host_header: str | None = None
    resolve: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    cookie: str | None = None
    proxy: str | None = None
    http_port: int | None = None
    health: tuple[str, ...] = ()
    ws_idle: float = 0.0
    active: bool = False
    max_body: int = 10_000_000
    burst: int = 50
    burst_path: str = "/"
    concurrency: int = 16


def options(a: ProbeArgs) -> ProbeOptions:
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
        facts = {k: redact_url(v) if isinstance(v, str) else v for k, v in r.facts.items()}  # page_url
        out[label] = {"grade": r.grade, "score": r.score, **facts}
    return out


def prepare(a: ProbeArgs) -> tuple[list[Target], ProbeOptions]:
    """Targets and options from the arguments: every usage error before any network work."""
    opts = options(a)
    urls = list(a.urls) + (read_targets_file(str(a.targets_file)) if a.targets_file else [])
    if not urls:
        raise ProbeUsageError("give at least one URL, or --targets FILE")
    return build_targets(urls, opts), opts


@record
class ProbeRun:
    results: list[TargetResult]
    opts: ProbeOptions

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def facts(self, *, html: bool = False) -> dict:
        """The report's facts, with what its checklist needs: what could not run, what had nothing to judge."""
        facts = {"targets": summary(self.results), "grade": worst_of(*(r.grade for r in self.results)),
                 **checked(catalog("probe"), self.results, not_run(self.results, self.opts))}
        if html:  # the grade as the page's card and beside each site's heading
            facts |= {"section_grades": {_section(r.target): r.grade for r in self.results},
                      "grade_rule": GRADE.id}
        return facts

    def text(self, color: bool) -> str:
        """One block per target (URL via node), headed by its grade, so nodes of one URL stay apart;
        then the checklist of every target, a line per area (the grade is in the headings); with
        several targets, a last line counts them all as the JSON summary does."""
        from phoenix_ops.report.checklist import checklist_of
        from phoenix_ops.report.text import checklist_lines, render_text, summary_line

        def block(r: TargetResult, checklist=()) -> str:
            return f"== {r.target.label}: {grade_label(r.grade, r.score)}\n" + render_text(
                [f for f in r.findings if f.rule_id != GRADE.id], color=color, checklist=checklist)

        everything = [f for f in self.findings if f.rule_id != GRADE.id]
        checklist = checklist_of(everything, [r for r in catalog("probe") if r.id != GRADE.id], self.facts())
        if len(self.results) == 1:
            return block(self.results[0], checklist)
        return "\n".join([*map(block, self.results), *checklist_lines(checklist, color=color), "",
                          f"== {len(self.results)} targets: {summary_line(everything)}\n"])

    def finish(self, tail: Tail, html: Path | None = None) -> int:
        rules = catalog("probe")
        if html is not None:
            from phoenix_ops.report import render
            write_file(html, render(self.findings, "html", tool="probe", extra=self.facts(html=True), rules=rules))
        return tail.finish(self.findings, tool="probe", rules=rules, extra=self.facts(html=tail.fmt == "html"),
                           text=self.text)


def not_run(results: list[TargetResult], opts: ProbeOptions) -> dict[str, str]:
    """Rules that had no chance to fire in this probe, and why: the report's checklist says so."""
    from phoenix_ops.live import limits, replay, skew

    if not any("page_url" in r.facts for r in results):
        return dict.fromkeys(catalog("probe").ids() - {UNREACHABLE.id, GRADE.id}, "no target answered")
    skipped: dict[str, str] = {}
    if not opts.active:
        skipped |= dict.fromkeys(_rule_ids(limits), "only with --active")
    if not opts.ws_idle:
        skipped[WS_IDLE.id] = "only with --ws-idle"
    if len({r.target.name for r in results}) == len(results):
        skipped |= dict.fromkeys(_rule_ids(replay) | _rule_ids(skew), "needs several nodes of one site (--resolve)")
    return unfinished(results, opts) | skipped


def unfinished(results: list[TargetResult], opts: ProbeOptions) -> dict[str, str]:
    """The rules of each check that completed on no target (it ran out of time, or a redirect loop
    stopped the probe first): neither passed nor failed, WEB141 or WEB102 says why."""
    import sys

    from phoenix_ops.live.probe import checks

    done = set().union(*(r.facts.get("check_seconds", {}) for r in results))
    return {rule_id: f"the {name} check did not complete" for name, check, _ in checks(opts) if name not in done
            for rule_id in _rule_ids(sys.modules[check.__module__])}


def _rule_ids(module) -> set[str]:
    """The probe rules a check module judges (not those of every check it imports: WEB140, WEB141)."""
    return {v.id for v in vars(module).values() if isinstance(v, Rule) and v.kind == "probe"} - \
        {UNREACHABLE.id, INCOMPLETE.id}


def _section(target: Target) -> str:
    from phoenix_ops.report.html import section_of
    return section_of(Location(url=target.url, node=target.addr))


def probe(targets: list[Target], opts: ProbeOptions, progress: Progress | NoProgress) -> ProbeRun:
    done = 0

    def advance(result: TargetResult) -> None:
        nonlocal done
        done += 1
        progress.update(f"probed {done}/{len(targets)}: {result.target.label[:60]}")

    return ProbeRun(run_probe(targets, opts, advance), opts)

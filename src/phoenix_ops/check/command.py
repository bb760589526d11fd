"""`phoenix-ops check` between the CLI and the pipeline: which project(s), then the shared tail."""

from __future__ import annotations

import sys
from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.check.pipeline import CheckOptions, CheckResult, run_check
from phoenix_ops.command import Tail, UsageError, from_here, project_heading
from phoenix_ops.project import SeveralProjects, find_projects, find_root

# Several projects' reports share one output: text blocks, one JSON list, one SARIF run each.
ALL_FORMATS = ("text", "json", "sarif")


def run(path: Path, opts: CheckOptions, tail: Tail, *, all_projects: bool = False) -> int:
    """Audit the project at `path` (or every Phoenix project under it); the exit code."""
    rules = catalog("static", "audit", "envfile")  # env-file rules judge each deploy target
    if all_projects:
        if tail.fmt not in ALL_FORMATS:
            raise UsageError(f"--all writes {', '.join(ALL_FORMATS)}: one {tail.fmt} report holds one project")
        if opts.write_baseline:
            raise UsageError("--write-baseline records one project: name it instead of --all")
        roots = find_projects(path)
    else:
        try:
            roots = [find_root(path)]
        except SeveralProjects as exc:
            raise UsageError(f"{exc}, or give --all") from None
    results = []
    for root in roots:
        with tail.progress(f"auditing {from_here(root) or '.'}"):
            results.append(run_check(root, opts, rules))
    if opts.write_baseline:
        recorded = sum(1 for f in results[0].findings if not f.suppressed)
        if not tail.quiet:
            sys.stderr.write(f"baseline of {recorded} findings written to {opts.write_baseline}\n")
        return 0
    if len(results) == 1 and not all_projects:
        (result,) = results
        from phoenix_ops.report.text import render_text
        tables = [("Shutdown per deploy target", result.shutdown)] if result.shutdown else []
        def text(color: bool) -> str:
            from phoenix_ops.report.checklist import checklist_of
            body = render_text(result.findings, color=color, base=from_here(result.root), tables=tables,
                               checklist=checklist_of(result.findings, rules, _outcomes(result)))
            return body + (f"hint: {result.hint}\n" if result.hint else "")  # after the totals, as ruff's --fix note
        extra = {"project": result.summary, **_outcomes(result)}
        return tail.finish(result.findings, tool="check", rules=rules, extra=extra, text=text,
                           base=from_here(result.root), heading=_heading(result))
    from phoenix_ops.report import render_each
    tail.emit(render_each([(r.findings, {"project": r.summary, **_outcomes(r)}, from_here(r.root), _heading(r))
                           for r in results],
                          tail.fmt, tool="check", color=tail.color, rules=rules))
    return max(tail.gate(r.findings, rules) for r in results)


def _outcomes(result: CheckResult) -> dict:
    """The rules that did not run, had nothing to judge or could not tell, with why: the checklist's facts;
    and the hint on long-applied migrations, when there is one."""
    return {"not_run": result.not_run, "not_applicable": result.not_applicable,
            "not_determined": result.not_determined, **({"hint": result.hint} if result.hint else {})}


def _heading(result: CheckResult) -> str:
    return project_heading(result.root, result.summary)

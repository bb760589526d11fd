"""`phoenix-ops jobs`: read Oban's tables once (or every --watch seconds) and judge them."""

from __future__ import annotations

from pathlib import Path

from phoenix_ops.catalog import catalog
from phoenix_ops.command import Tail, checked
from phoenix_ops.findings import Finding
from phoenix_ops.jobs.reader import JobsError, read_view
from phoenix_ops.jobs.view import JobsView, Limits
from phoenix_ops.record import record


@record
class JobsArgs:
    database_url: str
    prefix: str = "public"
    limits: Limits = Limits()
    timeout: float = 5.0
    project: Path | None = None


def lock_version(project: Path) -> str | None:
    """Oban's version in the project's mix.lock (None when the project has no Oban)."""
    from phoenix_ops.project.files import SourceFile
    from phoenix_ops.project.mix import read_lock

    lock = project / "mix.lock"
    if not lock.is_file():
        raise JobsError(f"--project {project}: no mix.lock there")
    return read_lock(SourceFile("mix.lock", lock.read_bytes())).get("oban")


def diagnose(view: JobsView) -> list[Finding]:
    findings = [f for rule in catalog("jobs") for f in rule.check(view)]
    return sorted(findings, key=Finding.sort_key)


def examine(args: JobsArgs) -> tuple[JobsView, list[Finding]]:
    """One look at the database: the view and its findings (JobsError when it cannot be read)."""
    if not args.database_url:
        raise JobsError("give the database with --database-url (or DATABASE_URL)")
    view = read_view(args.database_url, args.prefix, limits=args.limits, timeout=args.timeout)
    if args.project:
        view.lock_version = lock_version(args.project)
    return view, diagnose(view)


def _text(view: JobsView, findings: list[Finding]):
    from phoenix_ops.jobs.table import render_table
    from phoenix_ops.report import render

    rules = catalog("jobs")

    def text(color: bool) -> str:
        return render_table(view) + "\n" + render(findings, "text", color=color, extra=checked(rules, [view]),
                                                   rules=rules)
    return text


def finish(tail: Tail, view: JobsView, findings: list[Finding]) -> int:
    """Text: the queue table then the findings; the other formats through the shared reporters."""
    rules = catalog("jobs")
    extra = {"jobs": view.to_dict()} if tail.fmt != "html" else \
        {"database": view.database, "schema": view.schema_version, "queues": len(view.queues)}
    return tail.finish(findings, tool="jobs", rules=rules, extra=extra | checked(rules, [view]),
                       text=_text(view, findings))


def watch_loop(args: JobsArgs, seconds: float, tail: Tail) -> int:
    """Look again every `seconds` until interrupted: a live table on a terminal, one report after
    another otherwise (each also exported with --prom-file). The exit code is the last look's."""
    import sys
    import time

    code = 0
    live = None
    if tail.on_terminal and tail.fmt == "text":
        from rich.console import Console
        from rich.live import Live
        live = Live(console=Console(), auto_refresh=False)
        live.start()
    try:
        while True:
            view, findings = examine(args)
            if live is None:
                code = finish(tail, view, findings)
                if not tail.quiet and tail.output is None:
                    sys.stdout.write("\n")
                    sys.stdout.flush()
            else:
                from rich.text import Text
                rules = catalog("jobs")
                text = tail.render(findings, tool="jobs", rules=rules, text=_text(view, findings))
                live.update(Text.from_ansi(f"{view.now:%H:%M:%S} UTC, every {seconds:g} s (Ctrl-C stops)\n\n"
                                           + text), refresh=True)
                tail.export(findings, tool="jobs", rules=rules)
                code = tail.gate(findings, rules)
            time.sleep(seconds)
    except KeyboardInterrupt:
        return code
    finally:
        if live is not None:
            live.stop()

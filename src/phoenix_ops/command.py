"""How every command ends, written once: format, output path, progress, rendering, writing, exit code.

A command builds its Tail from the options all commands share *before* doing any work, so a bad
format, fail level or output path costs nothing and never reaches the network:

    tail = Tail.build(fmt, output, fail_level, no_color=no_color, quiet=quiet)
    with tail.progress("reading the jobs table") as progress:
        findings = ...                        # progress.update("3/10 queues") on the way
    return tail.finish(findings, tool="jobs", rules=catalog("jobs"), extra={...})   # the exit code

Exit codes: 0 nothing shown at or above --fail-level, 1 findings, 2 usage or tool error (UsageError,
one line). Suppressed findings and informational rules (a grade, an inventory) never set the code.

Colour follows ruff: --no-color or a non-empty NO_COLOR turn it off, a non-empty FORCE_COLOR turns
it on when stdout is not a terminal; reports written with -o are never coloured. --quiet prints
nothing (a file asked for with -o is still written); only the exit code tells.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from phoenix_ops.findings import Finding, Severity
from phoenix_ops.record import field, record
from phoenix_ops.report import FORMATS
from phoenix_ops.rule import Rule, standings


class UsageError(ValueError):
    """Bad input from the user: reported in one line, exit code 2."""


def parse_format(fmt: str, formats: Sequence[str] = FORMATS) -> str:
    """The format in lower case, or a UsageError naming the accepted ones."""
    chosen = fmt.strip().lower()
    if chosen not in formats:
        raise UsageError(f"unknown format {fmt!r} (use {', '.join(formats)})")
    return chosen


def format_help(formats: Sequence[str] = FORMATS, what: str = "Output format") -> str:
    """The --format help text, listing exactly what parse_format accepts."""
    return f"{what}: {', '.join(formats[:-1])} or {formats[-1]}." if len(formats) > 1 else f"{what}: {formats[0]}."


def check_output(path: Path | None, option: str = "-o") -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"{option} {path}: is a directory; give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: no directory {parent}")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{option} {path}: not writable")


def color_wanted(no_color: bool, stream: TextIO) -> bool:
    """Colour on `stream`, as ruff decides it (see the module's docstring)."""
    if no_color or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return _isatty(stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def gate(findings: Iterable[Finding], level: Severity, rules: Mapping[str, Rule] | None = None) -> int:
    """1 when a shown finding of a gating rule is at or above `level`, else 0."""
    rules = rules or {}

    def counts(f: Finding) -> bool:
        return not f.suppressed and not (f.rule_id in rules and rules[f.rule_id].informational)
    return int(any(f.severity >= level for f in findings if counts(f)))


def write_file(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


class Progress:
    """One status line on stderr with a spinner, redrawn as work advances and wiped at the end."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, message: str, *, color: bool, stream: TextIO | None = None, tick: float = 0.1):
        import threading  # only a terminal watching gets a spinner: not loaded on every start

        self.text, self.color, self.tick = message, color, tick
        self.stream = stream or sys.stderr
        self._frame, self._lock, self._stop = 0, threading.Lock(), threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def update(self, text: str) -> None:
        with self._lock:
            self.text = text
            self._draw()

    def note(self, text: str) -> None:
        """A line that stays (a warning about the input), above the status line."""
        with self._lock:
            self.stream.write(f"\r\x1b[K{text}\n")
            self._draw()

    def _draw(self) -> None:
        frame = self.FRAMES[self._frame % len(self.FRAMES)]
        if self.color:
            frame = f"\x1b[36m{frame}\x1b[0m"
        self.stream.write(f"\r\x1b[K{frame} {self.text[:100]}")
        self.stream.flush()

    def _spin(self) -> None:
        while not self._stop.wait(self.tick):
            with self._lock:
                self._frame += 1
                self._draw()

    def __enter__(self) -> Progress:
        self.update(self.text)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


class NoProgress:
    """What `progress` gives when no one watches: updates go nowhere."""

    def update(self, text: str) -> None:
        pass

    def note(self, text: str) -> None:
        sys.stderr.write(f"{text}\n")

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


@record(frozen=True)
class Tail:
    fmt: str = "text"
    output: Path | None = None
    fail_level: Severity = Severity.WARNING
    no_color: bool = False
    quiet: bool = False
    # Extra files a command writes besides its report (probe --html): checked with -o.
    also: tuple[tuple[str, Path], ...] = field(default=())
    prom_file: Path | None = None  # the findings as Prometheus text, for the textfile collector

    @classmethod
    def build(cls, fmt: str = "text", output: Path | None = None, fail_level: str = "warning", *,
              no_color: bool = False, quiet: bool = False, formats: Sequence[str] = FORMATS,
              also: Mapping[str, Path | None] | None = None, prom_file: Path | None = None) -> Tail:
        """Check the shared options (UsageError on the first bad one)."""
        chosen = parse_format(fmt, formats)
        try:
            level = Severity.parse(fail_level)
        except ValueError as exc:
            raise UsageError(f"--fail-level: {exc}") from None
        check_output(output)
        extra = tuple((option, path) for option, path in (also or {}).items() if path is not None)
        for option, path in extra:
            check_output(path, option)
        check_output(prom_file, "--prom-file")
        return cls(chosen, output, level, no_color, quiet, extra, prom_file)

    @property
    def color(self) -> bool:
        """Colour in the report: only on stdout, never in a file."""
        return self.output is None and color_wanted(self.no_color, sys.stdout)

    @property
    def on_terminal(self) -> bool:
        """The text report goes to a person at a terminal (where a heading line helps)."""
        return self.output is None and not self.quiet and _isatty(sys.stdout)

    def progress(self, message: str) -> Progress | NoProgress:
        """A spinner on stderr when it is a terminal and output is wanted; else nothing."""
        if self.quiet or not _isatty(sys.stderr):
            return NoProgress()
        return Progress(message, color=color_wanted(self.no_color, sys.stderr))

    def render(self, findings: Sequence[Finding], *, tool: str, rules: Mapping[str, Rule],
               extra: dict | None = None, text: Callable[[bool], str] | None = None, base: str = "",
               heading: str = "") -> str:
        """The report in the chosen format. `text(color)` renders a command's own text layout (a node
        table, per-target blocks); `base` is the project root as seen from the current directory;
        `heading` (which project) opens a text report read at a terminal."""
        from phoenix_ops.report import render
        if self.fmt == "text":
            body = text(self.color) if text is not None else \
                render(findings, "text", color=self.color, extra=extra, rules=rules, base=base)
            return f"{heading}\n{body}" if heading and self.on_terminal else body
        return render(findings, self.fmt, tool=tool, color=self.color, extra=extra, rules=rules, base=base)

    def emit(self, report: str) -> None:
        """Write the report to -o, or to stdout unless quiet."""
        if self.output is not None:
            write_file(self.output, report)
        elif not self.quiet:
            sys.stdout.write(report)
            sys.stdout.flush()

    def finish(self, findings: Sequence[Finding], *, tool: str, rules: Mapping[str, Rule],
               extra: dict | None = None, text: Callable[[bool], str] | None = None, base: str = "",
               heading: str = "") -> int:
        """Render, write and gate: the command's exit code."""
        self.emit(self.render(findings, tool=tool, rules=rules, extra=extra, text=text, base=base, heading=heading))
        self.export(findings, tool=tool, rules=rules)
        return self.gate(findings, rules)

    def export(self, findings: Sequence[Finding], *, tool: str, rules: Mapping[str, Rule]) -> None:
        """--prom-file: the findings for the node exporter's textfile collector, written atomically."""
        if self.prom_file is None:
            return
        from phoenix_ops.report.prom import render_prom, write_atomic
        try:
            write_atomic(self.prom_file, render_prom(findings, tool, rules))
        except OSError as exc:
            raise UsageError(f"cannot write {self.prom_file}: {exc.strerror or exc}") from None

    def gate(self, findings: Iterable[Finding], rules: Mapping[str, Rule] | None = None) -> int:
        return gate(findings, self.fail_level, rules)


def checked(rules: Iterable[Rule], judged: Iterable | Mapping[str, Iterable],
            not_run: Mapping[str, str] | None = None) -> dict:
    """The facts a report's checklist is built from (JSON and HTML): the rules that did not run, with
    why, and those whose subject is missing from what they judged (each view a live command took, or
    those views by rule kind when rules of several kinds judge different things)."""
    return {"not_run": dict(not_run or {}), **standings(rules, judged)}


def from_here(root: Path) -> str:
    """`root` as the user reaches it: relative as given, or from the current directory when below
    it, else absolute ("" for the current directory itself)."""
    if root.is_absolute():
        try:
            root = root.relative_to(Path.cwd())
        except ValueError:
            return root.as_posix()
    rel = os.path.normpath(root)
    return "" if rel == "." else Path(rel).as_posix()


def project_heading(root: Path, summary: Mapping) -> str:
    """'project examples/shop: app shop, Phoenix 1.7.14, env prod' (which project was audited)."""
    parts = [f"app {summary.get('app') or '?'}" + (" (umbrella)" if summary.get("umbrella") else "")]
    if summary.get("phoenix"):
        parts.append(f"Phoenix {summary['phoenix']}")
    parts.append(f"env {summary.get('env')}")
    return f"project {from_here(root) or '.'}: {', '.join(parts)}"

"""OPS: files the audit could not read or understand. Rules use what parsed; these say what did not."""

from __future__ import annotations

from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.rule import rule


def _problems(project, kind):
    for p in project.problems:
        if p.kind == kind:
            yield p, Location(path=p.file, line=p.line)


@rule("OPS001", "unparsable-file", Severity.WARNING, Confidence.HIGH, kind="audit",
      title="A source file does not parse",
      why="""
      Rules see only what parses. A syntax error in config or mix.exs means settings the audit cannot
      see (and usually a build that fails); elsewhere it may be a construct the parser does not know.
      """,
      fix="Fix the syntax (`mix compile` shows the same place), or report the construct if the code compiles.")
def unparsable_file(project):
    for p, loc in _problems(project, "syntax"):
        yield unparsable_file.finding(f"{p.file} {p.message}", loc, key=p.file,
                                      severity=Severity.WARNING if p.important else Severity.INFO)


@rule("OPS002", "unreadable-file", Severity.INFO, Confidence.HIGH, kind="audit",
      title="A file was skipped: unreadable, binary or too large",
      why="The audit reads every Elixir source; a file it cannot read is a blind spot.",
      fix="Check the file's permissions and content; generated or vendored files can be excluded in .phoenix-ops.toml.")
def unreadable_file(project):
    for p, loc in _problems(project, "unreadable"):
        yield unreadable_file.finding(f"{p.file} {p.message}", loc, key=p.file)


@rule("OPS003", "missing-config-import", Severity.ERROR, Confidence.HIGH, kind="audit",
      title="import_config names a file that does not exist",
      why="`import_config` of a missing file stops compilation: the release cannot be built on a clean checkout.",
      fix="Create the file, remove the import, or guard it with `if File.exists?(...)`.")
def missing_import(project):
    for p, loc in _problems(project, "import"):
        yield missing_import.finding(p.message, loc, key=p.message,
                                     severity=None if p.important else Severity.INFO)


@rule("OPS005", "evaluation-budget-exceeded", Severity.WARNING, Confidence.HIGH, kind="audit",
      title="A config file or mix.exs asks for more evaluation work than the audit gives one file",
      why="""
      phoenix-ops evaluates config and mix.exs itself, with a budget of steps for each file and
      environment, so that no input can make it hang: imports that fan out, functions calling each
      other twice, nested comprehensions or values doubled again and again. Past the budget it stops
      there: every value the rest of the file would set is unknown, and rules about them stay quiet.
      """,
      fix="""
      Look at the line named: real config rarely needs loops or helpers that multiply work. Compute
      the value once, or build it in `runtime.exs` from an env var; if the file is right as it is,
      review the settings after that line by hand.
      """)
def evaluation_budget_exceeded(project):
    for p, loc in _problems(project, "budget"):
        yield evaluation_budget_exceeded.finding(f"{p.file}: {p.message}", loc, key=p.file)

"""The metrics a project defines with Telemetry.Metrics, and the reporter that exports them.

    counter("phoenix.endpoint.stop.count", tags: [:status])   ->  Metric("counter", "phoenix.endpoint.stop.count", ...)

Read from the modules that import Telemetry.Metrics (phx.new's `<App>Web.Telemetry`), with the name
as the literal string it is written as; a name built at run time is not listed."""

from __future__ import annotations

from phoenix_ops.elixir.parser import line, text
from phoenix_ops.elixir.syntax import call_args, call_parts
from phoenix_ops.project.files import FileSet
from phoenix_ops.record import record

KINDS = ("counter", "sum", "last_value", "summary", "distribution")
# Reporters in mix.exs deps, in the order a project is taken to use them.
REPORTERS = ("prom_ex", "telemetry_metrics_prometheus", "telemetry_metrics_prometheus_core", "peep")


@record(frozen=True)
class Metric:
    kind: str  # counter, sum, last_value, summary or distribution
    name: str  # the event-based name, with dots: "vm.memory.total"
    options: str  # the rest of the call as written (tags, unit, reporter_options)
    file: str
    line: int

    @property
    def exported(self) -> str:
        """The Prometheus name telemetry_metrics_prometheus gives it."""
        return self.name.replace(".", "_")


def telemetry_metrics(files: FileSet) -> list[Metric]:
    found: list[Metric] = []
    for rel, src in sorted(files.files.items()):
        if not rel.endswith(".ex") or b"Telemetry.Metrics" not in src.data:
            continue
        stack = [src.tree.root_node]
        while stack:
            node = stack.pop()
            if node.type == "call":
                module, fun = call_parts(node)
                args = call_args(node)
                if module in (None, "Telemetry.Metrics") and fun in KINDS and args and args[0].type == "string":
                    name = text(args[0]).strip('"')
                    if "#{" not in name:
                        rest = ", ".join(text(a) for a in args[1:])
                        found.append(Metric(fun, name, rest, rel, line(node)))
                    continue
            stack.extend(reversed(node.children))
    return found


def reporter(project) -> str | None:
    """The Prometheus reporter among the project's deps (a Project), if any."""
    return next((r for r in REPORTERS if project.has_dep(r)), None)

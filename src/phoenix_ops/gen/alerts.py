"""`gen alerts`: Prometheus alerting rules for the conditions `metrics` and `jobs` judge, on the
series names the project exports.

Names come from the exporter in the project's deps: PromEx (`<app>_prom_ex_...`), or the metrics the
telemetry module defines for telemetry_metrics_prometheus (a `summary` is dropped by that reporter,
so nothing is alerted on it). What the series cannot say (memory against the container's limit, an
orphaned Oban job) is alerted on the findings `phoenix-ops ... --prom-file` exports for the node
exporter's textfile collector."""

from __future__ import annotations

from phoenix_ops.gen.facts import AppFacts
from phoenix_ops.gen.plan import Change
from phoenix_ops.gen.templates import new_file
from phoenix_ops.project import Project
from phoenix_ops.project.telemetry import Metric, reporter, telemetry_metrics
from phoenix_ops.record import record

# The thresholds, as `metrics` uses them by default.
USAGE, RUN_QUEUE, QUANTILE, ECTO_QUEUE_MS, ECTO_QUERY_MS, ERROR_SHARE, QUEUE_LENGTH = \
    0.8, 2, 0.95, 50, 500, 0.05, 10_000
DEFAULT_LIMITS = {"process": 262_144, "atom": 1_048_576, "port": 65_536}
PLURAL = {"process": "Processes", "atom": "Atoms", "port": "Ports"}
STALE_SECONDS = 3600  # an export older than this: the timer that runs phoenix-ops stopped


@record(frozen=True)
class Alert:
    name: str
    expr: str
    for_: str
    severity: str
    rule: str  # the phoenix-ops rule that judges the same condition
    summary: str
    description: str


def promex_alerts(app: str) -> list[Alert]:
    p = f"{app}_prom_ex_"
    alerts = [
        Alert(f"Beam{PLURAL[r]}NearLimit",
              f"{p}beam_stats_{r}_count / {p}beam_system_{r}_limit_info > {USAGE}", "5m", "critical", "OBS100",
              f"{r} count near the BEAM's limit", f"{{{{ $labels.instance }}}}: {r} count at {{{{ $value | humanizePercentage }}}} of the limit")
        for r in ("process", "atom", "port")]
    alerts += [
        Alert("BeamRunQueueLong", f"{p}beam_stats_run_queue_count / {p}beam_system_schedulers_online_info > {RUN_QUEUE}",
              "10m", "warning", "OBS102", "run queue long for the schedulers",
              "{{ $labels.instance }}: {{ $value }} processes waiting per scheduler"),
        _quantile("EctoQueueTimeHigh", f"{p}ecto_repo_query_queue_time_milliseconds_bucket", ECTO_QUEUE_MS, "OBS106",
                  "queries wait for a pool connection"),
        _quantile("EctoQueryTimeHigh", f"{p}ecto_repo_query_execution_time_milliseconds_bucket", ECTO_QUERY_MS, "OBS107",
                  "database queries are slow"),
        _errors(f"{p}phoenix_http_requests_total", "status"),
        Alert("ObanQueueLong", f'sum by (queue) ({p}oban_queue_length_count{{state="available"}}) > {QUEUE_LENGTH}',
              "15m", "warning", "OBS109", "Oban queue backlog", "queue {{ $labels.queue }}: {{ $value }} jobs waiting"),
    ]
    return alerts


def telemetry_alerts(metrics: list[Metric]) -> list[Alert]:
    """Alerts on the names telemetry_metrics_prometheus gives the telemetry module's metrics."""
    by_name = {m.name: m for m in metrics if m.kind != "summary"}
    alerts = []
    for r in ("process", "atom", "port"):
        m = by_name.get(f"vm.system_counts.{r}_count")
        if m:
            alerts.append(Alert(f"Beam{PLURAL[r]}NearLimit", f"{m.exported} / {DEFAULT_LIMITS[r]} > {USAGE}", "5m",
                                "critical", "OBS100", f"{r} count near the BEAM's default limit",
                                f"{{{{ $labels.instance }}}}: {r} count at {{{{ $value | humanizePercentage }}}} of the default limit"))
    for suffix, alert, limit, rule_id, summary in (
            ("repo.query.queue_time", "EctoQueueTimeHigh", ECTO_QUEUE_MS, "OBS106", "queries wait for a pool connection"),
            ("repo.query.total_time", "EctoQueryTimeHigh", ECTO_QUERY_MS, "OBS107", "database queries are slow")):
        m = next((m for name, m in sorted(by_name.items()) if name.endswith(suffix) and m.kind == "distribution"), None)
        if m:
            alerts.append(_quantile(alert, f"{m.exported}_bucket", limit, rule_id, summary))
    counters = [m for m in by_name.values() if m.kind == "counter" and m.name.startswith("phoenix.")
                and ":status" in m.options]
    if counters:
        alerts.append(_errors(counters[0].exported, "status"))
    return alerts


def _quantile(name: str, bucket: str, limit_ms: float, rule_id: str, summary: str) -> Alert:
    return Alert(name, f"histogram_quantile({QUANTILE}, sum by (le, instance) (rate({bucket}[5m]))) > {limit_ms}",
                 "10m", "warning", rule_id, summary,
                 f"{{{{ $labels.instance }}}}: p{QUANTILE * 100:g} at {{{{ $value | humanize }}}} ms (limit {limit_ms} ms)")


def _errors(counter: str, label: str) -> Alert:
    return Alert("Http5xxShareHigh",
                 f'sum by (instance) (rate({counter}{{{label}=~"5.."}}[5m])) / '
                 f"sum by (instance) (rate({counter}[5m])) > {ERROR_SHARE}",
                 "5m", "critical", "OBS108", "many requests end in a 5xx error",
                 "{{ $labels.instance }}: {{ $value | humanizePercentage }} of requests are 5xx")


def export_alerts() -> list[Alert]:
    """Alerts on what `phoenix-ops jobs|metrics|probe|cluster --prom-file` exports."""
    return [
        Alert("PhoenixOpsErrorFinding", 'max by (command, rule, rule_name) (phoenix_ops_findings{severity="error"}) > 0',
              "0m", "critical", "", "phoenix-ops found an error",
              "{{ $labels.command }}: {{ $labels.rule }} {{ $labels.rule_name }} ({{ $value }} finding(s)); "
              "`phoenix-ops explain {{ $labels.rule }}` says how to fix it"),
        Alert("PhoenixOpsWarningFinding", 'max by (command, rule, rule_name) (phoenix_ops_findings{severity="warning"}) > 0',
              "30m", "warning", "", "phoenix-ops found a warning",
              "{{ $labels.command }}: {{ $labels.rule }} {{ $labels.rule_name }} ({{ $value }} finding(s))"),
        Alert("PhoenixOpsExportStale", f"time() - phoenix_ops_last_run_timestamp_seconds > {STALE_SECONDS}", "0m",
              "warning", "", "phoenix-ops has not run for an hour",
              "{{ $labels.command }} last exported {{ $value | humanizeDuration }} ago: is its timer running?"),
    ]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render_alerts(app: str, source: str, alerts: list[Alert]) -> str:
    lines = [f"# Prometheus alerting rules for {app}, written by `phoenix-ops gen alerts` from {source}.",
             "# Load them with `rule_files:` in prometheus.yml; `promtool check rules` validates this file.",
             "groups:"]
    groups = (("app", [a for a in alerts if a.rule]), ("phoenix-ops", [a for a in alerts if not a.rule]))
    for group, members in groups:
        if not members:
            continue
        lines += [f"  - name: {app}-{group}", "    rules:"]
        for a in members:
            lines += [f"      - alert: {a.name}", f"        expr: {_quote(a.expr)}", f"        for: {a.for_}",
                      "        labels:", f"          severity: {a.severity}"]
            if a.rule:
                lines.append(f"          phoenix_ops_rule: {a.rule}")
            lines += ["        annotations:", f"          summary: {_quote(a.summary)}",
                      f"          description: {_quote(a.description)}"]
    return "\n".join(lines) + "\n"


def alerts_for(project: Project, facts: AppFacts) -> tuple[str, list[Alert]]:
    """(where the names came from, the alerts)."""
    used = reporter(project)
    if used == "prom_ex":
        return f"PromEx's series ({facts.app}_prom_ex_...)", promex_alerts(facts.app) + export_alerts()
    metrics = telemetry_metrics(project.files)
    if metrics:
        dropped = sorted(m.name for m in metrics if m.kind == "summary")
        source = f"the metrics of the telemetry module ({used or 'no Prometheus reporter in the deps'})"
        if dropped and used in ("telemetry_metrics_prometheus", "telemetry_metrics_prometheus_core"):
            source += f"; summaries it drops are not alerted: {', '.join(dropped)}"
        return source, telemetry_alerts(metrics) + export_alerts()
    return "no metrics of the project (only phoenix-ops exports)", export_alerts()


def generate(project: Project, facts: AppFacts, target: str) -> list[Change]:
    source, alerts = alerts_for(project, facts)
    return [new_file(project, f"deploy/prometheus/{facts.release}-alerts.yml", render_alerts(facts.app, source, alerts),
                     f"Prometheus alerting rules on {source}")]

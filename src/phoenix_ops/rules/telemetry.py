"""OBS: telemetry, logging and metrics."""

from __future__ import annotations

from phoenix_ops.elixir.values import Atom, EnvRead, Expr, Lit, Seq, plain
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.patterns import mentions
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.endpoints import (
    AUTH_PLUG,
    authenticated,
    dev_only,
    endpoint_configs,
)
from phoenix_ops.rules.facts import where
from phoenix_ops.rules.subjects import deps_unread

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
# Libraries that poll VM measurements themselves (PromEx's BEAM plugin, APM agents).
VM_POLLERS = ("telemetry_poller", "prom_ex", "appsignal", "new_relic_agent", "datadog", "spandex_datadog")
EXPORTERS = ("prom_ex", "telemetry_metrics_prometheus", "telemetry_metrics_prometheus_core", "peep",
             "telemetry_metrics_statsd", "opentelemetry_exporter", "appsignal", "appsignal_phoenix",
             "new_relic_agent", "prometheus_ex", "prometheus_phoenix", "prometheus_plugs",
             "telemetry_metrics_cloudwatch", "honeycomb_opentelemetry_ex")
TRACERS = ("opentelemetry_phoenix", "opentelemetry_bandit", "opentelemetry_cowboy", "opentelemetry_ecto",
           "appsignal", "appsignal_phoenix", "new_relic_agent", "spandex", "spandex_phoenix")
JSON_LOGGERS = ("logger_json", "logstash_logger_formatter", "logger_logstash_backend", "ink", "logfmt_ex",
                "logger_formatter_json")
PROMETHEUS_DEPS = ("telemetry_metrics_prometheus", "telemetry_metrics_prometheus_core")
METRICS_TARGET = ("promex", "prometheus", "metrics")  # any case (see patterns.mentions)


def _mix(project) -> Location:
    return Location(path=project.mix.file, line=project.mix.module_line)


def _any_dep(project, names) -> bool:
    return any(project.has_dep(n) or n in project.lock for n in names)


def _none_of(project, check, names, message: str, key: str):
    """One finding at mix.exs when no dependency among `names` is present."""
    if not _any_dep(project, names):
        yield check.finding(message, _mix(project), key=key)


@rule("OBS001", "no-vm-measurements", Severity.INFO, H,
      title="Nothing measures the VM (no :telemetry_poller)",
      why="""
      Memory, run queue lengths and process counts are what show a node degrading before it falls
      over. `:telemetry_poller` (in the generated telemetry.ex) emits them every few seconds; without
      it no dashboard or alert can see them.
      """,
      fix='Add `{:telemetry_poller, "~> 1.0"}` and start `{:telemetry_poller, measurements: [...], period: '
          '10_000}` in the Telemetry supervisor, as `mix phx.new` does.')
def no_vm_measurements(project):
    yield from _none_of(project, no_vm_measurements, VM_POLLERS,
                        "no dependency polls VM measurements (telemetry_poller, PromEx, an APM)", "telemetry_poller")


@rule("OBS002", "no-metrics-export", Severity.INFO, M,
      title="Metrics are defined but exported nowhere",
      why="""
      `Telemetry.Metrics` definitions do nothing on their own: a reporter must send them somewhere
      (a Prometheus scrape, StatsD, OpenTelemetry, an APM). The generated app only shows them in
      LiveDashboard, which keeps no history and sees one node.
      """,
      fix="Add an exporter: PromEx or telemetry_metrics_prometheus (scraped at /metrics on an internal "
          "port), or an OpenTelemetry metrics exporter.")
def no_metrics_export(project):
    yield from _none_of(project, no_metrics_export, EXPORTERS, "no metrics exporter among the dependencies "
                        "(PromEx, Prometheus, StatsD, OpenTelemetry, an APM)", "exporter")


@rule("OBS003", "no-tracing", Severity.INFO, M,
      title="No distributed tracing of requests and queries",
      why="""
      A slow request is a chain: endpoint, LiveView, Ecto queries, HTTP calls. Traces
      (opentelemetry_phoenix, opentelemetry_ecto) show where the time went; metrics and logs alone
      show only that it went.
      """,
      fix="Add opentelemetry, opentelemetry_exporter, opentelemetry_phoenix (or opentelemetry_bandit) and "
          "opentelemetry_ecto, and call their `setup/0` in Application.start/2.")
def no_tracing(project):
    yield from _none_of(project, no_tracing, TRACERS,
                        "no tracing library among the dependencies (OpenTelemetry, an APM)", "tracing")


@rule("OBS004", "plug-telemetry-missing", Severity.WARNING, H,
      title="The endpoint does not plug Plug.Telemetry",
      why="""
      Plug.Telemetry emits the `[:phoenix, :endpoint, :start | :stop]` events that request duration
      metrics, request logs and tracing hang on. Without it, request latency is invisible.
      """,
      fix="Add `plug Plug.Telemetry, event_prefix: [:phoenix, :endpoint]` to the endpoint, after Plug.RequestId.")
def plug_telemetry_missing(project):
    for endpoint in project.endpoints:
        routers = [p for p in endpoint.plugs if p.module.endswith("Router")]
        if routers and endpoint.plug("Plug.Telemetry") is None:
            yield plug_telemetry_missing.finding(f"{endpoint.module} does not plug Plug.Telemetry",
                                                 Location(path=endpoint.file, line=endpoint.line), key=endpoint.module)
VERBOSE_LEVELS = ("info", "debug", "all")  # keep Phoenix's request lines; :debug is OBS005's matter


def _logger_level(project):
    """(the level in force, whether code the audit cannot read may set it). Without Logger's own
    level, that of the handler that prints (`:default_handler` since Elixir 1.15, the `:console`
    backend before): what it drops is never written."""
    view = project.config()
    for path in (("logger", "level"), ("logger", "default_handler", "level"), ("logger", "console", "level")):
        level = view.settled(*path)
        if level is not None or view.shadowed(*path) is not None:
            return level, view.shadowed(*path) is not None
    return None, False


@rule("OBS005", "logger-debug-in-prod", Severity.WARNING, H,
      title="Logger logs at :debug in prod",
      why="""
      At :debug, every Ecto query with its parameters and every socket message is logged: personal data
      in the logs, log volume that costs money and slows the node. Logger's own default is :debug, so
      a prod config that sets no level logs everything.
      """,
      fix="`config :logger, level: :info` in config/prod.exs (runtime.exs may read LOGGER_LEVEL to change it).")
def logger_debug_in_prod(project):
    level, unknown = _logger_level(project)
    if unknown:
        return
    name = plain(level)
    default = plain(level.default) if isinstance(level, EnvRead) else None
    if isinstance(name, Atom) and name.name == "debug" and not level.conditional:
        yield logger_debug_in_prod.finding(f"Logger level is :debug in {project.env}", where(level),
                                           key="logger")
    elif isinstance(level, EnvRead) and default == "debug":
        yield logger_debug_in_prod.finding(f"Logger level comes from {level.name}, :debug when it is unset",
                                           where(level), key="logger")
    elif level is None:
        yield logger_debug_in_prod.finding(f"no Logger level for {project.env}: Logger's default is :debug",
                                           Location(path=f"{project.config_dir}/config.exs", line=1), key="logger",
                                           confidence=M)


@rule("OBS006", "logger-level-fixed", Severity.INFO, L,
      title="The log level is fixed above :info, so request logs are dropped in every release",
      why="""
      Phoenix logs each request, and Ecto and Oban their work, at :info. A level of :warning or above
      fixed in config drops those lines on every node, and they are what an incident needs. A
      running node can be raised with `Logger.configure(level: :info)` over `bin/my_app rpc`, only
      until its next restart; a level read from LOGGER_LEVEL in runtime.exs is decided per deploy.
      (:info itself, the generator's choice, loses nothing and is not reported.)
      """,
      fix='In runtime.exs: `config :logger, level: String.to_existing_atom(System.get_env("LOGGER_LEVEL", '
          '"info"))`.')
def logger_level_fixed(project):
    level, unknown = _logger_level(project)
    if unknown or level is None or level.reads() or isinstance(level, Expr):
        return
    name = getattr(plain(level), "name", None)
    if isinstance(level, Lit) and level.origin is not None and name not in VERBOSE_LEVELS:
        yield logger_level_fixed.finding(f"Logger level is fixed to {plain(level)} in {level.origin.file}: "
                                         f"request and job logs (:info) are dropped", where(level), key="logger")


@rule("OBS007", "logs-unstructured", Severity.INFO, M,
      title="Prod logs are plain text, not structured (no JSON formatter)",
      why="""
      Log platforms (Loki, Datadog, CloudWatch) index fields of JSON lines: request id, user, duration.
      Plain text lines with metadata glued in are searchable only by regular expression.
      """,
      fix="Add logger_json and set it as the default formatter in prod (for Elixir 1.15+: "
          "`config :logger, :default_handler, formatter: {LoggerJSON.Formatters.Basic, []}`).")
def logs_unstructured(project):
    if _any_dep(project, JSON_LOGGERS):
        return
    view = project.config()
    if any("json" in _words(v).lower() for h in view.subtree("logger").values() for v in h):
        return
    yield logs_unstructured.finding("no JSON log formatter among the dependencies or in the Logger config",
                                    _mix(project), key="logger")


def _words(value) -> str:
    """The literal text and module names inside a value (a formatter tuple, a list of backends)."""
    if isinstance(value, Seq):
        return " ".join(_words(v) for v in value.items)
    if isinstance(value, Lit):
        return str(value.value)
    return getattr(value, "text", "")


PROMETHEUS = Subject("no Prometheus reporter (telemetry_metrics_prometheus) among the dependencies",
                     lambda project: _any_dep(project, PROMETHEUS_DEPS),
                     lambda project: deps_unread(project, PROMETHEUS_DEPS))


@rule("OBS008", "prometheus-drops-summaries", Severity.WARNING, H, subject=PROMETHEUS,
      title="telemetry_metrics_prometheus is fed `summary` metrics, which it drops",
      why="""
      The Prometheus reporter of Telemetry.Metrics does not support `summary` and skips those metrics
      (with a log line at start-up). The generated telemetry.ex defines every metric as a summary,
      so the scrape holds almost nothing.
      """,
      fix="Turn the summaries into `distribution(..., reporter_options: [buckets: [...]])` metrics for "
          "the Prometheus reporter.")
def prometheus_drops_summaries(project):
    started = any(name.startswith("TelemetryMetricsPrometheus") for name, _, _ in project.children)
    for metrics in project.usage.metrics:
        if metrics.summaries and (metrics.reporters or started):
            yield prometheus_drops_summaries.finding(
                f"{metrics.module} defines {len(metrics.summaries)} summary metrics and the Prometheus reporter "
                f"drops them", Location(path=metrics.file, line=metrics.summaries[0]), key=metrics.module)


METRICS_PLUGS = ("PromEx.Plug", "TelemetryMetricsPrometheus")


def _metrics_plugs(project):
    """(endpoint, plug) for each plug serving metrics, on any endpoint."""
    return [(e, p) for e in project.endpoints for p in e.plugs if p.module.startswith(METRICS_PLUGS)]


def _metrics_routes(project):
    """(router, route) for each route to a metrics plug or controller (LiveDashboard's pages are not a scrape)."""
    return [(r, route) for r in project.routers for route in r.routes
            if "metrics" in route.path and mentions(route.target, METRICS_TARGET) and route.verb != "live_dashboard"]


def _metrics_plug_unread(project) -> str | None:
    """An endpoint plug of the app's own named for metrics (a module calling a Prometheus exporter)."""
    plug = next(((e, p) for e in project.endpoints for p in e.plugs if mentions(p.module, METRICS_TARGET)), None)
    return f"{plug[0].module} plugs {plug[1].module}, which may serve metrics: the audit does not read it" \
        if plug else None


METRICS_SERVED = Subject("no endpoint plug or route serves metrics (a separate metrics server is not judged)",
                         lambda project: bool(_metrics_plugs(project) or _metrics_routes(project)),
                         _metrics_plug_unread)


@rule("OBS009", "metrics-endpoint-public", Severity.WARNING, M, subject=METRICS_SERVED,
      title="The metrics endpoint is served on the public endpoint without authentication",
      why="""
      /metrics shows request paths, queue names, database timings and sometimes tenant names. Mounted
      on the app's own endpoint, anyone can scrape it, and a scrape of many series is not cheap.
      """,
      fix="Serve metrics on a separate internal port (PromEx `metrics_server`, a second endpoint), or put "
          "the route behind authentication.")
def metrics_endpoint_public(project):
    public = {c.module for c in endpoint_configs(project) if c.serves_app}
    for endpoint, plug in _metrics_plugs(project):
        if endpoint.module in public and not dev_only(plug.guard):
            yield metrics_endpoint_public.finding(
                f"{endpoint.module} plugs {plug.module}: metrics are served to anyone reaching the app",
                Location(path=endpoint.file, line=plug.line), key=f"{endpoint.module}:{plug.module}")
    for router, route in _metrics_routes(project):
        if mentions(route.target, AUTH_PLUG) or dev_only(route.guard) or authenticated(router, route):
            continue
        yield metrics_endpoint_public.finding(
            f"{router.module} serves {route.path} ({route.target}) with no authentication in its pipelines",
            Location(path=router.file, line=route.line), key=f"{router.module}:{route.path}")

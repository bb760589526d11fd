"""The phoenix-ops command line: each command parses its options and hands over to a package below.

Every command that reports findings ends through `phoenix_ops.command.Tail` (format, -o, --fail-level,
colour, --quiet, progress, exit code). A new command declares the shared options with the
*_option() helpers below, builds its Tail first, and returns `tail.finish(...)`:

    @app.command()
    def jobs(..., fmt: str = format_option(), output: Optional[Path] = output_option(),
             fail_level: str = fail_level_option(), no_color: bool = no_color_option(),
             quiet: bool = quiet_option()) -> None:
        with usage_errors():
            tail = Tail.build(fmt, output, fail_level, no_color=no_color, quiet=quiet)
            from phoenix_ops.jobs.command import run
            code = run(..., tail)
        raise typer.Exit(code)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Optional

import typer

from phoenix_ops import __version__
from phoenix_ops.command import Tail, UsageError, format_help
from phoenix_ops.report import FORMATS

app = typer.Typer(
    name="phoenix-ops",
    help="Production readiness for Elixir/Phoenix applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def format_option(formats: Sequence[str] = FORMATS, what: str = "Output format"):
    return typer.Option("text", "--format", "-f", help=format_help(formats, what) + " Any case.")


def output_option(what: str = "the report"):
    return typer.Option(None, "--output", "-o", help=f"Write {what} to this file (its directory must exist).")


def fail_level_option():
    return typer.Option("warning", "--fail-level",
                        help="Exit 1 when a shown finding is at or above: error, warning or info.")


def no_color_option():
    return typer.Option(False, "--no-color", help="No colour, even on a terminal (as does NO_COLOR=1; "
                                                  "FORCE_COLOR=1 colours output that is not a terminal).")


def prom_file_option():
    return typer.Option(None, "--prom-file", help="Also write the findings as Prometheus text for the node "
                                                  "exporter's textfile collector (atomically).")


def quiet_option():
    return typer.Option(False, "--quiet", "-q", help="Print nothing (-o still writes its file); "
                                                     "only the exit code tells.")


@contextlib.contextmanager
def usage_errors(*more: type[BaseException]) -> Iterator[None]:
    """Bad input ends in one line on stderr and exit code 2, never a traceback."""
    try:
        yield
    except (UsageError, ValueError, OSError, *more) as exc:
        from phoenix_ops.reasons import reason
        typer.echo(f"phoenix-ops: error: {reason(exc)}", err=True)
        raise typer.Exit(2) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"phoenix-ops {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Audit, configure and operate Phoenix applications in production."""


@app.command()
def check(
    path: Path = typer.Argument(Path("."), help="The Phoenix project (directory with mix.exs)."),
    fmt: str = format_option(),
    output: Optional[Path] = output_option(),
    env: str = typer.Option("prod", "--env", help="Mix environment to audit."),
    fail_level: str = fail_level_option(),
    min_confidence: str = typer.Option("low", "--min-confidence", help="Hide findings below: high, medium or low."),
    select: Optional[str] = typer.Option(None, "--select",
                                         help="Only these rule ids, prefixes or names (comma-separated)."),
    ignore: Optional[str] = typer.Option(None, "--ignore",
                                         help="Skip these rule ids, prefixes or names (comma-separated)."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="Hide findings recorded in this baseline."),
    write_baseline: Optional[Path] = typer.Option(None, "--write-baseline",
                                                  help="Record the current findings as a baseline and exit 0."),
    all_projects: bool = typer.Option(False, "--all",
                                      help="Audit every Phoenix project under PATH, a report for each."),
    no_color: bool = no_color_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Static production-readiness audit of a Phoenix project."""
    from phoenix_ops.catalog import catalog
    from phoenix_ops.check.command import run
    from phoenix_ops.check.pipeline import CheckOptions
    from phoenix_ops.project import NotAPhoenixProject

    with usage_errors(NotAPhoenixProject):
        tail = Tail.build(fmt, output, fail_level, no_color=no_color, quiet=quiet,
                          also={"--write-baseline": write_baseline})
        opts = CheckOptions.build(env=env, min_confidence=min_confidence, select=select, ignore=ignore,
                                  baseline=baseline, write_baseline=write_baseline,
                                  rules=catalog("static", "audit"))
        code = run(path, opts, tail, all_projects=all_projects)
    raise typer.Exit(code)


@app.command("rules")
def list_rules(fmt: str = format_option(("text", "json"))) -> None:
    """List every rule with its id, default severity, kind and title."""
    import json

    from phoenix_ops.catalog import catalog
    from phoenix_ops.command import parse_format
    from phoenix_ops.report.json import describe_rule

    with usage_errors():
        fmt = parse_format(fmt, ("text", "json"))
    rules = catalog()
    if fmt == "json":
        typer.echo(json.dumps([{"id": r.id, **describe_rule(r)} for r in rules], indent=2))
        return
    for r in rules:
        severity = f"{r.severity.label}+" if r.raised else r.severity.label
        typer.echo(f"{r.id}  {severity:<8} {r.kind:<7} {r.name:<36} {r.title}")
    typer.echo("\n+ : some findings are more severe than the default; `phoenix-ops explain ID` says when.")


@app.command()
def explain(rule_id: str = typer.Argument(..., help="A rule id such as SEC001, or its name.")) -> None:
    """Print a rule's page: what it finds, why it matters, how to fix it."""
    from phoenix_ops.catalog import catalog
    from phoenix_ops.rule import AREAS, KINDS

    rules = catalog()
    r = rules.find(rule_id)
    if r is None:
        typer.echo(f"phoenix-ops: error: no rule {rule_id!r}{rules.suggest(rule_id)}; "
                   "`phoenix-ops rules` lists them", err=True)
        raise typer.Exit(2)
    typer.echo(f"{r.id} {r.name}\n{'=' * (len(r.id) + len(r.name) + 1)}\n")
    typer.echo(f"Area: {r.area} ({AREAS[r.area]}) · kind: {r.kind} ({KINDS[r.kind][0]}) · "
               f"severity: {r.severity.label} · confidence: {r.confidence.label}\n")
    if r.raised:
        typer.echo(f"Severity raised: {r.raised}\n")
    if r.informational:
        typer.echo("Information only: its findings never set the exit code.\n")
    typer.echo(f"{r.title}\n\nWhy it matters\n--------------\n{r.why}\n\nHow to fix\n----------\n{r.fix}")


@app.command()
def probe(
    urls: Optional[list[str]] = typer.Argument(None, help="URLs of the deployed app (several probe concurrently)."),
    targets: Optional[Path] = typer.Option(None, "--targets", help="File with one URL per line."),
    fmt: str = format_option(),
    output: Optional[Path] = output_option(),
    html: Optional[Path] = typer.Option(None, "--html", help="Also write an HTML report to this file."),
    prom_file: Optional[Path] = prom_file_option(),
    fail_level: str = fail_level_option(),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds for each network action."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Seconds for the whole probe of one target."),
    insecure: bool = typer.Option(False, "--insecure", "-k", help="Go on past invalid certificates (still reported)."),
    ca_file: Optional[Path] = typer.Option(None, "--ca-file", help="Trust this CA bundle instead of the system's."),
    host_header: Optional[str] = typer.Option(None, "--host-header", help="Host header and TLS name, to test one node."),
    resolve: list[str] = typer.Option([], "--resolve", help="HOST:PORT:ADDR (repeat one HOST for several nodes)."),
    header: list[str] = typer.Option([], "--header", "-H", help="'Name: value' sent with every request (auth)."),
    cookie: Optional[str] = typer.Option(None, "--cookie", help="Cookie header for pages behind login."),
    proxy: Optional[str] = typer.Option(None, "--proxy", help="HTTP(S) proxy URL."),
    http_port: Optional[int] = typer.Option(None, "--http-port", help="Port of plain HTTP (default 80)."),
    health: list[str] = typer.Option([], "--health", help="Health or readiness path (repeatable)."),
    ws_idle: float = typer.Option(0.0, "--ws-idle", help="Keep a socket idle this long, then heartbeat."),
    active: bool = typer.Option(False, "--active", help="Also send oversized requests and a bounded burst."),
    max_body: int = typer.Option(10_000_000, "--max-body", help="Body size of the --active body-limit test."),
    burst: int = typer.Option(50, "--burst", help="Requests of the --active burst (at most 10 s)."),
    burst_path: str = typer.Option("/", "--burst-path", help="Path the --active burst hits (e.g. /login)."),
    concurrency: int = typer.Option(16, "--concurrency", help="Targets probed at once."),
    no_color: bool = no_color_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Audit a running Phoenix deployment from outside: TLS, headers, cookies, sockets, assets, health."""
    from phoenix_ops.live.command import ProbeArgs, prepare
    from phoenix_ops.live.command import probe as run_probe

    with usage_errors():
        tail = Tail.build(fmt, output, fail_level, no_color=no_color, quiet=quiet, also={"--html": html},
                          prom_file=prom_file)
        args = ProbeArgs(urls or [], targets, timeout, budget, insecure, ca_file, host_header, tuple(resolve),
                         tuple(header), cookie, proxy, http_port, tuple(health), ws_idle, active, max_body, burst,
                         burst_path, concurrency)
        found, opts = prepare(args)
        with tail.progress(f"probing {len(found)} target{'s' if len(found) != 1 else ''}") as progress:
            result = run_probe(found, opts, progress)
        code = result.finish(tail, html)
    raise typer.Exit(code)


@app.command()
def secret(length: int = typer.Option(64, "--length", help="Characters (64 like mix phx.gen.secret).")) -> None:
    """Print a new secret suitable for SECRET_KEY_BASE."""
    from phoenix_ops.gen.secret import new_secret

    with usage_errors():
        typer.echo(new_secret(length))


@app.command()
def gen(
    kind: str = typer.Argument(..., help="release, docker, systemd, fly, k8s, health, alerts or all."),
    path: Path = typer.Argument(Path("."), help="The Phoenix project (directory with mix.exs)."),
    target: Optional[str] = typer.Option(None, "--target",
                                         help="docker, fly, k8s or systemd (default: what the deploy files show)."),
    write: bool = typer.Option(False, "--write", help="Write new files and apply patches (default: show the diff)."),
    force: bool = typer.Option(False, "--force", help="Also replace files that exist and differ."),
) -> None:
    """Write the production files a project is missing: a diff first, files only with --write."""
    from phoenix_ops.gen.command import GenUsageError, run_gen
    from phoenix_ops.project import NotAPhoenixProject

    with usage_errors(GenUsageError, NotAPhoenixProject):
        result = run_gen(path, kind, target, write=write, force=force)
    for note in result.notes:
        typer.echo(note, err=True)
    typer.echo(result.text, nl=False)
    raise typer.Exit(result.exit_code)


@app.command()
def cluster(
    hosts: Optional[str] = typer.Option(None, "--hosts",
                                        help="Comma-separated HOST, HOST:EPMD_PORT or NAME@HOST (one node)."),
    dns: list[str] = typer.Option([], "--dns", help="DNS name whose A/AAAA records are the nodes (DNSPoll, dns_cluster)."),
    srv: list[str] = typer.Option([], "--srv", help="DNS SRV name whose targets are the nodes (Kubernetes headless service)."),
    project: Optional[Path] = typer.Option(None, "--project", help="Discover as the project's libcluster/dns_cluster does."),
    env: str = typer.Option("prod", "--env", help="Mix environment of --project."),
    node_basename: Optional[str] = typer.Option(None, "--node-basename", help="Node name before @ (only these nodes)."),
    dist_port: Optional[int] = typer.Option(None, "--dist-port", help="Distribution port, for nodes without EPMD."),
    epmd_port: int = typer.Option(4369, "--epmd-port", help="EPMD port on hosts given without a port."),
    cookie_file: Optional[Path] = typer.Option(None, "--cookie-file",
                                               help="Cookie file (else RELEASE_COOKIE, else ~/.erlang.cookie)."),
    tls_ca: Optional[Path] = typer.Option(None, "--tls-ca", help="CA for nodes with TLS distribution."),
    tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", help="Client certificate for TLS distribution."),
    tls_key: Optional[Path] = typer.Option(None, "--tls-key", help="Key of --tls-cert."),
    nameserver: Optional[str] = typer.Option(None, "--nameserver", help="DNS server as IP or IP:PORT (default: system)."),
    timeout: float = typer.Option(3.0, "--timeout", help="Seconds for each network step."),
    expect: Optional[int] = typer.Option(None, "--expect", help="How many nodes the cluster should have."),
    picture: Optional[Path] = typer.Option(None, "--picture", help="Write a picture of the cluster (.svg, else HTML)."),
    prom_file: Optional[Path] = prom_file_option(),
    fmt: str = format_option(),
    output: Optional[Path] = output_option(),
    fail_level: str = fail_level_option(),
    no_color: bool = no_color_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Check a BEAM cluster from outside: discovery, EPMD, handshake, and each node's health."""
    from phoenix_ops.cluster.command import (
        ClusterArgs,
        build_options,
        finish,
        run_doctor,
    )

    with usage_errors():
        tail = Tail.build(fmt, output, fail_level, no_color=no_color, quiet=quiet, also={"--picture": picture},
                          prom_file=prom_file)
        opts = build_options(ClusterArgs(
            hosts=hosts, dns=tuple(dns), srv=tuple(srv), project=project, env=env, node_basename=node_basename,
            dist_port=dist_port, epmd_port=epmd_port, cookie_file=cookie_file, tls_ca=tls_ca, tls_cert=tls_cert,
            tls_key=tls_key, nameserver=nameserver, timeout=timeout, expect=expect))
        with tail.progress("looking for nodes") as progress:
            view, findings = run_doctor(opts, progress)
        if picture:
            from phoenix_ops.cluster.picture import write_picture
            write_picture(view, picture)
        code = finish(tail, view, findings)
    raise typer.Exit(code)


release_app = typer.Typer(help="Prove a built release boots and serves before it gets traffic.",
                          no_args_is_help=True)
app.add_typer(release_app, name="release")


@release_app.command("verify")
def release_verify(
    release: Path = typer.Argument(..., help="A built release: the directory `mix release` made, or its tarball."),
    env_files: list[Path] = typer.Option([], "--env-file", help="Dotenv file the release runs with (repeat)."),
    project: Optional[Path] = typer.Option(None, "--project",
                                           help="The project: its env contract, health path and stop budget."),
    health: list[str] = typer.Option([], "--health", help="Health or readiness path that must answer 200 (repeat)."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds for the release to boot and answer."),
    budget: Optional[float] = typer.Option(None, "--shutdown-budget",
                                           help="Seconds a graceful stop may take (default: the project's, else 30)."),
    no_probe: bool = typer.Option(False, "--no-probe", help="Skip the probe of headers, assets and exposure."),
    fmt: str = format_option(),
    output: Optional[Path] = output_option(),
    fail_level: str = fail_level_option(),
    no_color: bool = no_color_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Boot a release on a loopback port with its env file: runtime checks, health, probe, graceful stop."""
    from phoenix_ops.catalog import catalog
    from phoenix_ops.project import NotAPhoenixProject
    from phoenix_ops.release.verify import VerifyOptions, verify_release

    with usage_errors(NotAPhoenixProject):
        tail = Tail.build(fmt, output, fail_level, no_color=no_color, quiet=quiet)
        opts = VerifyOptions(release, env_files, project, health, timeout, budget, probe=not no_probe)
        with tail.progress(f"verifying {release}") as progress:
            result = verify_release(opts, progress)
        code = tail.finish(result.findings, tool="release verify", rules=catalog("release", "envfile", "probe"),
                           extra={"release": result.facts})
    raise typer.Exit(code)


def _ssh_options(known_hosts: Optional[Path], identity: Optional[Path]) -> dict:
    return {"known_hosts": str(known_hosts) if known_hosts else None, "identity": str(identity) if identity else None}


@app.command("deploy")
def deploy_command(
    args: Optional[list[str]] = typer.Argument(None, metavar="[RELEASE.tar.gz | status]",
                                               help="The release tarball to roll out, or `status` for the last deploy."),
    project: Path = typer.Option(Path("."), "--project", help="Where .phoenix-ops.toml ([deploy]) and the journal live."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan and the commands; connect to nothing."),
    resume: bool = typer.Option(False, "--resume", help="Finish the interrupted deploy the journal records."),
    allow_unsafe_migrations: bool = typer.Option(False, "--allow-unsafe-migrations",
                                                 help="Deploy even when pending migrations break the old code."),
    known_hosts: Optional[Path] = typer.Option(None, "--known-hosts", help="SSH known_hosts (default: ~/.ssh)."),
    identity: Optional[Path] = typer.Option(None, "--identity", help="SSH private key (default: agent, ~/.ssh)."),
    quiet: bool = quiet_option(),
) -> None:
    """Roll a release out to the hosts of [deploy]: rolling, blue-green or canary, gated, journaled."""
    from phoenix_ops.deploy.command import deploy, status
    from phoenix_ops.deploy.command import dry_run as plan_only
    from phoenix_ops.deploy.engine import DeployFailed

    with usage_errors():
        tail = Tail.build(quiet=quiet)
        args = args or []
        if args == ["status"]:
            tail.emit(status(project))
            raise typer.Exit(0)
        if len(args) != (0 if resume else 1):
            raise UsageError("deploy takes one release tarball, `status`, or --resume alone")
        tarball = Path(args[0]) if args else None
        if dry_run:
            tail.emit(plan_only(project, tarball))
            raise typer.Exit(0)
        with tail.progress("deploying") as progress:
            try:
                text = deploy(project, tarball, resume=resume, say=progress.note,
                              ssh=_ssh_options(known_hosts, identity), allow_unsafe_migrations=allow_unsafe_migrations)
            except DeployFailed as exc:
                typer.echo(f"phoenix-ops: deploy failed: {exc}", err=True)
                raise typer.Exit(1) from None
        tail.emit(text)
    raise typer.Exit(0)


@app.command("rollback")
def rollback_command(
    project: Path = typer.Option(Path("."), "--project", help="Where .phoenix-ops.toml ([deploy]) and the journal live."),
    known_hosts: Optional[Path] = typer.Option(None, "--known-hosts", help="SSH known_hosts (default: ~/.ssh)."),
    identity: Optional[Path] = typer.Option(None, "--identity", help="SSH private key (default: agent, ~/.ssh)."),
    quiet: bool = quiet_option(),
) -> None:
    """Put back on every host what it ran before the last deploy (the journal says what)."""
    from phoenix_ops.deploy.command import rollback
    from phoenix_ops.deploy.engine import DeployFailed

    with usage_errors():
        tail = Tail.build(quiet=quiet)
        with tail.progress("rolling back") as progress:
            try:
                text = rollback(project, say=progress.note, ssh=_ssh_options(known_hosts, identity))
            except DeployFailed as exc:
                typer.echo(f"phoenix-ops: rollback failed: {exc}", err=True)
                raise typer.Exit(1) from None
        tail.emit(text)
    raise typer.Exit(0)


@app.command()
def jobs(
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="DATABASE_URL",
                                               help="PostgreSQL URL of the app's database (else DATABASE_URL)."),
    prefix: str = typer.Option("public", "--prefix", help="Schema of Oban's tables (Oban's :prefix)."),
    project: Optional[Path] = typer.Option(None, "--project", help="Compare the schema with Oban in its mix.lock."),
    live_node: list[str] = typer.Option([], "--live-node", help="A node known to be running (repeat); sharpens orphans."),
    grace: float = typer.Option(300, "--grace", help="Seconds before an executing job on a gone node is an orphan."),
    stall: float = typer.Option(300, "--stall", help="Seconds past due before a queue counts as stalled."),
    max_depth: int = typer.Option(10_000, "--max-depth", help="Available jobs in one queue before a backlog finding."),
    max_retryable: int = typer.Option(100, "--max-retryable", help="Retryable jobs of one worker before a finding."),
    max_discards: int = typer.Option(10, "--max-discards", help="Discards of one worker in an hour before a warning."),
    max_errors: int = typer.Option(100, "--max-errors", help="Failed attempts of one worker in an hour."),
    retention: float = typer.Option(7 * 86400, "--retention", help="Seconds finished jobs may be kept (Pruner)."),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds to connect and for each statement."),
    watch: Optional[float] = typer.Option(None, "--watch", help="Repeat every SECONDS (a live table on a terminal)."),
    fmt: str = format_option(),
    output: Optional[Path] = output_option(),
    prom_file: Optional[Path] = prom_file_option(),
    fail_level: str = fail_level_option(),
    no_color: bool = no_color_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Diagnose Oban in PostgreSQL, read-only: orphans, stalled queues, failures, pruning, bloat."""
    from phoenix_ops.jobs.command import JobsArgs, examine, finish, watch_loop
    from phoenix_ops.jobs.reader import JobsError
    from phoenix_ops.jobs.view import Limits

    with usage_errors(JobsError):
        tail = Tail.build(fmt, output, fail_level, no_color=no_color, quiet=quiet, prom_file=prom_file)
        if watch is not None and watch <= 0:
            raise UsageError("--watch takes a positive number of seconds")
        limits = Limits(grace=grace, stall=stall, max_depth=max_depth, max_retryable=max_retryable,
                        max_discards=max_discards, max_errors=max_errors, retention=retention,
                        live_nodes=tuple(live_node))
        args = JobsArgs(database_url or "", prefix, limits, timeout, project)
        if watch:
            raise typer.Exit(watch_loop(args, watch, tail))
        with tail.progress("reading Oban's tables"):
            view, findings = examine(args)
        code = finish(tail, view, findings)
    raise typer.Exit(code)


@app.command()
def metrics(
    urls: Optional[list[str]] = typer.Argument(None, help="Prometheus endpoints of the nodes (…/metrics)."),
    interval: float = typer.Option(5.0, "--interval", help="Seconds between the two scrapes (0: one scrape, no rates)."),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds for each scrape."),
    header: list[str] = typer.Option([], "--header", "-H", help="'Name: value' sent with each scrape (auth)."),
    project: Optional[Path] = typer.Option(None, "--project", help="Expect what the project's deps and telemetry define."),
    mem_limit: Optional[str] = typer.Option(None, "--memory-limit",
                                            help="Container memory limit: 512Mi, 2G, bytes, or a cgroup memory.max file."),
    schedulers: Optional[int] = typer.Option(None, "--schedulers", help="Schedulers, when the scrape does not say."),
    usage: float = typer.Option(0.8, "--usage", help="Share of a process/atom/port/ETS limit that is too near."),
    memory_share: float = typer.Option(0.8, "--memory-share", help="Share of --memory-limit that is too near."),
    run_queue: float = typer.Option(2.0, "--run-queue", help="Run queue per scheduler that is too long."),
    ecto_queue_ms: float = typer.Option(50, "--ecto-queue-ms", help="Ecto queue time at p95 that is too long."),
    ecto_query_ms: float = typer.Option(500, "--ecto-query-ms", help="Ecto query time at p95 that is too long."),
    error_share: float = typer.Option(0.05, "--error-share", help="Share of 5xx between the scrapes that is too high."),
    max_queue_length: int = typer.Option(10_000, "--max-queue-length", help="Oban queue length that is too long."),
    fmt: str = format_option(),
    output: Optional[Path] = output_option(),
    prom_file: Optional[Path] = prom_file_option(),
    fail_level: str = fail_level_option(),
    no_color: bool = no_color_option(),
    quiet: bool = quiet_option(),
) -> None:
    """Judge a node's Prometheus metrics: VM limits, memory, run queue, Ecto timings, 5xx share, Oban."""
    from phoenix_ops.metrics.command import MetricsArgs, examine, finish, memory_limit
    from phoenix_ops.metrics.scrape import MetricsError
    from phoenix_ops.metrics.view import Limits

    with usage_errors(MetricsError):
        tail = Tail.build(fmt, output, fail_level, no_color=no_color, quiet=quiet, prom_file=prom_file)
        headers = dict(_header(h) for h in header)
        limits = Limits(usage=usage, memory_limit=memory_limit(mem_limit), memory_share=memory_share,
                        schedulers=schedulers, run_queue_factor=run_queue, ecto_queue=ecto_queue_ms / 1000,
                        ecto_query=ecto_query_ms / 1000, error_share=error_share, max_queue_length=max_queue_length)
        args = MetricsArgs(urls or [], interval, timeout, limits, headers, project)
        with tail.progress("scraping") as progress:
            views, findings = examine(args, progress.update)
        code = finish(tail, views, findings)
    raise typer.Exit(code)


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"--header {text!r}: use 'Name: value'")
    return name.strip(), value.strip()


@app.command("env")
def env_command(
    args: Optional[list[str]] = typer.Argument(None, metavar="[check] [PATH]",
                                               help="`check` to judge env files; then the project directory."),
    env: Optional[str] = typer.Option(None, "--env", help="One Mix environment (default: all; for check: prod)."),
    fmt: str = typer.Option("text", "--format", "-f",
                            help="env: text, json, dotenv-example or html; env check: text, json, sarif or html. Any case."),
    env_files: list[Path] = typer.Option([], "--env-file", help="Dotenv file to check (repeat; later ones win)."),
    targets: list[Path] = typer.Option([], "--target", help="Deploy file or folder to check as a target "
                                       "(fly.toml, deploy/k8s/, docker-compose.yml, a .service unit; repeat)."),
    output: Optional[Path] = output_option("the output"),
    fail_level: str = fail_level_option(),
    no_color: bool = no_color_option(),
    quiet: bool = quiet_option(),
) -> None:
    """The env-var contract: every variable the project reads. `env check` judges env files against it.

    A project directory literally named `check` is given as `./check`.
    """
    from phoenix_ops.envcontract.command import (
        EnvOptions,
        formats,
        run_check,
        run_contract,
        split_args,
    )
    from phoenix_ops.project import NotAPhoenixProject

    with usage_errors(NotAPhoenixProject):
        checking, path = split_args(args or [])
        tail = Tail.build(fmt, output, fail_level, no_color=no_color, quiet=quiet, formats=formats(checking))
        code = (run_check if checking else run_contract)(path, EnvOptions(env, env_files, targets), tail)
    raise typer.Exit(code)


def run() -> None:
    """The entry point: a crash exits 3 with one line on stderr (phoenix_ops.crash); --debug shows it all."""
    from phoenix_ops.crash import guarded

    guarded(app)


if __name__ == "__main__":
    run()

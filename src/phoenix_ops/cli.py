"""The phoenix-ops command line: each command parses its options and hands over to a package below.

Built on the standard library's argparse, and only the chosen command's parser is built: start-up
is most of what a `check` of a small project costs. A command is one function taking the parsed
options and returning the exit code, declared with its options beside it. Every command that reports
findings ends through `phoenix_ops.command.Tail` (format, -o, --fail-level, colour, --quiet,
progress, exit code): it declares the shared options with *TAIL (or the *_option() helpers), builds
its Tail first from them, and returns `tail.finish(...)`:

    @command(option("--grace", type=float, default=300, help="Seconds before ..."), *TAIL)
    def jobs(a: Namespace) -> int:
        \"\"\"Diagnose Oban in PostgreSQL.\"\"\"
        with usage_errors():
            tail = build_tail(a)
            from phoenix_ops.jobs.command import run
            return run(..., tail)

Options keep the names of their long flag (`--fail-level` is `a.fail_level`). Usage errors end in
one line on stderr, `phoenix-ops: error: ...`, and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from phoenix_ops import __version__
from phoenix_ops.command import Tail, UsageError, format_help
from phoenix_ops.report import FORMATS

Namespace = argparse.Namespace
# argparse passes its own words ("options", "show this help message and exit") through gettext, whose
# first lookup imports `locale` and searches the disk for a catalogue: there is none for them, and
# phoenix-ops speaks English. They are taken as written.
argparse._ = str
PROG = "phoenix-ops"
SUMMARY = "Production readiness for Elixir/Phoenix applications."
USAGE_EXIT = 2


# One positional argument or option: the names and settings `ArgumentParser.add_argument` takes.
Argument = tuple[tuple[str, ...], dict]


def argument(name: str, *, help: str, default: object = None, optional: bool = False, many: bool = False,
             type: Callable = str, metavar: str | None = None) -> Argument:
    """A positional argument: required, `optional` (one, else `default`) or `many` (any number)."""
    nargs = "*" if many else "?" if optional else None
    settings = {"help": help, "type": type, "metavar": metavar or name.upper()}
    if nargs:
        settings.update(nargs=nargs, default=[] if many else default)
    return (name,), settings


def option(*flags: str, help: str, default: object = None, type: Callable = str, repeat: bool = False,
           flag: bool = False, metavar: str | None = None) -> Argument:
    """An option taking a value (the last one given wins, or every one with `repeat`), or a `flag`."""
    if flag:
        return flags, {"help": help, "action": "store_true"}
    if default is not None:
        help = f"{help} [default: {default}]"
    settings = {"help": help, "type": type, "default": [] if repeat else default,
                "metavar": metavar or type.__name__.upper().replace("STR", "TEXT")}
    if repeat:
        settings["action"] = "append"
    return flags, settings


def format_option(formats: Sequence[str] = FORMATS, what: str = "Output format") -> Argument:
    return option("-f", "--format", default="text", help=format_help(formats, what) + " Any case.")


def output_option(what: str = "the report") -> Argument:
    return option("-o", "--output", type=Path, help=f"Write {what} to this file (its directory must exist).")


FAIL_LEVEL = option("--fail-level", default="warning",
                    help="Exit 1 when a shown finding is at or above: error, warning or info.")
NO_COLOR = option("--no-color", flag=True, help="No colour, even on a terminal (as does NO_COLOR=1; "
                                               "FORCE_COLOR=1 colours output that is not a terminal).")
QUIET = option("-q", "--quiet", flag=True, help="Print nothing (-o still writes its file); only the exit code tells.")
PROM_FILE = option("--prom-file", type=Path, help="Also write the findings as Prometheus text for the node "
                                                  "exporter's textfile collector (atomically).")
# What every command that reports findings takes: see build_tail.
TAIL = (format_option(), output_option(), FAIL_LEVEL, NO_COLOR, QUIET)
PROJECT_PATH = argument("path", type=Path, optional=True, default=Path("."),
                        help="The Phoenix project (directory with mix.exs). [default: .]")
SSH = (option("--known-hosts", type=Path, help="SSH known_hosts (default: ~/.ssh)."),
       option("--identity", type=Path, help="SSH private key (default: agent, ~/.ssh)."))
DEPLOY_PROJECT = option("--project", type=Path, default=Path("."),
                        help="Where .phoenix-ops.toml ([deploy]) and the journal live.")


def build_tail(a: Namespace, formats: Sequence[str] = FORMATS, **more) -> Tail:
    """The shared options checked before any work (UsageError on the first bad one)."""
    return Tail.build(a.format, a.output, a.fail_level, no_color=a.no_color, quiet=a.quiet, formats=formats, **more)


@contextlib.contextmanager
def usage_errors(*more: type[BaseException]) -> Iterator[None]:
    """Bad input ends in one line on stderr and exit code 2, never a traceback."""
    try:
        yield
    except (UsageError, ValueError, OSError, *more) as exc:
        from phoenix_ops.reasons import reason
        sys.stderr.write(f"{PROG}: error: {reason(exc)}\n")
        raise SystemExit(USAGE_EXIT) from None


def echo(text: str = "", *, err: bool = False) -> None:
    (sys.stderr if err else sys.stdout).write(f"{text}\n")


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    """argparse's own formatter, told the width: left to find it, it imports shutil (and with it the
    compression modules) whenever a parser is built, help asked or not."""
    try:
        columns = int(os.environ.get("COLUMNS") or os.get_terminal_size(sys.__stdout__.fileno()).columns)
    except (AttributeError, ValueError, OSError):
        columns = 80
    return argparse.RawDescriptionHelpFormatter(prog, width=columns - 2)


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors in one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{PROG}: error: {message} (`{self.prog} -h` for help)\n")
        raise SystemExit(USAGE_EXIT)


class Command:
    def __init__(self, name: str, run: Callable[[Namespace], int | None], arguments: tuple[Argument, ...]):
        self.name, self.run, self.arguments = name, run, arguments

    @property
    def summary(self) -> str:
        return self.help.split("\n")[0]

    @property
    def help(self) -> str:
        first, _, rest = self.run.__doc__.strip().partition("\n")
        if not rest:
            return f"{first}\n"
        import textwrap  # compiles its patterns on import: only a help text of several lines needs it

        return f"{first}\n{textwrap.dedent(rest)}"

    def parser(self) -> Parser:
        parser = Parser(prog=f"{PROG} {self.name}", description=self.help, allow_abbrev=False,
                        formatter_class=_help_formatter)
        for flags, settings in self.arguments:
            parser.add_argument(*flags, **settings)
        return parser

    def parse(self, args: Sequence[str]) -> Namespace:
        """The arguments given. Positional ones may stand among the options (`gen docker --write app`):
        only argparse's intermixed parsing sorts them out when a command takes several, or any
        number, of them. It formats the usage text first, whether an error needs it or not: a command
        taking at most one is parsed plainly."""
        parser = self.parser()
        positional = [settings for flags, settings in self.arguments if not flags[0].startswith("-")]
        if len(positional) > 1 or any(settings.get("nargs") == "*" for settings in positional):
            return parser.parse_intermixed_args(args)
        return parser.parse_args(args)


COMMANDS: dict[str, Command] = {}
# Commands grouped under a first word (`release verify`), with what the group is for.
GROUPS = {"release": "Prove a built release boots and serves before it gets traffic."}


def command(*arguments: Argument, name: str | None = None):
    """Declare a command: the function's docstring is its help, its first line the summary."""
    def register(run: Callable[[Namespace], int | None]):
        key = name or run.__name__
        COMMANDS[key] = Command(key, run, arguments)
        return run
    return register


@command(PROJECT_PATH, *TAIL,
         option("--env", default="prod", help="Mix environment to audit."),
         option("--min-confidence", default="low", help="Hide findings below: high, medium or low."),
         option("--select", help="Only these rule ids, prefixes or names (comma-separated)."),
         option("--ignore", help="Skip these rule ids, prefixes or names (comma-separated)."),
         option("--baseline", type=Path, help="Hide findings recorded in this baseline."),
         option("--write-baseline", type=Path, help="Record the current findings as a baseline and exit 0."),
         option("--all", flag=True, help="Audit every Phoenix project under PATH, a report for each."))
def check(a: Namespace) -> int:
    """Static production-readiness audit of a Phoenix project."""
    from phoenix_ops.catalog import catalog
    from phoenix_ops.check.command import run
    from phoenix_ops.check.pipeline import CheckOptions
    from phoenix_ops.project import NotAPhoenixProject

    with usage_errors(NotAPhoenixProject):
        tail = build_tail(a, also={"--write-baseline": a.write_baseline})
        opts = CheckOptions.build(env=a.env, min_confidence=a.min_confidence, select=a.select, ignore=a.ignore,
                                  baseline=a.baseline, write_baseline=a.write_baseline,
                                  rules=catalog("static", "audit"))
        return run(a.path, opts, tail, all_projects=a.all)


@command(format_option(("text", "json")), name="rules")
def list_rules(a: Namespace) -> int:
    """List every rule with its id, default severity, kind and title."""
    import json

    from phoenix_ops.catalog import catalog
    from phoenix_ops.command import parse_format
    from phoenix_ops.report.json import describe_rule

    with usage_errors():
        fmt = parse_format(a.format, ("text", "json"))
    rules = catalog()
    if fmt == "json":
        echo(json.dumps([{"id": r.id, **describe_rule(r)} for r in rules], indent=2))
        return 0
    for r in rules:
        severity = f"{r.severity.label}+" if r.raised else r.severity.label
        echo(f"{r.id}  {severity:<8} {r.kind:<7} {r.name:<36} {r.title}")
    echo("\n+ : some findings are more severe than the default; `phoenix-ops explain ID` says when.")
    return 0


@command(argument("rule_id", metavar="RULE", help="A rule id such as SEC001, or its name."))
def explain(a: Namespace) -> int:
    """Print a rule's page: what it finds, why it matters, how to fix it."""
    from phoenix_ops.catalog import catalog
    from phoenix_ops.rule import AREAS, KINDS

    rules = catalog()
    r = rules.find(a.rule_id)
    if r is None:
        echo(f"{PROG}: error: no rule {a.rule_id!r}{rules.suggest(a.rule_id)}; `phoenix-ops rules` lists them",
             err=True)
        return USAGE_EXIT
    echo(f"{r.id} {r.name}\n{'=' * (len(r.id) + len(r.name) + 1)}\n")
    echo(f"Area: {r.area} ({AREAS[r.area]}) · kind: {r.kind} ({KINDS[r.kind][0]}) · "
         f"severity: {r.severity.label} · confidence: {r.confidence.label}\n")
    if r.raised:
        echo(f"Severity raised: {r.raised}\n")
    if r.informational:
        echo("Information only: its findings never set the exit code.\n")
    echo(f"{r.title}\n\nWhy it matters\n--------------\n{r.why}\n\nHow to fix\n----------\n{r.fix}")
    return 0


@command(argument("urls", many=True, metavar="URL", help="URLs of the deployed app (several probe concurrently)."),
         option("--targets", type=Path, help="File with one URL per line."),
         *TAIL,
         option("--html", type=Path, help="Also write an HTML report to this file."),
         PROM_FILE,
         option("--timeout", type=float, default=5.0, help="Seconds for each network action."),
         option("--budget", type=float, help="Seconds for the whole probe of one target."),
         option("-k", "--insecure", flag=True, help="Go on past invalid certificates (still reported)."),
         option("--ca-file", type=Path, help="Trust this CA bundle instead of the system's."),
         option("--host-header", help="Host header and TLS name, to test one node."),
         option("--resolve", repeat=True, help="HOST:PORT:ADDR (repeat one HOST for several nodes)."),
         option("-H", "--header", repeat=True, help="'Name: value' sent with every request (auth)."),
         option("--cookie", help="Cookie header for pages behind login."),
         option("--proxy", help="HTTP(S) proxy URL."),
         option("--http-port", type=int, help="Port of plain HTTP (default 80)."),
         option("--health", repeat=True, help="Health or readiness path (repeatable)."),
         option("--ws-idle", type=float, default=0.0, help="Keep a socket idle this long, then heartbeat."),
         option("--active", flag=True, help="Also send oversized requests and a bounded burst."),
         option("--max-body", type=int, default=10_000_000, help="Body size of the --active body-limit test."),
         option("--burst", type=int, default=50, help="Requests of the --active burst (at most 10 s)."),
         option("--burst-path", default="/", help="Path the --active burst hits (e.g. /login)."),
         option("--concurrency", type=int, default=16, help="Targets probed at once."))
def probe(a: Namespace) -> int:
    """Audit a running Phoenix deployment from outside: TLS, headers, cookies, sockets, assets, health."""
    from phoenix_ops.live.command import ProbeArgs, prepare
    from phoenix_ops.live.command import probe as run_probe

    with usage_errors():
        tail = build_tail(a, also={"--html": a.html}, prom_file=a.prom_file)
        args = ProbeArgs(a.urls, a.targets, a.timeout, a.budget, a.insecure, a.ca_file, a.host_header,
                         tuple(a.resolve), tuple(a.header), a.cookie, a.proxy, a.http_port, tuple(a.health),
                         a.ws_idle, a.active, a.max_body, a.burst, a.burst_path, a.concurrency)
        found, opts = prepare(args)
        with tail.progress(f"probing {len(found)} target{'s' if len(found) != 1 else ''}") as progress:
            result = run_probe(found, opts, progress)
        return result.finish(tail, a.html)


@command(option("--length", type=int, default=64, help="Characters (64 like mix phx.gen.secret)."))
def secret(a: Namespace) -> int:
    """Print a new secret suitable for SECRET_KEY_BASE."""
    from phoenix_ops.gen.secret import new_secret

    with usage_errors():
        echo(new_secret(a.length))
    return 0


@command(argument("kind", help="release, docker, systemd, fly, k8s, health, alerts or all."),
         PROJECT_PATH,
         option("--target", help="docker, fly, k8s or systemd (default: what the deploy files show)."),
         option("--write", flag=True, help="Write new files and apply patches (default: show the diff)."),
         option("--force", flag=True, help="Also replace files that exist and differ."))
def gen(a: Namespace) -> int:
    """Write the production files a project is missing: a diff first, files only with --write."""
    from phoenix_ops.gen.command import GenUsageError, run_gen
    from phoenix_ops.project import NotAPhoenixProject

    with usage_errors(GenUsageError, NotAPhoenixProject):
        result = run_gen(a.path, a.kind, a.target, write=a.write, force=a.force)
    for note in result.notes:
        echo(note, err=True)
    sys.stdout.write(result.text)
    return result.exit_code


@command(option("--hosts", help="Comma-separated HOST, HOST:EPMD_PORT or NAME@HOST (one node)."),
         option("--dns", repeat=True, help="DNS name whose A/AAAA records are the nodes (DNSPoll, dns_cluster)."),
         option("--srv", repeat=True, help="DNS SRV name whose targets are the nodes (Kubernetes headless service)."),
         option("--project", type=Path, help="Discover as the project's libcluster/dns_cluster does."),
         option("--env", default="prod", help="Mix environment of --project."),
         option("--node-basename", help="Node name before @ (only these nodes)."),
         option("--dist-port", type=int, help="Distribution port, for nodes without EPMD."),
         option("--epmd-port", type=int, default=4369, help="EPMD port on hosts given without a port."),
         option("--cookie-file", type=Path, help="Cookie file (else RELEASE_COOKIE, else ~/.erlang.cookie)."),
         option("--tls-ca", type=Path, help="CA for nodes with TLS distribution."),
         option("--tls-cert", type=Path, help="Client certificate for TLS distribution."),
         option("--tls-key", type=Path, help="Key of --tls-cert."),
         option("--nameserver", help="DNS server as IP or IP:PORT (default: system)."),
         option("--timeout", type=float, default=3.0, help="Seconds for each network step."),
         option("--expect", type=int, help="How many nodes the cluster should have."),
         option("--picture", type=Path, help="Write a picture of the cluster (.svg, else HTML)."),
         PROM_FILE, *TAIL)
def cluster(a: Namespace) -> int:
    """Check a BEAM cluster from outside: discovery, EPMD, handshake, and each node's health."""
    from phoenix_ops.cluster.command import (
        ClusterArgs,
        build_options,
        finish,
        run_doctor,
    )

    with usage_errors():
        tail = build_tail(a, also={"--picture": a.picture}, prom_file=a.prom_file)
        opts = build_options(ClusterArgs(
            hosts=a.hosts, dns=tuple(a.dns), srv=tuple(a.srv), project=a.project, env=a.env,
            node_basename=a.node_basename, dist_port=a.dist_port, epmd_port=a.epmd_port, cookie_file=a.cookie_file,
            tls_ca=a.tls_ca, tls_cert=a.tls_cert, tls_key=a.tls_key, nameserver=a.nameserver, timeout=a.timeout,
            expect=a.expect))
        with tail.progress("looking for nodes") as progress:
            view, findings = run_doctor(opts, progress)
        if a.picture:
            from phoenix_ops.cluster.picture import write_picture
            write_picture(view, a.picture)
        return finish(tail, view, findings)


@command(argument("release", type=Path, help="A built release: the directory `mix release` made, or its tarball."),
         option("--env-file", type=Path, repeat=True, help="Dotenv file the release runs with (repeat)."),
         option("--project", type=Path, help="The project: its env contract, health path and stop budget."),
         option("--health", repeat=True, help="Health or readiness path that must answer 200 (repeat)."),
         option("--timeout", type=float, default=60.0, help="Seconds for the release to boot and answer."),
         option("--shutdown-budget", type=float,
                help="Seconds a graceful stop may take (default: the project's, else 30)."),
         option("--no-probe", flag=True, help="Skip the probe of headers, assets and exposure."),
         *TAIL, name="release verify")
def release_verify(a: Namespace) -> int:
    """Boot a release on a loopback port with its env file: runtime checks, health, probe, graceful stop."""
    from phoenix_ops.catalog import catalog
    from phoenix_ops.project import NotAPhoenixProject
    from phoenix_ops.release.verify import VerifyOptions, verify_release

    with usage_errors(NotAPhoenixProject):
        tail = build_tail(a)
        opts = VerifyOptions(a.release, a.env_file, a.project, a.health, a.timeout, a.shutdown_budget,
                             probe=not a.no_probe)
        with tail.progress(f"verifying {a.release}") as progress:
            result = verify_release(opts, progress)
        return tail.finish(result.findings, tool="release verify", rules=catalog("release", "envfile", "probe"),
                           extra={"release": result.facts, **result.checked})


def _ssh_options(a: Namespace) -> dict:
    return {"known_hosts": str(a.known_hosts) if a.known_hosts else None,
            "identity": str(a.identity) if a.identity else None}


@command(argument("args", many=True, metavar="RELEASE.tar.gz|IMAGE|status",
                  help="The release tarball to roll out (the image, with --target k8s or fly), or `status` for "
                       "the last deploy."),
         DEPLOY_PROJECT,
         option("--target", default="ssh",
                help="ssh: the hosts of [deploy]; k8s: `kubectl set image` + `rollout status` on the project's "
                     "Deployment; fly: `fly deploy --image`."),
         option("--dry-run", flag=True, help="Print the plan and the commands; connect to nothing."),
         option("--resume", flag=True, help="Finish the interrupted deploy the journal records."),
         option("--allow-unsafe-migrations", flag=True, help="Deploy even when pending migrations break the old code."),
         *SSH, QUIET)
def deploy(a: Namespace) -> int:
    """Roll a release out to the hosts of [deploy] (rolling, blue-green or canary), or an image to
    Kubernetes or Fly through their own CLI: pre-flighted, gated, journaled, rolled back on failure."""
    from phoenix_ops.deploy.command import (
        deploy,
        deploy_platform,
        dry_run_platform,
        status,
    )
    from phoenix_ops.deploy.command import dry_run as plan_only
    from phoenix_ops.deploy.engine import DeployFailed

    with usage_errors():
        tail = Tail.build(quiet=a.quiet)
        if a.args == ["status"]:
            tail.emit(status(a.project))
            return 0
        what = "image" if a.target != "ssh" else "release tarball"
        if len(a.args) != (0 if a.resume else 1):
            raise UsageError(f"deploy takes one {what}, `status`, or --resume alone")
        if a.dry_run:
            if not a.args:
                raise UsageError(f"--dry-run needs the {what}")
            tail.emit(plan_only(a.project, Path(a.args[0])) if a.target == "ssh"
                      else dry_run_platform(a.project, a.target, a.args[0]))
            return 0
        with tail.progress("deploying") as progress:
            try:
                if a.target == "ssh":
                    text = deploy(a.project, Path(a.args[0]) if a.args else None, resume=a.resume,
                                  say=progress.note, ssh=_ssh_options(a),
                                  allow_unsafe_migrations=a.allow_unsafe_migrations)
                else:
                    text = deploy_platform(a.project, a.target, a.args[0] if a.args else None, resume=a.resume,
                                           say=progress.note, allow_unsafe_migrations=a.allow_unsafe_migrations)
            except DeployFailed as exc:
                echo(f"{PROG}: deploy failed: {exc}", err=True)
                return 1
        tail.emit(text)
    return 0


@command(DEPLOY_PROJECT, *SSH, QUIET)
def rollback(a: Namespace) -> int:
    """Put back what ran before the last deploy, on every host or on the platform (the journal says what)."""
    from phoenix_ops.deploy.command import rollback
    from phoenix_ops.deploy.engine import DeployFailed

    with usage_errors():
        tail = Tail.build(quiet=a.quiet)
        with tail.progress("rolling back") as progress:
            try:
                text = rollback(a.project, say=progress.note, ssh=_ssh_options(a))
            except DeployFailed as exc:
                echo(f"{PROG}: rollback failed: {exc}", err=True)
                return 1
        tail.emit(text)
    return 0


@command(option("--database-url", help="PostgreSQL URL of the app's database (else DATABASE_URL)."),
         option("--prefix", default="public", help="Schema of Oban's tables (Oban's :prefix)."),
         option("--project", type=Path, help="Compare the schema with Oban in its mix.lock."),
         option("--live-node", repeat=True, help="A node known to be running (repeat); sharpens orphans."),
         option("--grace", type=float, default=300, help="Seconds before an executing job on a gone node is an orphan."),
         option("--stall", type=float, default=300, help="Seconds past due before a queue counts as stalled."),
         option("--max-depth", type=int, default=10_000, help="Available jobs in one queue before a backlog finding."),
         option("--max-retryable", type=int, default=100, help="Retryable jobs of one worker before a finding."),
         option("--max-discards", type=int, default=10, help="Discards of one worker in an hour before a warning."),
         option("--max-errors", type=int, default=100, help="Failed attempts of one worker in an hour."),
         option("--retention", type=float, default=7 * 86400, help="Seconds finished jobs may be kept (Pruner)."),
         option("--timeout", type=float, default=5.0, help="Seconds to connect and for each statement."),
         option("--watch", type=float, help="Repeat every SECONDS (a live table on a terminal)."),
         *TAIL, PROM_FILE)
def jobs(a: Namespace) -> int:
    """Diagnose Oban in PostgreSQL, read-only: orphans, stalled queues, failures, pruning, bloat."""
    from phoenix_ops.jobs.command import JobsArgs, examine, finish, watch_loop
    from phoenix_ops.jobs.reader import JobsError
    from phoenix_ops.jobs.view import Limits

    with usage_errors(JobsError):
        tail = build_tail(a, prom_file=a.prom_file)
        if a.watch is not None and a.watch <= 0:
            raise UsageError("--watch takes a positive number of seconds")
        limits = Limits(grace=a.grace, stall=a.stall, max_depth=a.max_depth, max_retryable=a.max_retryable,
                        max_discards=a.max_discards, max_errors=a.max_errors, retention=a.retention,
                        live_nodes=tuple(a.live_node))
        args = JobsArgs(a.database_url or os.environ.get("DATABASE_URL", ""), a.prefix, limits, a.timeout, a.project)
        if a.watch:
            return watch_loop(args, a.watch, tail)
        with tail.progress("reading Oban's tables"):
            view, findings = examine(args)
        return finish(tail, view, findings)


@command(argument("urls", many=True, metavar="URL", help="Prometheus endpoints of the nodes (…/metrics)."),
         option("--interval", type=float, default=5.0, help="Seconds between the two scrapes (0: one scrape, no rates)."),
         option("--timeout", type=float, default=5.0, help="Seconds for each scrape."),
         option("-H", "--header", repeat=True, help="'Name: value' sent with each scrape (auth)."),
         option("--project", type=Path, help="Expect what the project's deps and telemetry define."),
         option("--memory-limit", help="Container memory limit: 512Mi, 2G, bytes, or a cgroup memory.max file."),
         option("--schedulers", type=int, help="Schedulers, when the scrape does not say."),
         option("--usage", type=float, default=0.8, help="Share of a process/atom/port/ETS limit that is too near."),
         option("--memory-share", type=float, default=0.8, help="Share of --memory-limit that is too near."),
         option("--run-queue", type=float, default=2.0, help="Run queue per scheduler that is too long."),
         option("--ecto-queue-ms", type=float, default=50, help="Ecto queue time at p95 that is too long."),
         option("--ecto-query-ms", type=float, default=500, help="Ecto query time at p95 that is too long."),
         option("--error-share", type=float, default=0.05, help="Share of 5xx between the scrapes that is too high."),
         option("--max-queue-length", type=int, default=10_000, help="Oban queue length that is too long."),
         *TAIL, PROM_FILE)
def metrics(a: Namespace) -> int:
    """Judge a node's Prometheus metrics: VM limits, memory, run queue, Ecto timings, 5xx share, Oban."""
    from phoenix_ops.metrics.command import MetricsArgs, examine, finish, memory_limit
    from phoenix_ops.metrics.scrape import MetricsError
    from phoenix_ops.metrics.view import Limits

    with usage_errors(MetricsError):
        tail = build_tail(a, prom_file=a.prom_file)
        headers = dict(_header(h) for h in a.header)
        limits = Limits(usage=a.usage, memory_limit=memory_limit(a.memory_limit), memory_share=a.memory_share,
                        schedulers=a.schedulers, run_queue_factor=a.run_queue, ecto_queue=a.ecto_queue_ms / 1000,
                        ecto_query=a.ecto_query_ms / 1000, error_share=a.error_share,
                        max_queue_length=a.max_queue_length)
        args = MetricsArgs(a.urls, a.interval, a.timeout, limits, headers, a.project)
        with tail.progress("scraping") as progress:
            views, findings = examine(args, progress.update)
        return finish(tail, views, findings)


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise ValueError(f"--header {text!r}: use 'Name: value'")
    return name.strip(), value.strip()


@command(argument("args", many=True, metavar="[check] [PATH]",
                  help="`check` to judge env files; then the project directory."),
         option("--env", help="One Mix environment (default: all; for check: prod)."),
         option("-f", "--format", default="text",
                help="env: text, json, dotenv-example or html; env check: text, json, sarif or html. Any case."),
         option("--env-file", type=Path, repeat=True, help="Dotenv file to check (repeat; later ones win)."),
         option("--target", type=Path, repeat=True, help="Deploy file or folder to check as a target "
                "(fly.toml, deploy/k8s/, docker-compose.yml, a .service unit; repeat)."),
         output_option("the output"), FAIL_LEVEL, NO_COLOR, QUIET, name="env")
def env_command(a: Namespace) -> int:
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
        checking, path = split_args(a.args)
        tail = build_tail(a, formats=formats(checking))
        return (run_check if checking else run_contract)(path, EnvOptions(a.env, a.env_file, a.target), tail)


def overview(group: str | None = None) -> str:
    """The help page of phoenix-ops, or of a group of commands."""
    prog = f"{PROG} {group}" if group else PROG
    names = sorted(n for n in COMMANDS if (n.split()[0] == group if group else " " not in n))
    entries = [(n.split()[-1], COMMANDS[n].summary) for n in names]
    if group is None:
        entries = sorted(entries + list(GROUPS.items()))
    width = max(len(n) for n, _ in entries) + 2
    lines = [f"usage: {prog} [-h]{'' if group else ' [--version]'} COMMAND ...", "",
             GROUPS[group] if group else SUMMARY, "", "commands:"]
    lines += [f"  {n:<{width}}{summary}" for n, summary in entries]
    lines += ["", "options:", "  -h, --help  Show this message and exit."]
    if group is None:
        lines.append("  --version   Print the version and exit.")
    lines.append(f"\n`{prog} COMMAND -h` describes a command.")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command `argv` names (sys.argv when None); its exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--version"]:
        echo(f"{PROG} {__version__}")
        return 0
    group = args[0] if args and args[0] in GROUPS else None
    head = args[1 if group else 0:][:1]
    if not head or head[0] in ("-h", "--help"):
        echo(overview(group))
        return 0 if head else USAGE_EXIT  # no command at all is a usage error, as in git
    name = f"{group} {head[0]}" if group else head[0]
    if name not in COMMANDS:
        from difflib import get_close_matches

        what = "option" if name.split()[-1].startswith("-") else "command"
        close = get_close_matches(name, [n for n in COMMANDS if n.startswith(f"{group} ")] if group else
                                  [*COMMANDS, *GROUPS], n=1)
        Parser(prog=f"{PROG} {group}" if group else PROG).error(
            f"no {what} {name.split()[-1]!r}{f', did you mean {close[0]!r}?' if close else ''}")
    found = COMMANDS[name]
    if not gc.isenabled():  # held off by the entry point while the modules loaded (__main__)
        gc.freeze()  # those objects stay to the end: no collection needs to scan them again
        gc.enable()
        # A command builds its model and keeps it to the end: a young collection every 700 new
        # objects (the default) finds next to no garbage, one every 20,000 keeps memory as bounded.
        gc.set_threshold(20_000)
    return found.run(found.parse(args[len(name.split()):])) or 0


def run() -> None:
    """The entry point: a crash exits 3 with one line on stderr (phoenix_ops.crash); --debug shows it all."""
    from phoenix_ops.crash import guarded

    guarded(lambda: sys.exit(main()))


if __name__ == "__main__":
    run()

"""DEP050-DEP053: budgets that no single file shows, across config and every deploy target:
database connections, the pooler, database TLS, and the time each stage of a shutdown gets."""

from __future__ import annotations

import re

from phoenix_ops.elixir.values import EnvRead, Lit, plain
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.patterns import lazy
from phoenix_ops.project.shutdown import shutdown_needs
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.facts import where
from phoenix_ops.rules.subjects import REPO

W, E, I = Severity.WARNING, Severity.ERROR, Severity.INFO
H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
PG_DEFAULT_MAX = 100  # PostgreSQL's max_connections when nothing says otherwise
PG_RESERVED = 3  # superuser_reserved_connections
MIGRATOR_POOL = 2  # Ecto.Migrator.with_repo starts the repo with pool_size 2
_OTP = lazy(r"(?:erlang[-:]|otp[-:]?)(\d{2})")
# The official `elixir` images up to 1.11 are built on OTP 23 or older; later ones on 24 or newer.
_OFFICIAL_ELIXIR = lazy(r"^(?:docker\.io/)?(?:library/)?elixir:1\.(\d+)")


def _pool(project, target) -> tuple[int | None, str]:
    """The pool size a target runs with, and where it comes from."""
    for app, repo in project.repo_keys():
        value = project.config().settled(app, repo, "pool_size")
        if isinstance(value, Lit) and isinstance(value.value, int):
            return value.value, f"{value.origin.file}:{value.origin.line}" if value.origin else "config"
        reads = list(value.reads()) if value is not None else []
        if reads:
            read = reads[0]
            given = target.provides(read.name) if target is not None else None
            if given is not None and given.value and given.value.isdigit():
                return int(given.value), f"{read.name} in {given.path}:{given.line}"
            default = plain(read.default) if isinstance(read, EnvRead) else None
            if isinstance(default, str) and default.isdigit():
                return int(default), f"{read.name} default"
            if isinstance(default, int):
                return default, f"{read.name} default"
        if value is None:
            return 10, "Ecto's default"
        return None, "computed"
    return None, "no repo"


def _max_connections(project) -> tuple[int, str, Confidence]:
    for s in project.deploy.compose:
        if s.max_connections:
            return s.max_connections, f"{s.path} ({s.name})", M
    return PG_DEFAULT_MAX, "PostgreSQL's default", L


INSTANCES = Subject("no deploy target states how many instances run (fly, render, Kubernetes, compose)",
                    lambda project: any(t.instances is not None and t.platform not in ("systemd", "docker", "procfile")
                                        for t in project.deploy.targets()))


@rule("DEP050", "db-connections-over-budget", W, M, subject=REPO & INSTANCES,
      title="The deploy can open more database connections than the server accepts",
      why="""
      Every instance opens its whole pool at boot, and during a rolling deploy old and new instances
      are up together, plus the migrator and Oban's notifier. Past `max_connections` new nodes fail
      to start with `too many clients` exactly when the deploy needs them.
      """,
      fix="""
      Lower POOL_SIZE per target so pool × instances (+ a surge instance, the migrator and Oban's
      notifier) stays under max_connections, or put PgBouncer in transaction mode in front (with
      `prepare: :unnamed`).
      """)
def db_connections(project):
    limit, limit_source, confidence = _max_connections(project)
    oban = 1 if project.has_dep("oban") else 0
    for t in project.deploy.targets():
        if t.instances is None or t.platform in ("systemd", "docker", "procfile"):
            continue
        pool, pool_source = _pool(project, t)
        if pool is None:
            continue
        surge = 1 if t.strategy == "rolling" and t.instances > 1 else 0
        total = (pool + oban) * (t.instances + surge) + (MIGRATOR_POOL if t.migrate else 0)
        if total > limit - PG_RESERVED:
            yield db_connections.finding(
                f"{t.label}: pool {pool} ({pool_source}) + {oban} Oban notifier × {t.instances + surge} "
                f"instances ({t.instances_note}{', +1 during a rolling deploy' if surge else ''})"
                f"{' + 2 for the migrator' if t.migrate else ''} = {total} connections, over "
                f"{limit - PG_RESERVED} usable of max_connections {limit} ({limit_source})",
                Location(path=t.path, line=t.line), key=t.label, confidence=confidence)


def _database_urls(project):
    for t in project.deploy.targets():
        p = t.provides("DATABASE_URL")
        if p is not None and p.value:
            yield p.value, Location(path=p.path, line=p.line)
    for app, repo in project.repo_keys():
        value = project.config().get(app, repo, "url")
        literal = plain(value)
        if isinstance(value, EnvRead):
            literal = plain(value.default)
        if isinstance(literal, str):
            yield literal, where(value)


@rule("DEP051", "pooler-without-unnamed-prepare", E, M, subject=REPO,
      title="A transaction pooler is used without `prepare: :unnamed`",
      why="""
      PgBouncer (and Supabase's pooler on port 6543) in transaction mode hands each transaction to any
      server connection. Postgrex's named prepared statements then land on connections that do not
      know them: `prepared statement "ecto_123" does not exist` errors under load.
      """,
      fix="Add `prepare: :unnamed` to the Repo's runtime config when DATABASE_URL points at the pooler.")
def pooler_prepare(project):
    prepares = [plain(project.config().get(app, repo, "prepare")) for app, repo in project.repo_keys()]
    if any(getattr(p, "name", p) == "unnamed" for p in prepares):
        return
    for url, loc in _database_urls(project):
        if re.search(r":6543(/|$|\?)|pgbouncer", url, re.I):
            yield pooler_prepare.finding("DATABASE_URL goes through a transaction pooler "
                                         f"({'port 6543' if ':6543' in url else 'pgbouncer'}) and the Repo "
                                         "prepares named statements", loc, key=str(loc.path))


def otp_release(project) -> tuple[int, str] | None:
    """The OTP major version the release is built with (at most that, for an old official `elixir`
    image): Dockerfile builder image or .tool-versions."""
    for d in project.deploy.dockerfiles:
        for s in d.stages:
            m = _OTP.search(s.image)
            if m:
                return int(m.group(1)), d.path
            m = _OFFICIAL_ELIXIR.match(s.image)
            if m and int(m.group(1)) <= 11:
                return 23, d.path
    m = re.search(r"^erlang\s+(\d+)", project.text(".tool-versions") or "", re.M)
    return (int(m.group(1)), ".tool-versions") if m else None


OTP26 = Subject("the release is built on OTP 25 or older", lambda project: (otp_release(project) or (0,))[0] >= 26,
                lambda project: None if otp_release(project) else
                "no Dockerfile image or .tool-versions names the OTP version the release is built with")


@rule("DEP052", "db-tls-unverified", W, M, subject=REPO & OTP26,
      title="Database TLS is on without verification options on OTP 26+",
      why="""
      Since OTP 26 `:ssl` verifies peers by default and needs CA certificates. `ssl: true` with no
      `ssl_opts` then fails to connect (no `cacerts`), or, with older Postgrex defaults, connects
      without checking whom it talks to.
      """,
      fix="`ssl: [verify: :verify_peer, cacerts: :public_key.cacerts_get(), server_name_indication: ~c\"db.host\"]` "
          "(Postgrex 0.19+), or `ssl_opts` with the same keys on older versions.")
def db_tls(project):
    otp = otp_release(project)
    view = project.config()
    for app, repo in project.repo_keys():
        ssl = view.get(app, repo, "ssl")
        if isinstance(ssl, Lit) and ssl.value is True and view.get(app, repo, "ssl_opts") is None:
            yield db_tls.finding(f"{repo} sets ssl: true with no verification options, built on OTP {otp[0]} "
                                 f"({otp[1]})", where(ssl), key=repo)


def shutdown_rows(project) -> list[dict]:
    """One row per deploy target: how it stops the BEAM and whether the time given covers what it needs."""
    needs = shutdown_needs(project)
    need = sum(n.seconds for n in needs)
    rows = []
    for t in project.deploy.targets():
        pre_stop = _pre_stop_seconds(project, t)
        budget = None if t.stop_timeout is None else t.stop_timeout - pre_stop
        rows.append({
            "target": t.label, "file": t.path,
            "signal": t.stop_signal or "?",
            "exec form": {True: "yes", False: "no (shell)", None: "?"}[t.exec_form],
            "stop timeout": _secs(t.stop_timeout) + (" (default)" if t.stop_timeout_default else ""),
            "preStop": _secs(pre_stop) if pre_stop else "-",
            "needs": " + ".join(f"{n.what} {_secs(n.seconds)}" for n in needs) or "-",
            "verdict": _verdict(t, budget, need),
        })
    return rows


def _verdict(t, budget: float | None, need: float) -> str:
    if t.exec_form is False:
        return "the shell may not pass the signal on"
    if budget is None or t.platform == "docker":
        return "unknown: whatever runs the image sets the timeout"
    return "ok" if budget >= need else f"short by {_secs(need - budget)}"


def _secs(value: float | None) -> str:
    return "?" if value is None else f"{value:g} s"


def _pre_stop_seconds(project, t) -> float:
    if t.platform != "kubernetes":
        return 0.0
    for w in project.deploy.workloads():
        if f"{w.obj.kind}/{w.obj.name}" == t.name and w.containers and w.containers[0].pre_stop:
            command = " ".join(str(x) for x in (w.containers[0].pre_stop.get("exec") or {}).get("command") or [])
            m = re.search(r"sleep\s+(\d+)", command)
            return float(m.group(1)) if m else 0.0
    return 0.0


STOP_TIMEOUT = Subject("no deploy file says how long the platform waits for the app to stop",
                       lambda project: any(t.stop_timeout is not None and t.platform != "docker"
                                           for t in project.deploy.targets()))


@rule("DEP053", "shutdown-budget-short", W, M, subject=STOP_TIMEOUT,
      title="A deploy target kills the BEAM before its graceful shutdown can finish",
      why="""
      On stop, the endpoint drains open connections, then Oban waits `shutdown_grace_period` for
      running jobs. If the platform's stop timeout (minus any preStop sleep) is shorter, it sends
      SIGKILL mid-way: requests are cut and jobs are orphaned until Oban's rescue.
      """,
      fix="""
      Raise the target's stop timeout (fly `kill_timeout`, Kubernetes `terminationGracePeriodSeconds`,
      systemd `TimeoutStopSec`, compose `stop_grace_period`) above the drain plus Oban's grace period,
      or shorten those.
      """)
def shutdown_budget(project):
    needs = shutdown_needs(project)
    need = sum(n.seconds for n in needs)
    oban = next((n.seconds for n in needs if n.what.startswith("Oban")), None)
    for t in project.deploy.targets():
        if t.stop_timeout is None or t.platform == "docker":
            continue  # a bare image's runner, and so its stop timeout, is unknown
        if oban is not None and t.stop_timeout <= oban:
            continue  # shorter than Oban's grace period alone: JOB008 says so
        budget = t.stop_timeout - _pre_stop_seconds(project, t)
        if budget < need:
            parts = " + ".join(f"{n.what} {_secs(n.seconds)} ({n.source})" for n in needs)
            yield shutdown_budget.finding(
                f"{t.label} allows {_secs(t.stop_timeout)}{' (platform default)' if t.stop_timeout_default else ''}"
                f" to stop; the app needs {parts} = {_secs(need)}", Location(path=t.path, line=t.line),
                key=t.label, confidence=L if t.stop_timeout_default else None)

"""JOB: Oban started, pruned, rescued and stopped the way production needs (only when Oban is a dependency)."""

from __future__ import annotations

from phoenix_ops.elixir.values import KW, Atom, Expr, Lit, Seq, Value, plain
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.patterns import has_word, lazy, mentions
from phoenix_ops.rule import rule
from phoenix_ops.rules.facts import (
    children_of,
    config_read,
    endpoint_before,
    started,
    where,
)
from phoenix_ops.rules.subjects import dependency

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
DEFAULT_GRACE_MS = 15_000  # Oban's shutdown_grace_period when none is set
_APP_START = lazy(r"mix\s+release|bin/server|phx\.server|bin/\w+\s+start")


def _oban_configs(project):
    """(app, key) of every Oban instance's config for the audited env: `config :app, Oban, ...`."""
    view = project.config()
    found = []
    for child in children_of(project, "Oban"):
        read = config_read(child.arg)
        if read and read not in found:
            found.append(read)
    for app in project.otp_apps:
        for key in sorted(view.keys(app)):
            if (key == "Oban" or key.endswith(".Oban")) and (app, key) not in found:
                found.append((app, key))
    return found


OBAN = dependency("Oban is not a dependency", "oban", "oban_pro")


def _value(project, app, key, *path) -> Value | None:
    return project.config().settled(app, key, *path)


def _anchor(project, app, key) -> Location:
    view = project.config()
    leaves = [v for h in view.subtree(app, key).values() for v in h]
    return where(leaves[-1]) if leaves else Location(path=project.mix.file, line=project.mix.module_line)


@rule("JOB001", "oban-not-supervised", Severity.ERROR, H, subject=OBAN,
      title="Oban is configured but no application starts it",
      why="""
      Oban runs only when an application's supervision tree starts `{Oban, config}`. Without the
      child, `Oban.insert/1` fails (no Oban instance) or, with `Oban.insert` wrapped in a transaction,
      jobs pile up in the table and never run.
      """,
      fix="Add `{Oban, Application.fetch_env!(:my_app, Oban)}` to the application children, after the Repo "
          "and before the Endpoint.")
def oban_not_supervised(project):
    if not project.child_specs or not project.children_complete or children_of(project, "Oban"):
        return
    for app, key in _oban_configs(project):
        yield oban_not_supervised.finding(f"{key} is configured for :{app} but no application starts Oban",
                                          _anchor(project, app, key), key=f"{app}.{key}")


@rule("JOB002", "oban-after-endpoint", Severity.WARNING, H, subject=OBAN,
      title="Oban starts after the Endpoint",
      why="""
      The Endpoint accepts requests as soon as it starts; a request that enqueues a job before Oban
      is up fails with "no Oban instance". On shutdown the order reverses and Oban stops before the
      Endpoint has drained, while requests still insert jobs.
      """,
      fix="Move `{Oban, ...}` above the Endpoint in the children list (after the Repo).")
def oban_after_endpoint(project):
    for child in children_of(project, "Oban"):
        endpoint = endpoint_before(project, child)
        if endpoint is not None:
            yield oban_after_endpoint.finding(f"{started(child)} starts after {endpoint.module} (line {endpoint.line})",
                                              Location(path=child.file, line=child.line), key=child.file)


@rule("JOB003", "oban-testing-mode-outside-test", Severity.ERROR, H, subject=OBAN,
      title="Oban's testing mode is set for an environment other than test",
      why="""
      `testing: :manual` never runs jobs and `testing: :inline` runs them in the caller's process
      with no retries, queues or plugins. Set in config.exs (which every env reads) or prod.exs, it
      reaches production: jobs silently never run, or run inside web requests.
      """,
      fix="Set `testing: :manual` (or :inline) in config/test.exs only.")
def oban_testing_outside_test(project):
    if project.env == "test":
        return
    for app, key in _oban_configs(project):
        mode = _value(project, app, key, "testing")
        if isinstance(mode, Lit) and isinstance(mode.value, Atom) and mode.value.name in ("manual", "inline"):
            yield oban_testing_outside_test.finding(
                f"{key} testing: :{mode.value.name} is in force for {project.env} (set in {mode.origin.file})",
                where(mode), key=f"{app}.{key}", confidence=M if mode.conditional else None)


@rule("JOB004", "oban-queues-fixed-at-compile-time", Severity.INFO, M, subject=OBAN,
      title="Oban queues are fixed at build time with no runtime override",
      why="""
      Queues set in config.exs or prod.exs are the same on every node of the release. Web-only or
      worker-only nodes, or turning a queue off during an incident, need the queues decided at boot
      (runtime.exs, from an env var such as OBAN_QUEUES, or `queues: false` on web nodes).
      """,
      fix='In runtime.exs: `config :my_app, Oban, queues: (if System.get_env("OBAN_WEB_ONLY"), do: false, '
          'else: [default: 10])`.')
def oban_queues_compile_time(project):
    if project.release_mode != "release":
        return
    view = project.config()
    for app, key in _oban_configs(project):
        queues = [v for h in view.subtree(app, key, "queues").values() for v in h]
        if not queues or view.shadowed(app, key, "queues", phase="runtime"):
            continue
        if any(v.origin and v.origin.phase == "runtime" for v in queues):
            continue
        if any(v.reads() or isinstance(v, Expr) for v in queues):
            continue  # read from the environment at build time: REL003's subject
        yield oban_queues_compile_time.finding(
            f"{key} queues are set in {queues[0].origin.file} only: every node of the release runs the same "
            f"queues", where(queues[0]), key=f"{app}.{key}")


@rule("JOB005", "oban-no-leader", Severity.WARNING, H, subject=OBAN,
      title="Oban is configured so that no node can be leader",
      why="""
      Plugins such as Cron, Pruner and Lifeline run on the leader only. `peer: false` (or
      `plugins: false` with queues) on every node leaves no leader: cron jobs never fire and the jobs
      table is never pruned, with no error anywhere.
      """,
      fix="Leave `peer` at its default, or set `peer: false` only on the nodes that must not lead (from an env "
          "var in runtime.exs).")
def oban_no_leader(project):
    for app, key in _oban_configs(project):
        peer = _value(project, app, key, "peer")
        if isinstance(peer, Lit) and peer.value is False and not peer.conditional:
            yield oban_no_leader.finding(f"{key} sets peer: false for every node of {project.env}: no node leads, "
                                         f"so plugins (Cron, Pruner, Lifeline) never run", where(peer),
                                         key=f"{app}.{key}")


def _plugin_names(value: Value) -> list[str] | None:
    if isinstance(value, Lit) and value.value is False:
        return []
    if isinstance(value, KW):
        return [k for k, _ in value.items]
    if isinstance(value, Seq):
        names = []
        for item in value.items:
            head = item.items[0] if isinstance(item, Seq) and item.kind == "tuple" and item.items else item
            name = plain(head)
            if not isinstance(name, Atom):
                return None
            names.append(name.name)
        return names
    return None


def _plugin_sets(project, app, key) -> list[list[str]] | None:
    """The plugin lists that may be in force (one per undecided condition), or None when unknown."""
    view = project.config()
    if view.shadowed(app, key, "plugins"):
        return None
    subtree = view.subtree(app, key, "plugins")
    nested = sorted({p[3] for p in subtree if len(p) > 3})  # [{Plugin, opts}, ...] read as plugin => opts
    history = view.history(app, key, "plugins")
    unconditional = [i for i, v in enumerate(history) if not v.conditional]
    candidates = history[unconditional[-1]:] if unconditional else history
    sets = [_plugin_names(v) for v in candidates]
    if any(s is None for s in sets):
        return None
    if nested or not candidates:
        sets.append(nested)
    return sets


def _plugin_rule(project, rule_, word, what):
    for app, key in _oban_configs(project):
        sets = _plugin_sets(project, app, key)
        if sets is None or not project.config().has(app, key):
            continue  # plugins built by code, or no config at all: the instance is configured elsewhere
        if any(any(word in name.rsplit(".", 1)[-1] for name in names) for names in sets):
            continue  # some node runs one (a custom plugin counts by its name)
        yield rule_.finding(f"{key} runs no {word} plugin: {what}", _anchor(project, app, key), key=f"{app}.{key}")


@rule("JOB006", "oban-no-pruner", Severity.WARNING, H, subject=OBAN,
      title="Oban runs without the Pruner plugin: the jobs table grows forever",
      why="""
      Completed, cancelled and discarded jobs stay in `oban_jobs` until a pruner deletes them. Without
      `Oban.Plugins.Pruner` the table and its indexes grow without bound, queries slow down and
      vacuum falls behind.
      """,
      fix="Add `{Oban.Plugins.Pruner, max_age: 60 * 60 * 24 * 7}` to the Oban plugins.")
def oban_no_pruner(project):
    yield from _plugin_rule(project, oban_no_pruner, "Pruner", "finished jobs are never deleted")


@rule("JOB007", "oban-no-lifeline", Severity.WARNING, M, subject=OBAN,
      title="Oban runs without the Lifeline plugin: jobs orphaned by a deploy stay executing",
      why="""
      A node killed during a deploy (or a crash) leaves the jobs it was running in the `executing`
      state. Nothing retries them unless `Oban.Plugins.Lifeline` rescues jobs executing for longer
      than a limit.
      """,
      fix="Add `{Oban.Plugins.Lifeline, rescue_after: :timer.minutes(30)}` to the Oban plugins.")
def oban_no_lifeline(project):
    yield from _plugin_rule(project, oban_no_lifeline, "Lifeline", "jobs orphaned by a stopped node stay executing")


@rule("JOB008", "oban-grace-exceeds-stop-timeout", Severity.WARNING, H, subject=OBAN,
      title="The platform kills the node before Oban's shutdown grace period ends",
      why="""
      On shutdown Oban stops fetching and waits `shutdown_grace_period` (15 s by default) for running
      jobs to finish. A platform that kills the container sooner (Fly's default kill_timeout is 5 s)
      cuts those jobs off mid-run: they are left `executing` until rescued, and their side effects
      may be half done.
      """,
      fix="Give the platform a stop timeout longer than the grace period (fly.toml `kill_timeout`, "
          "Kubernetes `terminationGracePeriodSeconds`), or shorten `shutdown_grace_period` to fit.")
def oban_grace_exceeds_stop_timeout(project):
    configs = _oban_configs(project)
    if not configs:
        return
    app, key = configs[0]
    grace = _value(project, app, key, "shutdown_grace_period")
    if grace is not None and not (isinstance(grace, Lit) and isinstance(grace.value, (int, float))):
        return  # read from the environment or computed: unknown
    grace_ms = grace.value if grace is not None else DEFAULT_GRACE_MS
    for target in _app_targets(project):
        if target.stop_timeout is None or target.stop_timeout * 1000 > grace_ms:
            continue
        set_by = "the platform default" if target.stop_timeout_default else "the deploy file"
        # A bare image may be run by anything: its stop timeout is a guess.
        confidence = L if target.platform == "docker" else M if target.stop_timeout_default else None
        yield oban_grace_exceeds_stop_timeout.finding(
            f"{target.label} stops the node after {target.stop_timeout:g} s ({set_by}), before Oban's "
            f"shutdown_grace_period of {grace_ms / 1000:g} s ends: running jobs are killed mid-run",
            Location(path=target.path, line=target.line), key=target.label, confidence=confidence)


def _app_targets(project):
    """Deploy targets that run this app: not databases or brokers beside it, not test fixtures."""
    for target in project.deploy.targets():
        if any(part in target.path for part in ("test", "/ci", ".ci.", "e2e")):
            continue
        image = [" ".join(i.args) for s in target.dockerfile.stages for i in s.instructions] \
            if target.dockerfile is not None else []
        if target.platform == "compose" and not any(_APP_START.search(c) for c in [" ".join(target.command), *image]):
            continue
        yield target


def _pooler(url: str) -> bool:
    """A transaction pooler's address: port 6543 (Supabase), PgBouncer, a `-pooler.` host (Neon)."""
    lowered = url.lower()
    return has_word(lowered, ":6543", start=False) or mentions(lowered, ("pgbouncer", "pooler.supabase", "-pooler."))


def _pooled_urls(project):
    """Database URLs or ports that go through a transaction pooler, with where they are set."""
    view = project.config()
    for app, repo in project.repo_keys():
        for field_ in ("url", "port", "hostname"):
            for value in view.history(app, repo, field_):
                candidates = [value, getattr(value, "default", None)]
                for c in candidates:
                    text = str(plain(c)) if c is not None and plain(c) is not None else ""
                    if _pooler(text) or text == "6543":
                        yield f"{repo} {field_}", where(value)
    for target in project.deploy.targets():
        given = target.provides("DATABASE_URL")
        if given is not None and given.value and _pooler(given.value):
            yield f"{target.label} DATABASE_URL", Location(path=given.path, line=given.line)


@rule("JOB009", "oban-notifier-behind-pooler", Severity.WARNING, M, subject=OBAN,
      title="Oban's Postgres notifier goes through a transaction pooler",
      why="""
      The default notifier uses PostgreSQL LISTEN/NOTIFY, which needs a session-level connection.
      Behind PgBouncer in transaction mode (Supabase's port 6543) notifications are lost: jobs
      inserted on one node wait for the next poll, and pause/scale commands reach no node.
      """,
      fix="Use `notifier: Oban.Notifiers.PG` (needs clustered nodes), or give the Repo used by Oban a direct "
          "connection that bypasses the pooler.")
def oban_notifier_behind_pooler(project):
    for app, key in _oban_configs(project):
        notifier = plain(_value(project, app, key, "notifier"))
        if notifier is not None and getattr(notifier, "name", "") != "Oban.Notifiers.Postgres":
            continue
        for what, location in _pooled_urls(project):
            yield oban_notifier_behind_pooler.finding(
                f"{key} notifies through Postgres LISTEN/NOTIFY, and {what} goes through a transaction pooler",
                location, key=f"{app}.{key}:{what}")

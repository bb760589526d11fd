"""REL: releases and runtime configuration."""

from __future__ import annotations

from phoenix_ops.elixir.values import Lit, plain, truthy
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.rule import rule
from phoenix_ops.rules.facts import (
    baked_reads,
    env_names,
    has_runtime_config,
    release_doubt,
    runtime_value,
    secret_env_name,
    where,
)
from phoenix_ops.rules.subjects import FLY, RELEASE, REPO

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
# Endpoint keys Phoenix reads when the endpoint module compiles: runtime.exs cannot change them.
COMPILE_TIME_ENDPOINT_KEYS = ("force_ssl", "code_reloader", "debug_errors")


def _config_file(project) -> Location:
    prefix = f"{project.config_dir}/"
    for name in ("runtime.exs", "prod.exs", "config.exs"):
        if project.exists(prefix + name):
            return Location(path=prefix + name, line=1)
    return Location(path="mix.exs", line=1)


@rule("REL001", "endpoint-never-starts", Severity.ERROR, H, subject=RELEASE,
      title="The prod endpoint never starts in a release",
      why="""
      `mix phx.server` starts the endpoint by setting `server: true` for you; a release does not.
      Without `server: true` in prod config (usually guarded by `PHX_SERVER` in runtime.exs), the
      release boots, the VM is healthy, and nothing listens on the HTTP port: health checks fail and
      the deploy hangs or rolls back.
      """,
      fix="""
      In config/runtime.exs add `if System.get_env("PHX_SERVER") do config :my_app, MyAppWeb.Endpoint,
      server: true end` and start the release with `PHX_SERVER=true bin/my_app start` (or the
      `rel/overlays/bin/server` script that `mix phx.gen.release` writes).
      """)
def endpoint_never_starts(project):
    doubt, confidence = release_doubt(project)
    view = project.config()
    if any(truthy(plain(v)) for v in view.history("phoenix", "serve_endpoints")):
        return
    for app, module in project.endpoint_keys():
        values = view.history(app, module, "server")
        if any(truthy(plain(v)) or not isinstance(v, Lit) for v in values):
            continue  # on, read from the environment, or computed: only a plain `false` or nothing fires
        if view.shadowed(app, module, "server", after=values[-1] if values else None):
            continue  # set by code the audit cannot read: unknown, not missing
        last = values[-1] if values else None
        yield endpoint_never_starts.finding(
            f"{module} has no `server: true` for {view.env} and nothing reads PHX_SERVER: "
            f"a release built for {view.env} boots without listening for HTTP{doubt}",
            where(last) if last else _config_file(project), key=module, confidence=confidence)


@rule("REL002", "no-runtime-config", Severity.ERROR, H,
      title="Prod values come from the environment at compile time and there is no config/runtime.exs",
      why="""
      Config files other than runtime.exs are evaluated when the release is built. `System.get_env`
      there reads the build machine's environment and bakes the value into the release: the
      production database URL or secret ends up inside the artifact, and changing it needs a rebuild.
      """,
      fix="""
      Move every environment read into config/runtime.exs (`import Config` and
      `if config_env() == :prod do ... end`), which a release evaluates at boot.
      """)
def no_runtime_config(project):
    if has_runtime_config(project):
        return
    view = project.config()
    reads = baked_reads(project)
    if reads:
        names = ", ".join(sorted({r.name for r in reads}))
        yield no_runtime_config.finding(
            f"no config/runtime.exs, and {view.env} config reads {names} at compile time", where(reads[0]),
            key="runtime.exs")


@rule("REL003", "compile-time-env-read", Severity.WARNING, M,
      title="An environment variable is read at compile time in a config file that reaches prod",
      why="""
      config.exs and prod.exs run when the release is built, so `System.get_env("X")` there reads the
      build machine's environment once and freezes the answer into the release. The same holds for a
      module attribute (`@key System.get_env("X")`), evaluated when the module compiles. In
      production the variable is then silently ignored.
      """,
      fix="Move the read into config/runtime.exs, or use `Application.compile_env` deliberately.")
def compile_time_env_read(project):
    # Without runtime.exs, REL002 reports the config reads as a whole; module attributes always count.
    config_reads = baked_reads(project) if has_runtime_config(project) else []
    for read in [*config_reads, *project.lib_reads]:
        if not (read.origin and read.origin.phase == "compile") or secret_env_name(read.name):
            continue  # a secret baked into the artifact is SEC007's, at error severity
        if read.name in project.docker_build_vars:  # a declared build argument: baked on purpose
            yield compile_time_env_read.finding(
                f"{read.name} is read at compile time in {read.origin.file}; the Dockerfile declares it, "
                f"so baking it into the image looks deliberate", where(read), key=read.name,
                severity=Severity.INFO, confidence=L)
        else:
            yield compile_time_env_read.finding(
                f"{read.name} is read at compile time in {read.origin.file} and baked into the release",
                where(read), key=read.name)


@rule("REL004", "compile-time-key-set-at-runtime", Severity.ERROR, H,
      title="A key read at compile time is set only in runtime.exs",
      why="""
      Some endpoint options (`force_ssl`, `code_reloader`, `debug_errors`) and every
      `Application.compile_env` key are read when the code compiles. A release compares them at boot
      with what runtime.exs sets: when they differ it stops with "a different value set ... during
      runtime compared to compile time" and the new nodes crash-loop during the deploy. Phoenix
      versions before that check ignored the runtime value silently (force_ssl did nothing).
      """,
      fix="Set the key in config/prod.exs (compile time), not in config/runtime.exs; for a decision that "
          "must stay at runtime, plug `Plug.SSL` yourself in the endpoint from a runtime key.")
def compile_time_key_at_runtime(project):
    view = project.config()
    wanted = [(app, module, key) for app, module in project.endpoint_keys() for key in COMPILE_TIME_ENDPOINT_KEYS]
    wanted += [(app, key, None) for app, key, _, _ in project.compile_env]
    for app, module, key in wanted:
        path = (app, module, key) if key else (app, module)
        leaves = [v for p, h in view.subtree(*path).items() for v in h]
        if leaves and all(v.origin and v.origin.phase == "runtime" for v in leaves):
            name = ".".join(p for p in path[1:])
            yield compile_time_key_at_runtime.finding(
                f"{name} is read at compile time but set only in runtime.exs: the release refuses to boot "
                f"(older Phoenix ignores it)",
                where(leaves[0]), key=name)


@rule("REL005", "url-host-hardcoded", Severity.WARNING, M,
      title="The prod URL host is hard-coded instead of read from PHX_HOST",
      raised="error when the host is \"localhost\" in an app shipped as a release: every generated URL "
             "and every socket origin check is then wrong, not merely fixed",
      why="""
      The endpoint's `url: [host: ...]` builds every absolute URL and is the origin that
      `check_origin` accepts for LiveView and channel sockets. A host fixed at build time (or left as
      `localhost`) breaks sockets and links on any other domain, and one release cannot serve staging
      and production.
      """,
      fix='In runtime.exs: `host = System.get_env("PHX_HOST") || "example.com"` and `url: [host: host, '
          'port: 443, scheme: "https"]`. A fixed port and scheme behind a TLS proxy are right.')
def url_host_hardcoded(project):
    view = project.config()
    for app, module in project.endpoint_keys():
        host = view.settled(app, module, "url", "host")
        if not isinstance(host, Lit) or host.conditional:
            continue
        if view.has(app, module, "check_origin"):
            continue  # origins are pinned explicitly: a fixed host is a choice (internal endpoints)
        if host.value == "localhost" and project.release_mode == "release":
            yield url_host_hardcoded.finding(
                f"{module} url host is \"localhost\" in {view.env}: generated URLs and check_origin are wrong",
                where(host), key=module, severity=Severity.ERROR, confidence=H)
        elif isinstance(host.value, str):
            yield url_host_hardcoded.finding(f"{module} url host is fixed to {host.value!r} in {view.env}",
                                             where(host), key=module)


@rule("REL006", "http-port-hardcoded", Severity.INFO, M, subject=RELEASE,
      title="The prod HTTP listen port is fixed instead of read from PORT",
      why="Platforms (Fly, Heroku, Render, Kubernetes) tell the app which port to listen on through PORT.",
      fix='In runtime.exs: `port = String.to_integer(System.get_env("PORT") || "4000")` and '
          '`http: [ip: {0, 0, 0, 0, 0, 0, 0, 0}, port: port]`.')
def http_port_hardcoded(project):
    doubt, confidence = release_doubt(project)
    view = project.config()
    for app, module in project.endpoint_keys():
        port = view.settled(app, module, "http", "port")
        if isinstance(port, Lit) and not port.conditional:
            yield http_port_hardcoded.finding(f"{module} listens on fixed port {port.value} in {view.env}{doubt}",
                                              where(port), key=module, confidence=confidence)


def _repo_values(project, app, repo):
    view = project.config()
    return {p[2]: h for p, h in view.subtree(app, repo).items() if len(p) >= 3}


def _repos(project):
    """Repos whose config the audit can read to the end (code that builds it makes it unknown)."""
    view = project.config()
    for app, repo in project.repo_keys():
        if view.shadowed(app, repo, phase="runtime") is None:
            yield app, repo


@rule("REL007", "repo-not-configured-at-runtime", Severity.WARNING, H, subject=RELEASE & REPO,
      title="The Repo's database connection is not configured at runtime",
      why="""
      A release must connect to the database named by its environment (DATABASE_URL), read when it
      boots. Connection settings from compile-time config are frozen into the build.
      """,
      fix='In runtime.exs: `database_url = System.get_env("DATABASE_URL") || raise "..."` and '
          '`config :my_app, MyApp.Repo, url: database_url`.')
def repo_not_runtime(project):
    doubt, confidence = release_doubt(project)
    for app, repo in _repos(project):
        values = _repo_values(project, app, repo)
        connection = [runtime_value(values.get(k, [])) for k in ("url", "hostname", "database", "socket_dir")]
        if any(v is not None and not isinstance(v, Lit) for v in connection):
            continue  # from the environment, or computed at boot by code (a helper macro): runtime either way
        yield repo_not_runtime.finding(
            f"{repo} gets no database URL or host from the environment at runtime{doubt}", _config_file(project),
            key=repo, confidence=confidence)


@rule("REL008", "repo-pool-size-fixed", Severity.INFO, M, subject=REPO,
      title="The Repo pool size is fixed instead of read from POOL_SIZE",
      why="Pool size must follow the database's connection limit and the number of nodes; that changes per deploy.",
      fix='`pool_size: String.to_integer(System.get_env("POOL_SIZE") || "10")` in runtime.exs.')
def repo_pool_fixed(project):
    for app, repo in _repos(project):
        pool = project.config().settled(app, repo, "pool_size")
        if isinstance(pool, Lit) and not pool.conditional:
            yield repo_pool_fixed.finding(f"{repo} pool_size is fixed to {pool.value}", where(pool), key=repo)


@rule("REL009", "repo-ssl-undecided", Severity.INFO, L, subject=RELEASE & REPO,
      title="The Repo's prod config makes no decision about SSL to the database",
      why="""
      Managed databases usually require TLS; a plain connection across a network sends credentials
      and data in clear. A commented-out `# ssl: true` is not a decision.
      """,
      fix="Set `ssl: true` (with `ssl_opts` verifying the server) or `ssl: false` explicitly in runtime.exs.")
def repo_ssl_undecided(project):
    doubt, confidence = release_doubt(project)
    for app, repo in _repos(project):
        values = _repo_values(project, app, repo)
        if not values or "ssl" in values:
            continue
        if any(str(plain(v) or "").find("sslmode=") >= 0 for v in values.get("url", [])):
            continue
        anchor = runtime_value(values.get("url", [])) or next(iter(values.values()))[-1]
        yield repo_ssl_undecided.finding(
            f"{repo} sets neither `ssl: true` nor `ssl: false` for {project.env}{doubt}", where(anchor), key=repo,
            confidence=confidence)


@rule("REL010", "repo-ipv6-not-handled", Severity.INFO, M, subject=RELEASE & REPO & FLY,
      title="The Repo cannot connect over IPv6 (ECTO_IPV6 not handled)",
      why="Fly.io private networking and some Kubernetes clusters are IPv6-only: the release cannot reach its database.",
      fix='`maybe_ipv6 = if System.get_env("ECTO_IPV6") in ~w(true 1), do: [:inet6], else: []` and '
          '`socket_options: maybe_ipv6` in runtime.exs.')
def repo_ipv6(project):
    # IPv6-only private networks are Fly.io's; elsewhere the generator's ECTO_IPV6 switch is optional.
    doubt, confidence = release_doubt(project)
    for app, repo in _repos(project):
        values = _repo_values(project, app, repo)
        runtime = [v for h in values.values() for v in h if v.origin and v.origin.phase == "runtime"]
        if not runtime:
            continue  # REL007 covers a repo with no runtime config at all
        socket = values.get("socket_options", [])
        if any("inet6" in str(plain(v)) or env_names(v) or "inet6" in getattr(v, "text", "") for v in socket):
            continue
        yield repo_ipv6.finding(f"{repo} has no `socket_options` for IPv6 (ECTO_IPV6){doubt}", where(runtime[0]),
                                key=repo, confidence=confidence)


@rule("REL011", "no-migration-task", Severity.WARNING, H, subject=RELEASE & REPO,
      title="Ecto is used but the release has no task to run migrations",
      why="""
      A release has no Mix, so `mix ecto.migrate` is not available in production. Without a module
      calling `Ecto.Migrator` (the `MyApp.Release` module of `mix phx.gen.release`), migrations are run
      by hand from a developer machine, or not at all.
      """,
      fix="Run `mix phx.gen.release` (it writes lib/my_app/release.ex and rel/overlays/bin/migrate), or add "
          "a module calling `Ecto.Migrator.with_repo/2` and `Ecto.Migrator.run/4`.")
def no_migration_task(project):
    if not project.has_dep("ecto_sql") or project.migrators:
        return
    doubt, confidence = release_doubt(project)
    yield no_migration_task.finding(f"ecto_sql is a dependency but no module calls Ecto.Migrator{doubt}",
                                    Location(path=project.mix.file, line=project.mix.module_line), key="migrator",
                                    confidence=confidence)

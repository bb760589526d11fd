"""AST: assets built for prod and served with compression and long caching."""

from __future__ import annotations

from phoenix_ops.elixir.values import KW, Lit, Seq, plain
from phoenix_ops.findings import Confidence, Location, Severity
from phoenix_ops.rule import Subject, rule
from phoenix_ops.rules.endpoints import dev_only, endpoint_configs, is_false
from phoenix_ops.rules.subjects import deps_unread

H, M, L = Confidence.HIGH, Confidence.MEDIUM, Confidence.LOW
BUNDLERS = ("esbuild", "tailwind", "dart_sass", "bun", "node")  # first word of an alias step that bundles
BUNDLER_DEPS = ("esbuild", "tailwind", "dart_sass", "bun")
ONE_YEAR = 31536000


def _has_assets(project) -> bool:
    """The Mix asset pipeline (esbuild, tailwind, ...); an npm build of its own needs no alias."""
    return any(project.has_dep(b) for b in BUNDLER_DEPS)


def _builds_assets(project) -> bool:
    aliases = project.mix.get("aliases")
    return _has_assets(project) or (isinstance(aliases, KW) and aliases.get("assets.deploy") is not None) \
        or project.exists("assets/package.json")


ASSETS = Subject("no asset pipeline (no esbuild, tailwind, dart_sass or bun dependency, no assets.deploy alias, "
                 "no assets/package.json)", _builds_assets, lambda project: deps_unread(project, BUNDLER_DEPS))


def _asset_mix(project):
    """The mix project that builds the assets (the web app of an umbrella)."""
    for mix in [project.mix, *project.apps]:
        if any(mix.has_dep(b) for b in BUNDLER_DEPS):
            return mix
    return project.mix


def _steps(value) -> list[str] | None:
    if isinstance(value, Seq) and all(isinstance(v, Lit) for v in value.items):
        return [str(v.value) for v in value.items]
    if isinstance(value, Lit) and isinstance(value.value, str):
        return [value.value]
    return None


@rule("AST001", "assets-deploy-alias", Severity.WARNING, H, subject=ASSETS,
      title="The assets.deploy alias is missing, does not minify, or does not end with phx.digest",
      why="""
      Dockerfiles and platforms run `mix assets.deploy` to build prod assets. Without minification the
      JS and CSS ship at development size; without `phx.digest` last, there is no cache manifest, so
      assets get no fingerprint and no long caching, and what was digested before the last build
      step is stale.
      """,
      fix='`"assets.deploy": ["tailwind my_app --minify", "esbuild my_app --minify", "phx.digest"]` in the '
          "mix.exs aliases.")
def assets_deploy_alias(project):
    if not _has_assets(project):
        return
    mix = _asset_mix(project)
    aliases = mix.get("aliases")
    if not isinstance(aliases, KW) or aliases.partial:
        return
    loc = Location(path=mix.file, line=aliases.origin.line if aliases.origin else mix.module_line)
    value = aliases.get("assets.deploy")
    if value is None:
        yield assets_deploy_alias.finding(f"{mix.file} defines no assets.deploy alias", loc, key=mix.file)
        return
    steps = _steps(value)
    if steps is None:
        return
    where = Location(path=mix.file, line=value.origin.line if value.origin else loc.line)
    bundling = [s for s in steps if s.split(" ")[0] in BUNDLERS or s.startswith(("cmd ", "esbuild", "tailwind"))]
    if bundling and not any("--minify" in s or "deploy" in s or "--production" in s for s in bundling):
        yield assets_deploy_alias.finding(f"assets.deploy runs {', '.join(bundling)} without --minify", where,
                                          key=f"{mix.file}:minify")
    if not steps or steps[-1].split(" ")[0] != "phx.digest":
        yield assets_deploy_alias.finding("assets.deploy does not end with phx.digest", where,
                                          key=f"{mix.file}:digest")


def _static(cfg):
    if cfg.endpoint is None:
        return None
    plug = cfg.endpoint.plug("Plug.Static")
    return plug if plug is not None and not dev_only(plug.guard) else None


# Rules on how static files are served: moot for an app whose prod endpoint serves none.
STATIC = Subject("no endpoint serves Plug.Static in prod",
                 lambda project: any(_static(cfg) is not None for cfg in endpoint_configs(project)))


@rule("AST002", "cache-static-manifest-missing", Severity.WARNING, H, subject=STATIC,
      title="Prod serves static files but sets no cache_static_manifest",
      why="""
      `cache_static_manifest` is how `~p"/assets/app.js"` becomes `/assets/app-3f2a….js?vsn=d`: without
      it prod links to undigested names, browsers cannot cache them long, and every deploy risks
      clients running old JS against new HTML.
      """,
      fix='`config :my_app, MyAppWeb.Endpoint, cache_static_manifest: "priv/static/cache_manifest.json"` in '
          "config/prod.exs, and run `mix assets.deploy` in the build.")
def cache_static_manifest_missing(project):
    for cfg in endpoint_configs(project):
        plug = _static(cfg)
        if plug is None or cfg.unknown("cache_static_manifest") or cfg.get("cache_static_manifest") is not None:
            continue
        yield cache_static_manifest_missing.finding(
            f"{cfg.module} serves Plug.Static but has no cache_static_manifest for {cfg.view.env}",
            Location(path=cfg.endpoint.file, line=plug.line), key=cfg.module)


@rule("AST003", "dev-watchers-in-prod", Severity.WARNING, H,
      title="Asset watchers or live reload are configured outside dev",
      why="""
      `watchers:` start esbuild/tailwind processes next to the endpoint and `live_reload:` watches
      files: in a release the binaries are missing or, worse, run. Set in config.exs they reach every
      environment.
      """,
      fix="Move `watchers:` and `live_reload:` to config/dev.exs.")
def dev_watchers_in_prod(project):
    for cfg in endpoint_configs(project):
        for key in ("watchers", "live_reload"):
            history = [v for v in cfg.history(key) if not v.conditional]
            values = [v for v in history if not is_false(v) and plain(v) not in ([], {})]
            if values:
                yield dev_watchers_in_prod.finding(f"{cfg.module} has `{key}:` in {cfg.view.env} config",
                                                   cfg.location(values[0]), key=f"{cfg.module}:{key}")


@rule("AST004", "static-without-gzip", Severity.INFO, H, subject=STATIC,
      title="Plug.Static serves prod assets without gzip",
      why="""
      `mix phx.digest` writes a compressed `.gz` beside every asset; Plug.Static serves it only with
      `gzip: true`. With `gzip: false` (Phoenix 1.7's generator) browsers download JS and CSS at full
      size, unless a proxy in front compresses.
      """,
      fix="`plug Plug.Static, ..., gzip: not code_reloading?` (Phoenix 1.8's generator), or `gzip: true`.")
def static_without_gzip(project):
    for cfg in endpoint_configs(project):
        plug = _static(cfg)
        if plug is None or not isinstance(plug.options, KW) or plug.options.partial:
            continue
        if cfg.get("cache_static_manifest") is None:
            continue  # nothing is digested, so there are no .gz files to serve (AST002 says so)
        gzip = plug.options.get("gzip")
        if gzip is None or is_false(gzip):
            yield static_without_gzip.finding(f"{cfg.module} Plug.Static has gzip {'off' if gzip else 'unset'}: "
                                              f"digested .gz files are never served",
                                              Location(path=cfg.endpoint.file, line=plug.line), key=cfg.module)


@rule("AST005", "static-cache-headers-short", Severity.WARNING, M, subject=STATIC,
      title="Digested assets are served without long cache headers",
      why="""
      Plug.Static gives requests with a `vsn` query (digested assets) `cache-control: public,
      max-age=31536000, immutable`. Overriding `cache_control_for_vsn_requests` with nil or a short
      max-age makes every page load revalidate every asset.
      """,
      fix="Leave `cache_control_for_vsn_requests` at its default, or keep `max-age=31536000, immutable`.")
def static_cache_headers_short(project):
    for cfg in endpoint_configs(project):
        plug = _static(cfg)
        if plug is None or not isinstance(plug.options, KW):
            continue
        value = plug.options.get("cache_control_for_vsn_requests")
        if value is None:
            continue
        text = plain(value)
        short = is_false(value) or (isinstance(text, str) and _max_age(text) < ONE_YEAR)
        if short:
            yield static_cache_headers_short.finding(
                f"{cfg.module} Plug.Static sets cache_control_for_vsn_requests to {text!r}: digested assets are "
                f"not cached long", Location(path=cfg.endpoint.file, line=plug.line), key=cfg.module)


def _max_age(header: str) -> int:
    for part in header.split(","):
        name, _, seconds = part.strip().partition("=")
        if name == "max-age" and seconds.isdigit():
            return int(seconds)
    return 0

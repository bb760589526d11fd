"""Questions HTTP rules ask of the Project model: the endpoint's prod config, its plugs, the router's pipelines."""

from __future__ import annotations

from collections.abc import Iterator

from phoenix_ops.elixir.values import KW, Lit, Value, plain
from phoenix_ops.findings import Location
from phoenix_ops.patterns import has_word, mentions
from phoenix_ops.record import record

# Plug names that authenticate whoever passes (a pipeline holding one is not public).
AUTH_PLUG = ("auth", "basic", "require", "admin", "token", "login", "ensure", "verify", "guardian", "api_key",
             "session_required")  # any case, anywhere in the name (see patterns.mentions)
# Plug names that refuse a request without credentials (an auth plug that only loads the user does not).
REQUIRES_AUTH = ("require", "ensure", "basicauth", "basic_auth", "authenticated", "admin", "protected",
                 "session_required")


@record
class EndpointConfig:
    app: str
    module: str
    endpoint: object | None  # project.web.Endpoint, when its module was read
    view: object  # the ConfigView of the audited env

    def get(self, *keys: str) -> Value | None:
        """The value in effect at this key, or None when unset or set over by unreadable code."""
        return self.view.settled(self.app, self.module, *keys)

    def history(self, *keys: str) -> list[Value]:
        return [v for p, h in self.view.subtree(self.app, self.module, *keys).items() for v in h]

    def unknown(self, *keys: str) -> bool:
        """Whether code the audit cannot read may set this key."""
        return self.view.shadowed(self.app, self.module, *keys) is not None

    def has(self, *keys: str) -> bool:
        return self.view.has(self.app, self.module, *keys)

    @property
    def serves_app(self) -> bool:
        """Whether this endpoint carries the application's router (an internal metrics endpoint does not)."""
        if self.endpoint is None:
            return True
        return any(p.module.endswith("Router") for p in self.endpoint.plugs) or not self.endpoint.plugs

    def location(self, value: Value | None = None) -> Location:
        if value is not None and value.origin is not None:
            return Location(path=value.origin.file, line=value.origin.line)
        if self.endpoint is not None:
            return Location(path=self.endpoint.file, line=self.endpoint.line)
        return Location(path="config/config.exs", line=1)


def endpoint_configs(project) -> Iterator[EndpointConfig]:
    view = project.config()
    by_module = {e.module: e for e in project.endpoints}
    for app, module in project.endpoint_keys():
        yield EndpointConfig(app, module, by_module.get(module), view)


def plug_location(endpoint, plug) -> Location:
    return Location(path=endpoint.file, line=plug.line)


def option(value: Value | None, key: str) -> Value | None:
    return value.get(key) if isinstance(value, KW) else None


def literal(value: Value | None):
    """The Python value of an unconditional literal, else None."""
    return plain(value) if isinstance(value, Lit) and not value.conditional else None


def is_false(value: Value | None) -> bool:
    return isinstance(value, Lit) and value.value in (False, None) and value.origin is not None


def pipelines_of(router, route) -> list:
    """Every plug the route's pipelines run, in order."""
    return [p for name in route.pipelines for p in router.pipelines.get(name, [])]


def authenticated(router, route) -> bool:
    """A plug of the route's pipelines, or a function plug it pipes through (a name that is no
    pipeline: `pipe_through [:browser, :auth]` with `def auth(conn, _opts)` in the router), is named
    for authentication; or the dashboard's own options name it."""
    plugs = [p.module for p in pipelines_of(router, route)]
    plugs += [name for name in route.pipelines if name not in router.pipelines]
    return any(mentions(plug, AUTH_PLUG) for plug in plugs) or bool(
        route.verb == "live_dashboard" and route.target and mentions(route.target, AUTH_PLUG))


def dev_only(guard: str | None) -> bool:
    """A guard that keeps code out of prod: `compile_env(:app, :dev_routes)`, `Mix.env() in [:dev, :test]`,
    `is_env?(:dev)`, `code_reloading?`."""
    if not guard:
        return False
    lowered = guard.lower()
    return mentions(lowered, ("dev_routes", "code_reloading?")) or has_word(lowered, "dev") \
        or has_word(lowered, ":dev", start=False) or has_word(lowered, ":test", start=False)


def _dig(value, keys):
    for key in keys:
        value = option(value, key)
    return value


def force_ssl(cfg):
    """(option getter, where) of force_ssl in prod: endpoint config or a `plug Plug.SSL` in the endpoint;
    (None, None) when neither is set."""
    value = cfg.get("force_ssl")
    leaves = cfg.history("force_ssl")
    if leaves and not (value is not None and is_false(value)):
        if value is not None and not isinstance(value, KW):
            return None, cfg.location(value)  # computed by code: unknown options
        return (lambda *keys: cfg.get("force_ssl", *keys)), cfg.location(leaves[0])
    plug = cfg.endpoint.plug("Plug.SSL") if cfg.endpoint is not None else None
    if plug is not None and not dev_only(plug.guard) and isinstance(plug.options, (KW, type(None))):
        return (lambda *keys: _dig(plug.options, keys)), plug_location(cfg.endpoint, plug)
    return None, None

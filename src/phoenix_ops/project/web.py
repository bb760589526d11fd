"""The Phoenix endpoint (plugs, sockets, session options), the router and application children."""

from __future__ import annotations

from tree_sitter import Node

from phoenix_ops.elixir.evaluate import Evaluator
from phoenix_ops.elixir.modules import Module
from phoenix_ops.elixir.parser import line, text
from phoenix_ops.elixir.syntax import block_parts, call_args, call_parts, do_block
from phoenix_ops.elixir.values import (
    KW,
    Atom,
    Lit,
    Seq,
    Value,
    alternatives,
    list_items,
    plain,
    truthy,
)
from phoenix_ops.record import field, record

ROUTE_VERBS = {"get", "post", "put", "patch", "delete", "options", "head", "live", "resources",
               "live_dashboard", "forward", "match", "live_session"}


@record
class Plug:
    module: str
    options: Value | None
    line: int
    guard: str | None = None  # source text of an enclosing `if`, when there is one


@record
class Socket:
    path: str
    module: str
    options: Value | None
    line: int
    guard: str | None = None


@record
class Endpoint:
    module: str
    file: str
    line: int
    otp_app: str | None
    plugs: list[Plug] = field(default_factory=list)
    sockets: list[Socket] = field(default_factory=list)
    attributes: dict[str, Value] = field(default_factory=dict)

    def plug(self, module: str) -> Plug | None:
        return next((p for p in self.plugs if p.module == module), None)


@record
class Route:
    verb: str
    path: str  # full path, scopes applied
    target: str
    line: int
    pipelines: tuple[str, ...] = ()
    guard: str | None = None  # an enclosing `if` (dev routes are guarded this way)
    module: str = ""  # the target module with the scope's alias applied ("DemoWeb.PageController")


@record
class Router:
    module: str
    file: str
    pipelines: dict[str, list[Plug]] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)


def _module_evaluator(env: str, file: str) -> Evaluator:
    return Evaluator(env, file=file, phase="compile")


def read_endpoint(mod: Module, file: str, env: str) -> Endpoint:
    ev = _module_evaluator(env, file)
    scope: dict[str, Value] = {}
    otp_app = None
    for used, node in mod.uses:
        if used == "Phoenix.Endpoint":
            opts = plain(ev.ev(call_args(node)[-1], scope)) if len(call_args(node)) > 1 else None
            app = (opts or {}).get("otp_app") if isinstance(opts, dict) else None
            otp_app = getattr(app, "name", None)
    endpoint = Endpoint(mod.name, file, line(mod.node), otp_app)
    _collect_plugs(ev, mod.body, scope, endpoint.plugs, endpoint=endpoint)
    for plug in endpoint.plugs:  # `alias MyAppWeb.Plugs.Health` then `plug Health`
        plug.module = mod.expand(plug.module)
    endpoint.attributes = {k[1:]: v for k, v in scope.items() if k.startswith("@")}
    return endpoint


def _collect_plugs(ev: Evaluator, body: list[Node], scope: dict, plugs: list[Plug], *,
                   endpoint: Endpoint | None = None, guard: str | None = None) -> None:
    for stmt in body:
        if stmt.type == "unary_operator" and text(stmt).startswith("@"):
            ev.module_attribute(stmt, scope)
            continue
        if stmt.type != "call":
            continue
        mod, fun = call_parts(stmt)
        args = call_args(stmt)
        if mod is None and fun == "plug" and args:
            opts = _options(ev, args[1], scope) if len(args) > 1 else None
            plugs.append(Plug(text(args[0]), opts, line(stmt), guard))
        elif mod is None and fun == "socket" and endpoint is not None and len(args) >= 2:
            path = ev.ev(args[0], scope)
            opts = ev.ev(args[2], scope) if len(args) > 2 else None
            endpoint.sockets.append(Socket(str(getattr(path, "value", text(args[0]))), text(args[1]), opts, line(stmt),
                                           guard))
        elif mod is None and fun in ("if", "unless") and do_block(stmt) is not None and args:
            inner = [c for c in do_block(stmt).named_children if c.type not in ("comment", "else_block")]
            _collect_plugs(ev, inner, scope, plugs, endpoint=endpoint, guard=text(args[0]))


def _options(ev: Evaluator, node: Node, scope: dict) -> Value:
    """Plug options; a map with string keys (the headers of `put_secure_browser_headers`) as a keyword list."""
    if node.type != "map":
        return ev.ev(node, scope)
    items: list[tuple[str, Value]] = []
    for content in node.named_children:
        for pair in content.named_children:
            if pair.type == "binary_operator":
                key = ev.ev(pair.child_by_field_name("left"), scope)
                if isinstance(key, Lit) and isinstance(key.value, str):
                    items.append((key.value.lower(), ev.ev(pair.child_by_field_name("right"), scope)))
    return ev.mark(KW(items), node)


def read_router(mod: Module, file: str, env: str) -> Router:
    ev = _module_evaluator(env, file)
    router = Router(mod.name, file)
    _walk_router(ev, router, mod.body, prefix="", pipes=(), guard=None, alias="", attrs={})
    return router


def _walk_router(ev: Evaluator, router: Router, body: list[Node], *, prefix: str, pipes: tuple, guard,
                 alias: str, attrs: dict) -> tuple:
    """Record the routes of `body`; the pipelines in force at its end (a `pipe_through` inside an
    `if` at scope level holds for the routes after it)."""
    for stmt in body:
        if stmt.type == "unary_operator" and text(stmt).startswith("@"):
            ev.module_attribute(stmt, attrs)  # `@csp "..."` used by a pipeline below
            continue
        if stmt.type != "call":
            continue
        mod, fun = call_parts(stmt)
        args = call_args(stmt)
        block = do_block(stmt)
        if mod is not None:
            continue
        inner = [c for c in block.named_children if c.type not in ("comment", "else_block")] if block else []
        if fun == "pipeline" and args and block is not None:
            plugs: list[Plug] = []
            _collect_plugs(ev, inner, dict(attrs), plugs)
            router.pipelines[text(args[0]).lstrip(":")] = plugs
        elif fun == "pipe_through" and args:
            value = plain(ev.ev(args[0], {}))
            names = value if isinstance(value, (list, tuple)) else [value]
            pipes = pipes + tuple(getattr(n, "name", str(n)) for n in names)
        elif fun == "scope" and block is not None:
            path = ev.ev(args[0], {}) if args and args[0].type != "alias" else None
            sub = path.value if isinstance(path, Lit) and isinstance(path.value, str) else ""
            named = next((text(a) for a in args if a.type == "alias"), None)
            inner_alias = _join_alias(alias, named) if named else alias
            _walk_router(ev, router, inner, prefix=_join(prefix, sub), pipes=pipes, guard=guard,
                         alias=inner_alias, attrs=attrs)
        elif fun in ("if", "unless") and block is not None and args:
            body_, other, _ = block_parts(block)
            taken = ev.ev(args[0], {})
            if isinstance(taken, Lit):  # `if Mix.env() in [:dev, :test]`: decided for the env audited
                chosen = body_ if truthy(taken.value) == (fun == "if") else other
                pipes = _walk_router(ev, router, chosen, prefix=prefix, pipes=pipes, guard=guard, alias=alias,
                                     attrs=attrs)
            else:  # either branch may hold: each route keeps the condition, the pipelines of both follow
                ends = [_walk_router(ev, router, branch, prefix=prefix, pipes=pipes, guard=text(args[0]),
                                     alias=alias, attrs=attrs) for branch in (body_, other)]
                pipes = tuple(dict.fromkeys(p for end in ends for p in end))
        elif fun in ROUTE_VERBS and args:
            path = ev.ev(args[0], {})
            sub = path.value if isinstance(path, Lit) and isinstance(path.value, str) else text(args[0])
            target = text(args[1]) if len(args) > 1 else ""
            module = _join_alias(alias, target) if len(args) > 1 and args[1].type == "alias" else ""
            router.routes.append(Route(fun, _join(prefix, sub), target, line(stmt), pipes, guard, module))
            if block is not None and fun == "live_session":
                _walk_router(ev, router, inner, prefix=prefix, pipes=pipes, guard=guard, alias=alias, attrs=attrs)
    return pipes


def _join_alias(alias: str, name: str) -> str:
    return f"{alias}.{name}" if alias else name


def _join(prefix: str, path: str) -> str:
    """A route's path under its scopes, as Phoenix joins them: the segments of both, empty ones
    dropped (`scope "/health"` with `get "/"` is /health, not /health/)."""
    return "/" + "/".join(segment for part in (prefix, path) for segment in part.split("/") if segment)


@record
class Child:
    """A child of an application's supervision tree: its module, line and start argument."""

    module: str
    file: str
    line: int
    arg: Value | None = None  # `opts` of `{Module, opts}`, evaluated
    index: int = 0  # start position in its children list
    group: int = 0  # which possible children list (a `case` or function clause may choose among several)
    condition: str = ""  # `parent && {Mod, opts}`, `if cond, do: Mod`: what decides at boot whether it starts


def application_children(mod: Module, file: str, env: str) -> tuple[list[Child], bool]:
    """The children of `start/2`, in start order, and whether the list was read completely
    (helper functions of the module are followed; code beyond the evaluator makes it partial).
    A child behind a condition (`cond && child`, an inline `if`) may start: it is read, with its condition."""
    ev = _module_evaluator(env, file)
    module = ev.enter_module(mod.body)
    bodies = mod.functions("start")
    scope: dict[str, Value] = dict(module.attributes)
    for stmt in bodies.get("start", []):
        ev.statement(stmt, scope)
        if "children" in scope:
            break
    options = alternatives(scope.get("children"))
    out: list[Child] = []
    complete = bool(options)
    default = line(mod.node)
    for group, children in enumerate(options):
        items = list_items(children)
        if items is None:
            complete = False
            continue
        complete = complete and not getattr(children, "partial", False)
        for index, item in enumerate(items):
            for child in alternatives(item):
                if isinstance(child, Lit) and not child.value:
                    continue  # the branch where `cond && child` starts nothing
                tuple_ = isinstance(child, Seq) and child.kind == "tuple" and child.items
                head = child.items[0] if tuple_ else child
                name = getattr(plain(head), "name", None) or getattr(head, "text", "")
                if not isinstance(plain(head), Atom):
                    complete = False  # `Sequin.PubSub.child_spec()`: a spec built by code, its module unknown
                if name:
                    arg = child.items[1] if tuple_ and len(child.items) > 1 else None
                    where_ = child.origin or (arg.origin if arg is not None else None)
                    out.append(Child(str(name), file, where_.line if where_ else default, arg, index, group,
                                     " and ".join(c.text for c in _own_conditions(child, children))))
    return out, complete


def _own_conditions(child: Value, children: Value):
    """The conditions a child is started under, beyond those of its whole list (an `if` around it)."""
    return [c for c in child.conditions if c not in children.conditions]

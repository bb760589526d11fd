"""The Phoenix endpoint (plugs, sockets, session options), the router and application children."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from phoenix_ops.elixir.evaluate import Evaluator
from phoenix_ops.elixir.modules import Module
from phoenix_ops.elixir.parser import line, text
from phoenix_ops.elixir.syntax import call_args, call_parts, do_block
from phoenix_ops.elixir.values import KW, Lit, Seq, Value, plain

ROUTE_VERBS = {"get", "post", "put", "patch", "delete", "options", "head", "live", "resources",
               "live_dashboard", "forward", "match", "live_session"}


@dataclass
class Plug:
    module: str
    options: Value | None
    line: int
    guard: str | None = None  # source text of an enclosing `if`, when there is one


@dataclass
class Socket:
    path: str
    module: str
    options: Value | None
    line: int


@dataclass
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


@dataclass
class Route:
    verb: str
    path: str  # full path, scopes applied
    target: str
    line: int
    pipelines: tuple[str, ...] = ()
    guard: str | None = None  # an enclosing `if` (dev routes are guarded this way)


@dataclass
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
            opts = ev.ev(args[1], scope) if len(args) > 1 else None
            plugs.append(Plug(text(args[0]), opts, line(stmt), guard))
        elif mod is None and fun == "socket" and endpoint is not None and len(args) >= 2:
            path = ev.ev(args[0], scope)
            opts = ev.ev(args[2], scope) if len(args) > 2 else None
            endpoint.sockets.append(Socket(str(getattr(path, "value", text(args[0]))), text(args[1]), opts, line(stmt)))
        elif mod is None and fun in ("if", "unless") and do_block(stmt) is not None and args:
            inner = [c for c in do_block(stmt).named_children if c.type not in ("comment", "else_block")]
            _collect_plugs(ev, inner, scope, plugs, endpoint=endpoint, guard=text(args[0]))


def read_router(mod: Module, file: str, env: str) -> Router:
    ev = _module_evaluator(env, file)
    router = Router(mod.name, file)
    _walk_router(ev, router, mod.body, prefix="", pipes=(), guard=None)
    return router


def _walk_router(ev: Evaluator, router: Router, body: list[Node], *, prefix: str, pipes: tuple, guard) -> None:
    for stmt in body:
        if stmt.type != "call":
            continue
        mod, fun = call_parts(stmt)
        args = call_args(stmt)
        block = do_block(stmt)
        if mod is not None:
            continue
        if fun == "pipeline" and args and block is not None:
            plugs: list[Plug] = []
            _collect_plugs(ev, [c for c in block.named_children if c.type != "comment"], {}, plugs)
            router.pipelines[text(args[0]).lstrip(":")] = plugs
        elif fun == "pipe_through" and args:
            value = plain(ev.ev(args[0], {}))
            names = value if isinstance(value, (list, tuple)) else [value]
            pipes = pipes + tuple(getattr(n, "name", str(n)) for n in names)
        elif fun == "scope" and block is not None:
            path = ev.ev(args[0], {}) if args else None
            sub = path.value if isinstance(path, Lit) and isinstance(path.value, str) else ""
            inner = [c for c in block.named_children if c.type != "comment"]
            _walk_router(ev, router, inner, prefix=_join(prefix, sub), pipes=pipes, guard=guard)
        elif fun in ("if", "unless") and block is not None and args:
            inner = [c for c in block.named_children if c.type not in ("comment", "else_block")]
            _walk_router(ev, router, inner, prefix=prefix, pipes=pipes, guard=text(args[0]))
        elif fun in ROUTE_VERBS and args:
            path = ev.ev(args[0], {})
            sub = path.value if isinstance(path, Lit) and isinstance(path.value, str) else text(args[0])
            target = text(args[1]) if len(args) > 1 else ""
            router.routes.append(Route(fun, _join(prefix, sub), target, line(stmt), pipes, guard))
            if block is not None and fun == "live_session":
                inner = [c for c in block.named_children if c.type != "comment"]
                _walk_router(ev, router, inner, prefix=prefix, pipes=pipes, guard=guard)


def _join(prefix: str, path: str) -> str:
    if not path.startswith("/"):
        return (prefix.rstrip("/") + "/" + path) if prefix else path
    return (prefix.rstrip("/") + path) if prefix not in ("", "/") else path


@dataclass
class Child:
    """A child of an application's supervision tree: its module, line and start argument."""

    module: str
    file: str
    line: int
    arg: Value | None = None  # `opts` of `{Module, opts}`, evaluated


def application_children(mod: Module, file: str, env: str) -> list[Child]:
    """The children list of `start/2`, in start order."""
    ev = _module_evaluator(env, file)
    bodies = mod.functions("start")
    scope: dict[str, Value] = {}
    for stmt in bodies.get("start", []):
        ev.statement(stmt, scope)
        if "children" in scope:
            break
    children = scope.get("children")
    default = line(mod.node)
    if isinstance(children, KW):  # every child a {Module, opts} tuple
        return [Child(name, file, value.origin.line if value.origin else default, value)
                for name, value in children.items]
    out: list[Child] = []
    if isinstance(children, Seq):
        for child in children.items:
            tuple_ = isinstance(child, Seq) and child.kind == "tuple" and child.items
            head = child.items[0] if tuple_ else child
            name = getattr(plain(head), "name", None) or getattr(head, "text", "")
            if name:
                arg = child.items[1] if tuple_ and len(child.items) > 1 else None
                out.append(Child(str(name), file, child.origin.line if child.origin else default, arg))
    return out

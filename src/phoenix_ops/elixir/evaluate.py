"""Abstract evaluation of the small part of Elixir that config files and mix.exs use.

Literals become Lit, env reads become EnvRead (with required/default/conversion), and everything
else becomes Expr holding its source text and the values it was built from. Conditions on the
Mix environment are decided; any other condition keeps every branch and marks values conditional.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from phoenix_ops.elixir.control import ControlFlow
from phoenix_ops.elixir.env_reads import CONVERSIONS, ENV_FUNS, EnvReads
from phoenix_ops.elixir.functions import (
    ENV_CAPTURES,
    EnvCapture,
    Fn,
    Functions,
    LocalModule,
    fn_clauses,
)
from phoenix_ops.elixir.limits import MAX_DEPTH, Budget
from phoenix_ops.elixir.literals import UNKNOWN, boolean_words, concat, fold
from phoenix_ops.elixir.parser import line, text
from phoenix_ops.elixir.syntax import (
    binary_op,
    block_parts,
    call_args,
    call_parts,
    do_block,
    inline_branches,
    named,
)
from phoenix_ops.elixir.terms import Terms
from phoenix_ops.elixir.values import (
    Atom,
    Condition,
    EnvRead,
    Expr,
    Lit,
    Origin,
    Seq,
    Value,
    truthy,
)

__all__ = ["CONVERSIONS", "ENV_FUNS", "Evaluator"]
# Local calls ending in `!` that are known; any other may be a helper macro hiding env reads.
KNOWN_BANG_CALLS = {"env!", "source!"}


# Node type -> the ev_<type> method of an evaluator class, found once per class rather than per node.
_HANDLERS: dict[type, dict[str, Callable[..., Value]]] = {}


def _handlers(cls: type) -> dict[str, Callable[..., Value]]:
    found = _HANDLERS.get(cls)
    if found is None:
        found = _HANDLERS[cls] = {name[3:]: getattr(cls, name) for name in dir(cls) if name.startswith("ev_")}
    return found


class Evaluator(ControlFlow, EnvReads, Functions, Terms):
    """Evaluates expressions in a scope; subclasses handle statements such as `config`."""

    def __init__(self, env: str, file: str = "", phase: str = "compile"):
        self.env = env
        self.file = file
        self.phase = phase
        self.reads: list[EnvRead] = []  # every env read met, in order
        self.conditions: tuple[Condition, ...] = ()
        self.current = LocalModule()  # the module whose local calls resolve (mix.exs `deps/0`)
        self.modules = {}  # helper modules the evaluated files define
        self._active = []  # functions being evaluated, innermost last
        self.opaque: list[tuple[str, int, str]] = []  # statements not understood: (file, line, text)
        self._opaque_seen: set[tuple[str, int, str]] = set()
        self._read_at: dict[tuple[str, int, str], EnvRead] = {}  # one read per source position and name
        self.budget = Budget()  # a caller evaluating several files gives each its own
        self.depth = 0  # expressions and blocks being evaluated, outermost first
        self._origins: dict[tuple[str, int, str], Origin] = {}
        self.too_deep: list[tuple[str, int]] = []  # (file, line) where nesting past MAX_DEPTH was cut
        self.handlers = _handlers(type(self))

    # -- provenance ---------------------------------------------------------------------------
    def origin(self, node: Node) -> Origin:
        key = (self.file, line(node), self.phase)
        found = self._origins.get(key)  # one per line, shared: a long list on one line is one origin
        if found is None:
            found = self._origins[key] = Origin(*key)
        return found

    def mark(self, value: Value, node: Node) -> Value:
        if not value.depth:  # values nest through variables too (`a = [a]` again and again)
            parts = value.parts()
            value.depth = 1 + max([v.depth for v in parts]) if parts else 1
            if value.depth > MAX_DEPTH:
                value = self.cut(node)
        if value.origin is None:
            value.origin = self.origin(node)
        if self.conditions and not value.conditions:
            value.conditions = self.conditions
        return value

    # -- statements ---------------------------------------------------------------------------
    def run_block(self, nodes: list[Node], scope: dict[str, Value]) -> Value | None:
        last: Value | None = None
        for node in nodes:
            last = self.statement(node, scope)
        return last

    def statement(self, node: Node, scope: dict[str, Value]) -> Value | None:
        if node.type == "comment":
            return None
        if self.budget.spent:
            return None
        if self.depth >= MAX_DEPTH:
            self.cut(node)
            return None
        self.depth += 1
        try:
            return self._statement(node, scope)
        finally:
            self.depth -= 1

    def _statement(self, node: Node, scope: dict[str, Value]) -> Value | None:
        if node.type == "call":
            mod, fun = call_parts(node)
            handled = self.on_call(mod, fun, node, scope)
            if handled is not None:
                return handled
            if mod is None and fun in ("if", "unless", "case", "cond", "for") and do_block(node):
                return self.control(fun, node, scope)
            if mod is None and fun == "try" and do_block(node):
                # What runs when nothing raises; a rescue clause only reports the failure. Variables
                # bound inside do not leave the try.
                return self.run_block(block_parts(do_block(node))[0], dict(scope))
            if mod is None and fun in ("if", "unless") and inline_branches(node):
                return self.conditional(fun, call_args(node)[0], *inline_branches(node), scope)
            if mod is None and fun in ("import", "use", "require", "alias"):
                return None
            if mod is None and fun == "defmodule":
                self.define_module(node)
                return None
        if node.type == "binary_operator" and binary_op(node) == "=":
            return self.bind(node, scope)
        if node.type == "unary_operator" and text(node).startswith("@"):
            return self.module_attribute(node, scope)
        return self.ev(node, scope)

    def note_opaque(self, node: Node) -> None:
        entry = (self.file, line(node), text(node)[:80])
        if entry not in self._opaque_seen:
            self._opaque_seen.add(entry)
            self.opaque.append(entry)

    def cut(self, node: Node) -> Expr:
        """What stands for an expression nested past MAX_DEPTH: unknown, and noted once per file."""
        if not any(f == self.file for f, _ in self.too_deep):
            self.too_deep.append((self.file, line(node)))
        return Expr("…", depth=1)

    def on_call(self, mod: str | None, fun: str | None, node: Node, scope: dict[str, Value]) -> Value | None:
        """Hook for statement-level calls; return a Value when handled."""
        return None

    def bind(self, node: Node, scope: dict[str, Value]) -> Value:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        value = self.ev(right, scope)
        if left is not None and left.type == "identifier":
            scope[text(left)] = value
        return value

    def module_attribute(self, node: Node, scope: dict[str, Value]) -> Value | None:
        operand = node.child_by_field_name("operand")
        if operand is not None and operand.type == "call":
            _, name = call_parts(operand)
            args = call_args(operand)
            if name and len(args) == 1:
                scope["@" + name] = self.ev(args[0], scope)
                return scope["@" + name]
        return None
    def ev(self, node: Node | None, scope: dict[str, Value]) -> Value:
        if node is None:
            return Expr("")
        budget = self.budget
        budget.left -= 1  # a step per node; its line is only looked up when the steps run out
        if budget.left < 0:
            budget.spend(0, self.file, line(node))
        if budget.stopped_at is not None:
            return Expr("…", depth=1)
        if self.depth >= MAX_DEPTH:
            return self.cut(node)
        method = self.handlers.get(node.type)
        self.depth += 1
        try:
            value = method(self, node, scope) if method is not None else self.opaque_expr(node, scope)
        finally:
            self.depth -= 1
        return self.mark(value, node)

    def opaque_expr(self, node: Node, scope: dict[str, Value]) -> Expr:
        """Keep the text; still evaluate the parts so env reads inside are found."""
        inner = [self.ev(c, scope) for c in named(node) if not self.budget.spent
                 and c.type not in ("comment", "identifier", "do_block", "stab_clause", "keyword", "operator_identifier")]
        return Expr(text(node), [v for v in inner if v.reads()])

    def ev_block(self, node: Node, scope) -> Value:
        children = [c for c in node.named_children if c.type != "comment"]
        return self.ev(children[-1], scope) if len(children) == 1 else self.opaque_expr(node, scope)

    def ev_identifier(self, node: Node, scope) -> Value:
        name = text(node)
        if name in scope:
            return scope[name]
        if name == "__DIR__":
            return Lit(self.file.rsplit("/", 1)[0] if "/" in self.file else ".")
        return Expr(name)

    def ev_unary_operator(self, node: Node, scope) -> Value:
        operand = node.child_by_field_name("operand")
        op = text(node)[: operand.start_byte - node.start_byte].strip() if operand is not None else ""
        if op == "@" and operand is not None:
            _, name = call_parts(operand) if operand.type == "call" else (None, text(operand))
            return scope.get("@" + (name or ""), Expr(text(node)))
        if op == "&" and (fun := ENV_CAPTURES.get("".join(text(operand).split()))):
            return EnvCapture(fun, text(node))  # `env = &System.get_env/1`, then `env.("PORT")`
        value = self.ev(operand, scope)
        if isinstance(value, Lit):
            if op == "-" and isinstance(value.value, (int, float)):
                return Lit(-value.value)
            if op in ("!", "not"):
                return Lit(not truthy(value.value))
        return Expr(text(node), [value])

    def ev_binary_operator(self, node: Node, scope) -> Value:
        op = binary_op(node)
        left_node, right_node = node.child_by_field_name("left"), node.child_by_field_name("right")
        if op == "|>":
            return self.pipe(left_node, right_node, scope, node)
        if op == "=":
            return self.bind(node, scope)
        left = self.ev(left_node, scope)
        if op in ("||", "or") and isinstance(left, Lit):
            return left if truthy(left.value) else self.ev(right_node, scope)
        if op in ("&&", "and"):
            if isinstance(left, Lit):
                return self.ev(right_node, scope) if truthy(left.value) else left
            return self.guarded(left, left_node, right_node, scope, node)
        right = self.ev(right_node, scope)
        if op == "||" and isinstance(left, EnvRead):
            if isinstance(right, Expr) and right.raises:
                left.required = True
                return left
            if isinstance(right, Lit):
                left.default = right
                return left
        if op == "++":
            joined = concat(left, right, text(node))
            self.budget.spend(len(getattr(joined, "items", ())) // 64, self.file, line(node))
            return joined
        if isinstance(left, Lit) and isinstance(right, Lit):
            result = fold(op, left.value, right.value)
            if isinstance(result, str):  # a folded string costs its copy: doubling it again and again ends
                self.budget.spend(len(result) // 16, self.file, line(node))
            if result is not UNKNOWN:
                return Lit(result)
        if isinstance(left, Lit) and isinstance(right, Seq) and op in ("in", "not in"):
            items = [v.value for v in right.items if isinstance(v, Lit)]
            if len(items) == len(right.items):
                return Lit((left.value in items) == (op == "in"))
        if isinstance(left, EnvRead) and op in ("==", "!=", "in", "not in") and boolean_words(right):
            return self.convert(left, "boolean")
        return Expr(text(node), [left, right])

    def pipe(self, left_node: Node, right_node: Node, scope, node: Node) -> Value:
        left = self.ev(left_node, scope)
        if right_node is not None and right_node.type == "call":
            mod, fun = call_parts(right_node)
            conv = CONVERSIONS.get((mod or "", fun or ""))
            if conv:
                return self.apply_conversion(left, conv)
            if self.may_call(right_node, mod, fun):
                args = [left, *(self.ev(a, scope) for a in call_args(right_node))]
                value = self.call_value(right_node, mod, fun, args, scope)
                if value is not None:
                    return value
        return Expr(text(node), [left])

    def ev_call(self, node: Node, scope) -> Value:
        mod, fun = call_parts(node)
        args = call_args(node)
        if mod == "System" and fun in ENV_FUNS and args:
            read = self.system_env(node, fun, [self.ev(a, scope) for a in args])
            if read is not None:
                return read
        if mod is None and fun and fun.endswith("!") and fun not in KNOWN_BANG_CALLS:
            self.note_opaque(node)  # helper macros (`compile_config!(:key)`) hide env reads
        if mod is None and fun in ("env!", "env") and args:  # Dotenvy
            return self.dotenvy(node, args, scope)
        if (mod, fun) in ((None, "config_env"), ("Config", "config_env"), ("Mix", "env")) and not args:
            return Lit(Atom(self.env))
        if (mod, fun) in ((None, "config_target"), ("Config", "config_target"), ("Mix", "target")):
            return Lit(Atom("host"))
        if mod is None and fun == "raise":
            return Expr(text(node), raises=True)
        if mod is None and fun in ("if", "unless"):
            return self.inline_if(fun, node, args, scope)
        conv = CONVERSIONS.get((mod or "", fun or ""))
        if conv and args:
            return self.apply_conversion(self.ev(args[0], scope), conv)
        if mod is None and fun == "for":
            return self.comprehension(node, scope)
        if mod is None and fun in ("case", "cond") and do_block(node) is not None:
            return self.control(fun, node, scope) or Lit(None)
        if self.may_call(node, mod, fun):
            value = self.call_value(node, mod, fun, [self.ev(a, scope) for a in args], scope)
            if value is not None:
                return value
        return self.opaque_expr(node, scope)

    def system_env(self, node: Node, fun: str, args: list[Value]) -> EnvRead | None:
        """`System.get_env(name, default)`, `fetch_env!(name)`, `fetch_env(name)`, called or through a
        capture; None when the name is computed (the contract cannot list that read)."""
        name = args[0] if args else None
        if isinstance(name, Lit) and isinstance(name.value, str):
            default = args[1] if len(args) > 1 and fun == "get_env" else None
            return self.env_read(node, name.value, how=f"System.{fun}", required=fun == "fetch_env!",
                                 default=default)
        self.note_opaque(node)
        return None

    def ev_anonymous_function(self, node: Node, scope) -> Value:
        return Fn(fn_clauses(node), dict(scope), text(node))


"""Functions that config code defines for itself, applied to the values at hand.

Real config files define helpers: a `defmodule` at the top of runtime.exs, `defp deps` in mix.exs,
an `fn` bound to a variable and applied with `.()` or in a pipe (one that drops `nil` values from a
keyword list is common). Small bodies are evaluated with their arguments bound; a body beyond the
evaluator stays an Expr, as any other unknown code does.
"""

from __future__ import annotations

from tree_sitter import Node

from phoenix_ops.elixir.literals import UNKNOWN
from phoenix_ops.elixir.modules import Clause, definitions, split_head
from phoenix_ops.elixir.parser import text
from phoenix_ops.elixir.syntax import binary_op, call_args
from phoenix_ops.elixir.values import (
    KW,
    Choice,
    Condition,
    EnvRead,
    Expr,
    Lit,
    Seq,
    Value,
    list_items,
    list_value,
    truthy,
)
from phoenix_ops.record import field, record

MAX_DEPTH = 8  # nested helper calls evaluated before the result is left unknown


@record(eq=False)
class Fn(Value):
    """An anonymous function: its clauses and the variables it captured."""

    clauses: list[Clause]
    scope: dict[str, Value] = field(default_factory=dict)
    text: str = ""


@record(eq=False)
class EnvCapture(Value):
    """`&System.get_env/1` (or /2, `fetch_env!/1`, `fetch_env/1`): a function that reads the environment."""

    fun: str
    text: str = ""


# What `&` captures of System's env functions, written without spaces.
ENV_CAPTURES = {f"System.{fun}/{arity}": fun for fun, arity in
                (("get_env", 1), ("get_env", 2), ("fetch_env!", 1), ("fetch_env", 1))}


def fn_clauses(node: Node) -> list[Clause]:
    """The clauses of `fn a, b when guard -> body end`."""
    out: list[Clause] = []
    for clause in node.named_children:
        if clause.type != "stab_clause":
            continue
        head, body = clause.child_by_field_name("left"), clause.child_by_field_name("right")
        params, guard = split_head(head) if head is not None else ([], None)
        out.append(Clause(params, [c for c in body.named_children if c.type != "comment"] if body else [], guard))
    return out


def is_nil(value: Value) -> Value:
    """`is_nil(x)`: decided for literals and for env reads that cannot be nil."""
    if isinstance(value, Lit):
        return Lit(value.value is None)
    if isinstance(value, EnvRead) and (value.required or (isinstance(value.default, Lit)
                                                           and value.default.value is not None)):
        return Lit(False)
    if isinstance(value, (KW, Seq, Fn)):
        return Lit(False)
    return Expr("is_nil", [value])


@record
class LocalModule:
    """A module the evaluated code defines: its functions and module attributes."""

    functions: dict[str, list[Clause]] = field(default_factory=dict)
    attributes: dict[str, Value] = field(default_factory=dict)


class Functions:
    """Mixed into the Evaluator: calls of local functions, module helpers and anonymous functions."""

    current: LocalModule  # the module whose local calls resolve (mix.exs `deps/0`)
    modules: dict[str, LocalModule]  # helper modules the evaluated files define
    _active: list[str]

    def enter_module(self, body: list[Node]) -> LocalModule:
        """Read a module's attributes and functions; later local calls resolve against it."""
        module = LocalModule(definitions(body))
        for stmt in body:
            if stmt.type == "unary_operator" and text(stmt).startswith("@"):
                self.module_attribute(stmt, module.attributes)
        self.current = module
        return module

    def define_module(self, node: Node) -> None:
        args = call_args(node)
        block = next((c for c in node.children if c.type == "do_block"), None)
        if args and block is not None:
            saved = self.current
            self.modules[text(args[0])] = self.enter_module([c for c in block.named_children if c.type != "comment"])
            self.current = saved

    def lookup(self, mod: str | None, fun: str | None) -> tuple[list[Clause], LocalModule] | None:
        module = self.current if mod is None else self.modules.get(mod)
        clauses = module.functions.get(fun or "") if module is not None else None
        return (clauses, module) if clauses else None

    def apply(self, name: str, clauses: list[Clause], args: list[Value], node: Node,
              captured: dict[str, Value], module: LocalModule | None = None) -> Value:
        """The value of a call, or an Expr when no clause can be chosen or the body recurses."""
        if name in self._active or len(self._active) >= MAX_DEPTH:
            return Expr(text(node), [a for a in args if a.reads()])
        options: list[Value] = []  # results of clauses that may apply: the call picks one at runtime
        for clause in clauses:
            scope = dict(captured)
            verdict = self.bind_params(clause, args, scope)
            if verdict is False:
                continue
            saved = self.current
            self.current = module or saved
            self._active.append(name)
            try:
                result = self.run_block(clause.body, scope)
            finally:
                self._active.pop()
                self.current = saved
            options.append(result if result is not None else Lit(None))
            if verdict is True:
                break
        if len(options) == 1:
            return options[0]
        return Choice(text(node), options) if options else Expr(text(node), [a for a in args if a.reads()])

    def bind_params(self, clause: Clause, args: list[Value], scope: dict[str, Value]):
        """Bind arguments to parameters as Elixir does: required ones first, then defaults left to right."""
        params = clause.params
        defaults = [p.child_by_field_name("right") if p.type == "binary_operator" and binary_op(p) == "\\\\"
                    else None for p in params]
        required = sum(d is None for d in defaults)
        if not required <= len(args) <= len(params):
            return False
        spare, given = len(args) - required, iter(args)
        verdict = True
        for pattern, default in zip(params, defaults):
            if default is None:
                value = next(given)
            else:
                pattern = pattern.child_by_field_name("left")
                value = next(given) if spare > 0 else self.ev(default, scope)
                spare -= 1
            outcome = self.match_pattern(pattern, value, scope)
            if outcome is False:
                return False
            if outcome is UNKNOWN:
                verdict = UNKNOWN
        if clause.guard is not None and verdict is True:
            decided = self.decide(clause.guard, scope)
            return UNKNOWN if decided is UNKNOWN else bool(decided)
        return verdict

    def match_pattern(self, pattern: Node, value: Value, scope: dict[str, Value]):
        """Bind the variables of a pattern: True, False (does not match) or UNKNOWN."""
        if pattern.type == "identifier":
            if not text(pattern).startswith("_"):
                scope[text(pattern)] = value
            return True
        if pattern.type == "tuple":
            parts = [c for c in pattern.named_children if c.type != "comment"]
            if isinstance(value, Seq) and value.kind == "tuple":
                if len(value.items) != len(parts):
                    return False
                outcomes = [self.match_pattern(p, v, scope) for p, v in zip(parts, value.items)]
                return False if False in outcomes else UNKNOWN if UNKNOWN in outcomes else True
            return UNKNOWN
        literal = self.ev(pattern, {})
        if isinstance(literal, Lit) and isinstance(value, Lit):
            return literal.value == value.value
        return UNKNOWN

    def may_call(self, node: Node, mod: str | None, fun: str | None) -> bool:
        """Whether a call might be one `call_value` knows (so its arguments are worth evaluating)."""
        target = node.child_by_field_name("target")
        anonymous = target is not None and target.type == "dot" and target.child_by_field_name("right") is None
        return anonymous or self.lookup(mod, fun) is not None or (mod is None and fun == "is_nil") or \
            (mod in ("Enum", "Keyword") and fun in ("reject", "filter", "map"))

    def call_value(self, node: Node, mod: str | None, fun: str | None, args: list[Value],
                   scope: dict[str, Value]) -> Value | None:
        """A call of a known function or of an Enum/Keyword helper taking one; None when unknown."""
        target = node.child_by_field_name("target")
        if target is not None and target.type == "dot" and target.child_by_field_name("right") is None:
            callee = self.ev(target.child_by_field_name("left"), scope)
            if isinstance(callee, Fn):  # `f.(x)`
                return self.apply(callee.text, callee.clauses, args, node, callee.scope)
            if isinstance(callee, EnvCapture):  # `env.("PORT")` after `env = &System.get_env/1`
                return self.system_env(node, callee.fun, args)
            return None
        found = self.lookup(mod, fun)
        if found is not None:
            clauses, module = found
            return self.apply(f"{mod}.{fun}" if mod else str(fun), clauses, args, node, module.attributes, module)
        if mod in ("Enum", "Keyword") and len(args) == 2 and isinstance(args[1], Fn):
            return self.enum_call(fun, args[0], args[1], node)
        if mod == "Enum" and fun in ("filter", "reject") and len(args) == 2 and isinstance(args[1], Expr):
            return captured_filter(fun, args[0], args[1])
        if mod is None and fun == "is_nil" and len(args) == 1:
            return is_nil(args[0])
        return None

    def enum_call(self, fun: str | None, items: Value, fn: Fn, node: Node) -> Value | None:
        elements = list_items(items)
        if elements is None or fun not in ("reject", "filter", "map"):
            return None
        out: list[Value] = []
        for element in elements:
            result = self.apply(fn.text, fn.clauses, [element], node, fn.scope)
            if fun == "map":
                out.append(result)
                continue
            if not isinstance(result, Lit):  # kept only when the predicate lets it through at runtime
                out.append(_under_predicate(element, result, reject=fun == "reject"))
            elif truthy(result.value) != (fun == "reject"):
                out.append(element)
        return list_value(out)


# Captures that keep exactly the truthy items: `Enum.filter(& &1)`, `Enum.reject(&is_nil/1)` and kin.
_KEEP_TRUTHY = {"filter": ("&&1", "&(&1)"), "reject": ("&is_nil/1", "&(&1==nil)", "&is_nil(&1)", "&(!&1)")}


def captured_filter(fun: str, items: Value, predicate: Expr) -> Value | None:
    """`list |> Enum.filter(& &1)` (a children list of `cond && child` items): the items that may be
    truthy, an item undecided kept as it is (its falsy option is nothing); another capture keeps every
    item under its predicate."""
    elements = list_items(items)
    if elements is None:
        return None
    if "".join(predicate.text.split()) in _KEEP_TRUTHY[fun]:
        return list_value([e for e in elements if not (isinstance(e, Lit) and not truthy(e.value))])
    return list_value([_under_predicate(e, predicate, reject=fun == "reject") for e in elements])


def _under_predicate(element: Value, predicate: Value, *, reject: bool) -> Value:
    """An element a filter keeps only when its undecided predicate allows it, marked with why."""
    names = tuple(dict.fromkeys(r.name for r in predicate.reads()))
    nil_test = isinstance(predicate, Expr) and predicate.text == "is_nil"
    if nil_test and names:
        label = " and ".join(names) + (" set" if reject else " unset")
    else:
        label = ("not " if reject else "") + getattr(predicate, "text", "a filter")
    target = element.items[1] if isinstance(element, Seq) and element.kind == "tuple" and len(element.items) == 2 \
        else element
    target.conditions = target.conditions + (Condition(label, names),)
    return element

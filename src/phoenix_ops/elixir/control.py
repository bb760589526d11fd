"""Control flow in config code: if/unless/case/cond/for, decided for the Mix environment at hand.

A condition on the Mix environment picks its branch; any other condition keeps every branch and
marks the values set inside it as conditional on it.
"""

from __future__ import annotations

from tree_sitter import Node

from phoenix_ops.elixir.literals import UNKNOWN
from phoenix_ops.elixir.parser import text
from phoenix_ops.elixir.syntax import (
    binary_op,
    block_parts,
    call_args,
    call_parts,
    do_block,
    inline_branches,
)
from phoenix_ops.elixir.values import (
    Choice,
    Condition,
    EnvRead,
    Expr,
    Lit,
    Value,
    list_items,
    list_value,
    truthy,
)


class ControlFlow:
    """Mixed into the Evaluator: branches, clauses and comprehensions."""

    def control(self, fun: str, node: Node, scope: dict[str, Value]) -> Value | None:
        block = do_block(node)
        body, other, clauses = block_parts(block)
        args = call_args(node)
        if fun in ("if", "unless"):
            return self.conditional(fun, args[0], body, other, scope) if args else None
        if fun == "for":
            return self.comprehension(node, scope)
        subject = args[0] if fun == "case" and args else None
        return self.clauses(fun, subject, clauses, scope)

    def clauses(self, fun: str, subject_node: Node | None, clauses: list[Node], scope: dict[str, Value]) -> Value | None:
        """The clause a case/cond takes; a Choice of the clauses it may take when undecided."""
        subject = self.ev(subject_node, scope) if subject_node is not None else None
        options: list[Value] = []
        for clause in clauses:
            head = clause.child_by_field_name("left")
            body = [c for c in clause.named_children if c.type == "body"]
            nodes = body[0].named_children if body else []
            pattern = head.named_children[0] if head is not None and head.named_children else None
            if fun == "cond":
                verdict = self.decide(pattern, scope) if pattern is not None else UNKNOWN
            else:
                verdict = self.matches(subject, pattern, scope)
            inner = dict(scope)
            if subject is not None and pattern is not None and verdict is not False:
                self.match_pattern(pattern, subject, inner)  # `value -> value` binds the subject
            if verdict is True:
                if not options:
                    return self.run_block(nodes, inner)
                with self.under(pattern, scope, label="otherwise"):
                    options.append(self.run_block(nodes, inner) or Lit(None))
                break
            if verdict is UNKNOWN:
                where = pattern if pattern is not None else clause
                label = f"case {text(subject_node)} ->" if subject_node is not None else fun
                with self.under(where, scope, label=label, extra=subject):
                    options.append(self.run_block(nodes, inner) or Lit(None))
        return Choice(fun, options, test=subject) if options else None

    def matches(self, subject: Value | None, pattern: Node | None, scope: dict[str, Value]):
        if pattern is None:
            return UNKNOWN
        if pattern.type == "identifier" and text(pattern).startswith("_") or text(pattern) == "_":
            return True if isinstance(subject, Lit) else UNKNOWN
        if not isinstance(subject, Lit):
            return UNKNOWN
        pat = self.ev(pattern, {})
        return subject.value == pat.value if isinstance(pat, Lit) else UNKNOWN

    def conditional(self, fun: str, cond_node: Node, body: list[Node], other: list[Node],
                    scope: dict[str, Value]) -> Value | None:
        cond = self.decide(cond_node, scope)
        if cond is not UNKNOWN and fun == "unless":
            cond = not cond
        if cond is UNKNOWN:
            self.raise_if_missing(fun, cond_node, body, scope)
            with self.under(cond_node, scope, negate=fun == "unless"):
                first = self.run_block(body, scope)
            with self.under(cond_node, scope, negate=fun == "if"):
                self.run_block(other, scope)
            return first
        return self.run_block(body if cond else other, scope)

    def raise_if_missing(self, fun: str, cond: Node, body: list[Node], scope: dict[str, Value]) -> None:
        """`unless System.get_env("X") do raise ... end` (or `if is_nil(...)`, `if !...`) makes X required."""
        if len(body) != 1 or body[0].type != "call" or call_parts(body[0]) != (None, "raise"):
            return
        probe = cond
        if fun == "if":
            if cond.type == "unary_operator" and text(cond)[:1] in ("!", "n"):
                probe = cond.child_by_field_name("operand")
            elif cond.type == "call" and call_parts(cond) == (None, "is_nil") and call_args(cond):
                probe = call_args(cond)[0]
            elif cond.type == "binary_operator" and binary_op(cond) == "==" and \
                    text(cond.child_by_field_name("right")) == "nil":
                probe = cond.child_by_field_name("left")
            else:
                return
        value = self.ev(probe, scope)
        if isinstance(value, EnvRead):
            value.required = True

    def comprehension(self, node: Node, scope: dict[str, Value]) -> Value:
        """`for x <- list, filter, do: body` (or a do block): the list of bodies when the list is known."""
        args = call_args(node)
        block = do_block(node)
        if block is not None:
            body = block_parts(block)[0]
        elif args and args[-1].type == "keywords":
            body = inline_branches(node)[0] if inline_branches(node) else []
            args = args[:-1]
        else:
            return self.opaque_expr(node, scope)
        gen = args[0] if args else None
        if gen is None or gen.type != "binary_operator" or binary_op(gen) != "<-":
            return self.opaque_expr(node, scope)
        var = gen.child_by_field_name("left")
        source = self.ev(gen.child_by_field_name("right"), scope)
        name = text(var) if var is not None and var.type == "identifier" else None
        items = list_items(source)
        if items is None or not name:
            with self.under(gen, scope, label="for"):
                self.run_block(body, {**scope, **({name: Expr(name)} if name else {})})
            return Expr(text(node), [source] if source.reads() else [])
        out: list[Value] = []
        for item in items:
            self.budget.spend(1 + len(scope) // 16, self.file, gen.start_point[0] + 1)  # a scope copy each
            if self.budget.spent:
                break
            inner = {**scope, name: item}
            if all(self.decide(f, inner) is not False for f in args[1:]):
                out.append(self.run_block(body, inner) or Lit(None))
        return list_value(out)

    def under(self, node: Node, scope: dict[str, Value], *, negate: bool = False, label: str = "",
              extra: Value | None = None):
        reads = self.ev(node, scope).reads() + (extra.reads() if extra is not None else [])
        names = tuple(dict.fromkeys(r.name for r in reads))
        cond_text = ("not " if negate else "") + (f"{label} " if label else "") + text(node)
        return _Under(self, Condition(cond_text, names))

    def decide(self, node: Node, scope: dict[str, Value]):
        value = self.ev(node, scope)
        if isinstance(value, Lit):
            return truthy(value.value)
        return UNKNOWN

    # -- expressions --------------------------------------------------------------------------
    def guarded(self, test: Value, cond_node: Node, value_node: Node, scope: dict[str, Value], node: Node) -> Value:
        """`cond && value` with `cond` undecided: the value (conditional on it) or nothing, as
        `if cond, do: value` would give; `test` is the condition already evaluated."""
        names = tuple(dict.fromkeys(r.name for r in test.reads()))
        with _Under(self, Condition(text(cond_node), names)):
            value = self.ev(value_node, scope)
        return Choice(text(node), [value, Lit(None)], test=test)

    def inline_if(self, fun: str, node: Node, args: list[Node], scope) -> Value:
        block = do_block(node)
        branches = block_parts(block)[:2] if block is not None else inline_branches(node)
        if not args or branches is None:
            return self.opaque_expr(node, scope)
        body, other = branches
        cond = self.decide(args[0], scope)
        if cond is UNKNOWN:
            taken = []
            for nodes, negate in ((body, fun == "unless"), (other, fun == "if")):
                with self.under(args[0], scope, negate=negate):
                    taken.append(self.run_block(nodes, scope) or Lit(None))
            return Choice(text(node), taken, test=self.ev(args[0], scope))
        return self.run_block(body if cond != (fun == "unless") else other, scope) or Lit(None)



class _Under:
    """Context manager: evaluate a branch under an undecided condition."""

    def __init__(self, ev: ControlFlow, condition: Condition):
        self.ev, self.condition = ev, condition

    def __enter__(self):
        self.saved = self.ev.conditions
        self.ev.conditions = self.saved + (self.condition,)

    def __exit__(self, *exc):
        self.ev.conditions = self.saved
        return False


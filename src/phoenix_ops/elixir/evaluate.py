"""Abstract evaluation of the small part of Elixir that config files and mix.exs use.

Literals become Lit, env reads become EnvRead (with required/default/conversion), and everything
else becomes Expr holding its source text and the values it was built from. Conditions on the
Mix environment are decided; any other condition keeps every branch and marks values conditional.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from phoenix_ops.elixir.literals import (
    UNKNOWN,
    boolean_words,
    concat,
    convert_literal,
    fold,
    to_int,
    to_string,
    unescape,
)
from phoenix_ops.elixir.parser import line, text
from phoenix_ops.elixir.syntax import (
    binary_op,
    block_parts,
    call_args,
    call_parts,
    do_block,
    inline_branches,
)
from phoenix_ops.elixir.values import (
    KW,
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

ENV_FUNS = {"get_env", "fetch_env!", "fetch_env"}
CONVERSIONS = {
    ("String", "to_integer"): "integer", ("String", "to_float"): "float", ("String", "to_atom"): "atom",
    ("String", "to_existing_atom"): "atom", ("String", "to_charlist"): "charlist",
    ("String", "split"): "list",
}
# Local calls ending in `!` that are known; any other may be a helper macro hiding env reads.
KNOWN_BANG_CALLS = {"env!", "source!"}
DOTENVY_TYPES = {"string", "integer", "float", "boolean", "atom", "existing_atom", "module", "charlist"}


class Evaluator:
    """Evaluates expressions in a scope; subclasses handle statements such as `config`."""

    def __init__(self, env: str, file: str = "", phase: str = "compile"):
        self.env = env
        self.file = file
        self.phase = phase
        self.reads: list[EnvRead] = []  # every env read met, in order
        self.conditions: tuple[Condition, ...] = ()
        self.functions: dict[str, Node] = {}  # zero-arity local functions (mix.exs `deps/0`)
        self.opaque: list[tuple[str, int, str]] = []  # statements not understood: (file, line, text)
        self._read_at: dict[tuple[str, int, str], EnvRead] = {}  # one read per source position and name

    # -- provenance ---------------------------------------------------------------------------
    def origin(self, node: Node) -> Origin:
        return Origin(self.file, line(node), self.phase)

    def mark(self, value: Value, node: Node) -> Value:
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
        if node.type == "call":
            mod, fun = call_parts(node)
            handled = self.on_call(mod, fun, node, scope)
            if handled is not None:
                return handled
            if mod is None and fun in ("if", "unless", "case", "cond", "for") and do_block(node):
                return self.control(fun, node, scope)
            if mod is None and fun in ("if", "unless") and inline_branches(node):
                return self.conditional(fun, call_args(node)[0], *inline_branches(node), scope)
            if mod is None and fun in ("import", "use", "require", "alias"):
                return None
        if node.type == "binary_operator" and binary_op(node) == "=":
            return self.bind(node, scope)
        if node.type == "unary_operator" and text(node).startswith("@"):
            return self.module_attribute(node, scope)
        return self.ev(node, scope)

    def note_opaque(self, node: Node) -> None:
        entry = (self.file, line(node), text(node)[:80])
        if entry not in self.opaque:
            self.opaque.append(entry)

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

    def control(self, fun: str, node: Node, scope: dict[str, Value]) -> Value | None:
        block = do_block(node)
        body, other, clauses = block_parts(block)
        args = call_args(node)
        if fun in ("if", "unless"):
            return self.conditional(fun, args[0], body, other, scope) if args else None
        if fun == "for":
            return self.comprehension(args, body, scope)
        subject = self.ev(args[0], scope) if fun == "case" and args else None
        return self.clauses(fun, subject, clauses, scope)

    def clauses(self, fun: str, subject: Value | None, clauses: list[Node], scope: dict[str, Value]) -> Value | None:
        for clause in clauses:
            head = clause.child_by_field_name("left")
            body = [c for c in clause.named_children if c.type == "body"]
            nodes = body[0].named_children if body else []
            pattern = head.named_children[0] if head is not None and head.named_children else None
            if fun == "cond":
                verdict = self.decide(pattern, scope) if pattern is not None else UNKNOWN
            else:
                verdict = self.matches(subject, pattern, scope)
            if verdict is True:
                return self.run_block(nodes, scope)
            if verdict is UNKNOWN:
                with self.under(pattern if pattern is not None else clause, scope, label=fun):
                    self.run_block(nodes, scope)
        return None

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

    def comprehension(self, args: list[Node], body: list[Node], scope: dict[str, Value]) -> None:
        gen = args[0] if args else None
        if gen is None or gen.type != "binary_operator" or binary_op(gen) != "<-":
            return None
        var = gen.child_by_field_name("left")
        source = self.ev(gen.child_by_field_name("right"), scope)
        name = text(var) if var is not None and var.type == "identifier" else None
        if isinstance(source, Seq) and name:
            for item in source.items:
                self.run_block(body, {**scope, name: item})
        else:
            with self.under(gen, scope, label="for"):
                self.run_block(body, {**scope, **({name: Expr(name)} if name else {})})
        return None

    def under(self, node: Node, scope: dict[str, Value], *, negate: bool = False, label: str = ""):
        names = tuple(r.name for r in self.ev(node, scope).reads())
        cond_text = ("not " if negate else "") + (f"{label} " if label else "") + text(node)
        return _Under(self, Condition(cond_text, names))

    def decide(self, node: Node, scope: dict[str, Value]):
        value = self.ev(node, scope)
        if isinstance(value, Lit):
            return truthy(value.value)
        return UNKNOWN

    # -- expressions --------------------------------------------------------------------------
    def ev(self, node: Node | None, scope: dict[str, Value]) -> Value:
        if node is None:
            return Expr("")
        method: Callable[[Node, dict[str, Value]], Value] | None = getattr(self, "ev_" + node.type, None)
        value = method(node, scope) if method else self.opaque_expr(node, scope)
        return self.mark(value, node)

    def opaque_expr(self, node: Node, scope: dict[str, Value]) -> Expr:
        """Keep the text; still evaluate the parts so env reads inside are found."""
        inner = [self.ev(c, scope) for c in node.named_children
                 if c.type not in ("comment", "identifier", "do_block", "stab_clause", "keyword", "operator_identifier")]
        return Expr(text(node), [v for v in inner if v.reads()])

    def ev_integer(self, node: Node, scope) -> Value:
        return Lit(to_int(text(node)))

    def ev_float(self, node: Node, scope) -> Value:
        return Lit(float(text(node).replace("_", "")))

    def ev_boolean(self, node: Node, scope) -> Value:
        return Lit(text(node) == "true")

    def ev_nil(self, node: Node, scope) -> Value:
        return Lit(None)

    def ev_atom(self, node: Node, scope) -> Value:
        return Lit(Atom(text(node)[1:]))

    def ev_quoted_atom(self, node: Node, scope) -> Value:
        return Lit(Atom(text(node)[2:-1]))

    def ev_alias(self, node: Node, scope) -> Value:
        return Lit(Atom(text(node)))

    def ev_char(self, node: Node, scope) -> Value:
        return Lit(text(node))

    def ev_string(self, node: Node, scope) -> Value:
        parts: list[str] = []
        inner: list[Value] = []
        for child in node.named_children:
            if child.type == "quoted_content":
                parts.append(text(child))
            elif child.type == "escape_sequence":
                parts.append(unescape(text(child)))
            elif child.type == "interpolation":
                value = self.ev(child.named_children[0], scope) if child.named_children else Lit("")
                if isinstance(value, Lit) and not isinstance(value.value, (list, tuple)):
                    parts.append(to_string(value.value))
                else:
                    inner.append(value)
        if inner:
            return Expr(text(node), inner)
        return Lit("".join(parts))

    ev_charlist = ev_string

    def ev_sigil(self, node: Node, scope) -> Value:
        name = next((text(c) for c in node.named_children if c.type == "sigil_name"), "")
        content = "".join(text(c) for c in node.named_children if c.type == "quoted_content")
        modifier = next((text(c) for c in node.named_children if c.type == "sigil_modifiers"), "")
        if name == "w" and not any(c.type == "interpolation" for c in node.named_children):
            words = content.split()
            return Seq("list", [Lit(Atom(w) if modifier == "a" else w) for w in words])
        if name in ("s", "S") and not any(c.type == "interpolation" for c in node.named_children):
            return Lit(content)
        return self.opaque_expr(node, scope)

    def ev_list(self, node: Node, scope) -> Value:
        items: list[Value] = []
        pairs: list[tuple[str, Value]] = []
        for child in node.named_children:
            if child.type == "keywords":
                pairs.extend(self.keywords(child, scope))
            elif child.type != "comment":
                items.append(self.ev(child, scope))
        if pairs and not items:
            return KW(pairs)
        tuples = [v for v in items if isinstance(v, Seq) and v.kind == "tuple" and len(v.items) == 2
                  and isinstance(v.items[0], Lit) and isinstance(v.items[0].value, Atom)]
        if items and len(tuples) == len(items) and not pairs:
            return KW([(t.items[0].value.name, t.items[1]) for t in tuples])
        items.extend(Seq("tuple", [Lit(Atom(k)), v]) for k, v in pairs)
        return Seq("list", items)

    def keywords(self, node: Node, scope) -> list[tuple[str, Value]]:
        out = []
        for pair in node.named_children:
            if pair.type != "pair":
                continue
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            key_text = text(key).strip().rstrip(":").strip('"')
            out.append((key_text, self.ev(value, scope)))
        return out

    def ev_keywords(self, node: Node, scope) -> Value:
        return KW(self.keywords(node, scope))

    def ev_tuple(self, node: Node, scope) -> Value:
        items = [self.ev(c, scope) for c in node.named_children if c.type != "comment"]
        if (len(items) == 2 and isinstance(items[0], Lit) and items[0].value == Atom("system")
                and isinstance(items[1], Lit) and isinstance(items[1].value, str)):
            return self.env_read(node, items[1].value, how="{:system, _}")
        return Seq("tuple", items)

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
        if op in ("&&", "and") and isinstance(left, Lit):
            return self.ev(right_node, scope) if truthy(left.value) else left
        right = self.ev(right_node, scope)
        if op == "||" and isinstance(left, EnvRead):
            if isinstance(right, Expr) and right.raises:
                left.required = True
                return left
            if isinstance(right, Lit):
                left.default = right
                return left
        if op == "++":
            return concat(left, right, text(node))
        if isinstance(left, Lit) and isinstance(right, Lit):
            result = fold(op, left.value, right.value)
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
        return Expr(text(node), [left])

    def ev_call(self, node: Node, scope) -> Value:
        mod, fun = call_parts(node)
        args = call_args(node)
        if mod == "System" and fun in ENV_FUNS and args:
            name = self.ev(args[0], scope)
            if isinstance(name, Lit) and isinstance(name.value, str):
                default = self.ev(args[1], scope) if len(args) > 1 and fun == "get_env" else None
                return self.env_read(node, name.value, how=f"System.{fun}", required=fun == "fetch_env!",
                                     default=default)
            self.note_opaque(node)  # a read whose name is computed: the contract cannot list it
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
        if mod is None and fun in self.functions and not args:
            body = self.functions.pop(fun)  # guard against recursion
            try:
                return self.run_block(body, dict(scope)) or Expr(text(node))
            finally:
                self.functions[fun] = body
        return self.opaque_expr(node, scope)

    def inline_if(self, fun: str, node: Node, args: list[Node], scope) -> Value:
        block = do_block(node)
        branches = block_parts(block)[:2] if block is not None else inline_branches(node)
        if not args or branches is None:
            return self.opaque_expr(node, scope)
        body, other = branches
        cond = self.decide(args[0], scope)
        if cond is UNKNOWN:
            taken = [self.run_block(nodes, scope) or Lit(None) for nodes in (body, other)]
            return Expr(text(node), [self.ev(args[0], scope), *taken])
        return self.run_block(body if cond != (fun == "unless") else other, scope) or Lit(None)

    def dotenvy(self, node: Node, args: list[Node], scope) -> Value:
        name = self.ev(args[0], scope)
        if not (isinstance(name, Lit) and isinstance(name.value, str)):
            return Expr("env!(...)")
        kind = self.ev(args[1], scope) if len(args) > 1 else Lit(Atom("string"))
        conv = kind.value.name.rstrip("?") if isinstance(kind, Lit) and isinstance(kind.value, Atom) else None
        default = self.ev(args[2], scope) if len(args) > 2 else None
        read = self.env_read(node, name.value, how="env!", required=default is None, default=default)
        read.convert = conv if conv in DOTENVY_TYPES and conv != "string" else None
        return read

    def env_read(self, node: Node, name: str, *, how: str, required: bool = False,
                 default: Value | None = None) -> EnvRead:
        # Conditions are evaluated more than once; the same source position is one read.
        key = (self.file, node.start_byte, name)
        if key not in self._read_at:
            read = EnvRead(name=name, required=required, default=default, how=how)
            read.conditions = self.conditions
            self._read_at[key] = read
            self.reads.append(read)
        return self._read_at[key]

    def apply_conversion(self, value: Value, conv: str) -> Value:
        if isinstance(value, EnvRead):
            return self.convert(value, conv)
        if isinstance(value, Lit) and isinstance(value.value, str):
            converted = convert_literal(value.value, conv)
            if converted is not UNKNOWN:
                return Lit(converted)
        return Expr(f"{conv}({getattr(value, 'text', '...')})", [value])

    def convert(self, read: EnvRead, conv: str) -> EnvRead:
        # The read object is the one the call created; enrich it so the env contract sees the type.
        read.convert = read.convert or conv
        return read


class _Under:
    """Context manager: evaluate a branch under an undecided condition."""

    def __init__(self, ev: Evaluator, condition: Condition):
        self.ev, self.condition = ev, condition

    def __enter__(self):
        self.saved = self.ev.conditions
        self.ev.conditions = self.saved + (self.condition,)

    def __exit__(self, *exc):
        self.ev.conditions = self.saved
        return False

"""Literal terms in source: numbers, atoms, strings, sigils, lists, keyword lists, tuples."""

from __future__ import annotations

from tree_sitter import Node

from phoenix_ops.elixir.limits import MAX_STRING, bounded
from phoenix_ops.elixir.literals import UNKNOWN, concat, to_int, to_string, unescape
from phoenix_ops.elixir.parser import text
from phoenix_ops.elixir.syntax import binary_op, named
from phoenix_ops.elixir.values import KW, Atom, Expr, Lit, Seq, Value, list_value


class Terms:
    """Mixed into the Evaluator: the ev_<node type> methods of literal syntax."""

    def ev_integer(self, node: Node, scope) -> Value:
        value = to_int(text(node))
        return Expr(text(node)) if value is UNKNOWN else Lit(value)

    def ev_float(self, node: Node, scope) -> Value:
        value = bounded(float(text(node).replace("_", "")))  # 1e999 is no config value
        return Expr(text(node)) if value is None else Lit(value)

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
        if inner or sum(map(len, parts)) > MAX_STRING:
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
        tail = None
        for child in named(node):
            if self.budget.spent:
                break
            if child.type == "keywords":
                pairs.extend(self.keywords(child, scope))
            elif child.type == "binary_operator" and binary_op(child) == "|":  # `[head | tail]`
                items.append(self.ev(child.child_by_field_name("left"), scope))
                tail = self.ev(child.child_by_field_name("right"), scope)
            elif child.type != "comment":
                items.append(self.ev(child, scope))
        if self.budget.spent:  # the rest is unread: the list is unknown, not shorter
            return Expr(text(node))
        if pairs and not items:
            return KW(pairs)
        head = list_value(items + [Seq("tuple", [Lit(Atom(k)), v]) for k, v in pairs])
        return head if tail is None else concat(head, tail, text(node))

    def keywords(self, node: Node, scope) -> list[tuple[str, Value]]:
        out = []
        for pair in named(node):
            if self.budget.spent:
                break  # the list holding these is left unknown by its caller
            if pair.type != "pair":
                continue
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            key_text = text(key).strip().rstrip(":").strip('"')
            out.append((key_text, self.ev(value, scope)))
        return out

    def ev_keywords(self, node: Node, scope) -> Value:
        pairs = self.keywords(node, scope)
        return Expr(text(node)) if self.budget.spent else KW(pairs)

    def ev_tuple(self, node: Node, scope) -> Value:
        items = [self.ev(c, scope) for c in node.named_children if c.type != "comment"]
        if (len(items) == 2 and isinstance(items[0], Lit) and items[0].value == Atom("system")
                and isinstance(items[1], Lit) and isinstance(items[1].value, str)):
            return self.env_read(node, items[1].value, how="{:system, _}")
        return Seq("tuple", items)


"""Reading tree-sitter-elixir nodes: calls, their arguments, do blocks, operators."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from tree_sitter import Node

from phoenix_ops.elixir.parser import text


def named(node: Node) -> Iterable[Node]:
    """The named children; a long list one at a time (a million items are not materialised as Node objects)."""
    if node.named_child_count <= SHORT:
        return node.named_children
    return _one_at_a_time(node)


SHORT = 64  # children of a node that cost less listed at once than walked with a cursor


def _one_at_a_time(node: Node) -> Iterator[Node]:
    cursor = node.walk()
    if not cursor.goto_first_child():
        return
    while True:
        if cursor.node.is_named:
            yield cursor.node
        if not cursor.goto_next_sibling():
            return


def call_parts(node: Node) -> tuple[str | None, str | None]:
    """(module, function) of a call node: ("System", "get_env") or (None, "config")."""
    target = node.child_by_field_name("target")
    if target is None:
        return None, None
    if target.type == "identifier":
        return None, text(target)
    if target.type == "dot":
        left, right = target.child_by_field_name("left"), target.child_by_field_name("right")
        if left is not None and right is not None:
            return text(left), text(right)
    return None, None


def call_args(node: Node) -> list[Node]:
    """Positional arguments; a trailing keyword list is one argument (a `keywords` node)."""
    for child in node.children:
        if child.type == "arguments":
            return [c for c in child.named_children if c.type != "comment"]
    return []


def do_block(node: Node) -> Node | None:
    for child in node.children:
        if child.type == "do_block":
            return child
    return None


def block_parts(block: Node) -> tuple[list[Node], list[Node], list[Node]]:
    """(do body, else body, stab clauses) of a do_block."""
    body, other, clauses = [], [], []
    target = body
    for child in block.named_children:
        if child.type == "else_block":
            other.extend(c for c in child.named_children if c.type != "comment")
            target = other
        elif child.type == "stab_clause":
            clauses.append(child)
        elif child.type in ("comment", "after_block", "rescue_block", "catch_block"):
            continue
        else:
            target.append(child)
    return body, other, clauses


_SAME_OPS = {"===": "==", "!==": "!="}  # strict comparison decides config conditions the same way


def binary_op(node: Node) -> str:
    op = node.child_by_field_name("operator")
    raw = text(op) if op is not None else ""
    return _SAME_OPS.get(raw, raw)


def inline_branches(node: Node) -> tuple[list[Node], list[Node]] | None:
    """The do:/else: branches of `if cond, do: ..., else: ...`, when written that way."""
    args = call_args(node)
    if len(args) < 2 or args[-1].type != "keywords":
        return None
    branches: dict[str, list[Node]] = {"do": [], "else": []}
    for pair in args[-1].named_children:
        key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        name = text(key).strip().rstrip(":") if key is not None else ""
        if name in branches and value is not None:
            branches[name] = [value]
    return (branches["do"], branches["else"]) if branches["do"] else None

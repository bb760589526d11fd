"""Modules in a source file: name, `use` lines, functions, calls, without evaluating anything."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from tree_sitter import Node, Tree

from phoenix_ops.elixir.parser import text
from phoenix_ops.elixir.syntax import call_args, call_parts, do_block
from phoenix_ops.record import field, record


@record
class Clause:
    """One clause of a function: its parameter patterns, body statements and `when` guard."""

    params: list[Node]
    body: list[Node]
    guard: Node | None = None


def split_head(head: Node) -> tuple[list[Node], Node | None]:
    """(parameters, guard) of a function head: `f(a, b) when g`, `f`, or an fn's `a, b when g`."""
    guard = None
    if head.type == "binary_operator" and head.child_by_field_name("operator") is not None \
            and text(head.child_by_field_name("operator")) == "when":
        head, guard = head.child_by_field_name("left"), head.child_by_field_name("right")
    if head.type == "call":
        return call_args(head), guard
    if head.type == "arguments":
        return [c for c in head.named_children if c.type != "comment"], guard
    return [], guard


def function_name(head: Node) -> str:
    if head.type == "binary_operator":  # `f(x) when guard`
        head = head.child_by_field_name("left")
    return (call_parts(head)[1] if head.type == "call" else text(head)) or ""


def definitions(body: list[Node]) -> dict[str, list[Clause]]:
    """Every def/defp among these statements, by name, clauses in source order."""
    out: dict[str, list[Clause]] = {}
    for stmt in body:
        if stmt.type != "call" or call_parts(stmt)[1] not in ("def", "defp"):
            continue
        args = call_args(stmt)
        if not args:
            continue
        block = do_block(stmt)
        if block is not None:
            statements = [c for c in block.named_children if c.type != "comment"]
        elif len(args) > 1 and args[-1].type == "keywords":  # def f, do: expr
            value = args[-1].named_children[0].child_by_field_name("value")
            statements = [value] if value is not None else []
        else:
            continue
        params, guard = split_head(args[0])
        out.setdefault(function_name(args[0]), []).append(Clause(params, statements, guard))
    return out


@record
class Module:
    name: str
    node: Node
    body: list[Node]
    uses: list[tuple[str, Node]] = field(default_factory=list)  # (used module, use call node)

    def uses_module(self, prefix: str) -> bool:
        return any(u == prefix or u.startswith(prefix + ".") for u, _ in self.uses)

    @cached_property
    def aliases(self) -> dict[str, str]:
        """The module's own `alias` statements: short name -> full name (`alias A.B` gives B,
        `alias A.B, as: C` gives C, `alias A.{B, C}` gives both)."""
        out: dict[str, str] = {}
        for stmt in self.body:
            args = call_args(stmt) if stmt.type == "call" and call_parts(stmt) == (None, "alias") else []
            if not args or args[0].type not in ("alias", "dot"):
                continue
            full = "".join(text(args[0]).split())
            named = next((text(p.child_by_field_name("value")) for k in args[1:] if k.type == "keywords"
                          for p in k.named_children if text(p.child_by_field_name("key")).rstrip(": ") == "as"), None)
            if ".{" in full:
                prefix, _, inner = full.partition(".{")
                out.update({n.rsplit(".", 1)[-1]: f"{prefix}.{n}" for n in inner.rstrip("}").split(",") if n})
            else:
                out[named or full.rsplit(".", 1)[-1]] = full
        return out

    def expand(self, name: str) -> str:
        """`name` as the compiler reads it in this module: its first part expanded by an alias."""
        head, dot, rest = name.partition(".")
        full = self.aliases.get(head)
        return f"{full}{dot}{rest}" if full else name

    def functions(self, *names: str) -> dict[str, list[Node]]:
        """Bodies of def/defp with these names (any arity), by name, first clause wins."""
        return {name: clauses[0].body for name, clauses in definitions(self.body).items()
                if not names or name in names}


def modules(tree: Tree) -> list[Module]:
    """Every defmodule, nested ones included, with its direct body statements, in source order."""
    found: list[Module] = []
    for node in _defmodule_calls(tree):
        args = call_args(node)
        block = do_block(node)
        if args and block is not None:
            body = [c for c in block.named_children if c.type != "comment"]
            mod = Module(text(args[0]), node, body)
            for stmt in body:
                if stmt.type == "call" and call_parts(stmt) == (None, "use"):
                    used = call_args(stmt)
                    if used:
                        mod.uses.append((text(used[0]), stmt))
            found.append(mod)
    return found


def _defmodule_calls(tree: Tree) -> Iterator[Node]:
    """The `defmodule` calls, in source order. Walking every node in Python cost as much as the parse,
    and a tree-sitter query takes longer to compile than a small file to parse: look the word up in
    the source instead, and keep the places where the tree has it as the name of a call."""
    root = tree.root_node
    source, base = root.text, root.start_byte
    word = b"defmodule"
    at = source.find(word)
    while at >= 0:
        start = base + at
        node = root.descendant_for_byte_range(start, start + len(word))
        call = node.parent if node is not None and node.type == "identifier" else None
        if call is not None and call.type == "call" and node.start_byte == start and node.end_byte == start + len(word):
            target = call.child_by_field_name("target")
            if target is not None and target.start_byte == start:
                yield call
        at = source.find(word, at + len(word))


def walk_calls(node: Node) -> Iterator[Node]:
    """Every call node under `node`, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "call":
            yield current
        stack.extend(reversed(current.named_children))


def has_alias(node: Node, name: str) -> bool:
    """Whether the alias `name` (for example Ecto.Migrator) appears as code, not in a string or comment."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "alias" and text(current) == name:
            return True
        if current.type not in ("string", "comment", "sigil", "charlist"):
            stack.extend(current.named_children)
    return False

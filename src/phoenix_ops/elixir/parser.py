"""tree-sitter-elixir: parse source into a tree and small helpers to read nodes."""

from __future__ import annotations

import tree_sitter_elixir
from tree_sitter import Language, Node, Parser, Tree

from phoenix_ops.findings import elide_literals, redact
from phoenix_ops.record import record

LANGUAGE = Language(tree_sitter_elixir.language())
_parser: Parser | None = None


def parse(source: bytes) -> Tree:
    global _parser
    if _parser is None:
        _parser = Parser(LANGUAGE)
    return _parser.parse(source)


@record(frozen=True)
class SyntaxProblem:
    line: int  # 1-based
    column: int  # 1-based
    text: str


def syntax_problems(tree: Tree, limit: int = 5) -> list[SyntaxProblem]:
    """ERROR and MISSING nodes, first ones first, capped (one bad brace yields many)."""
    if not tree.root_node.has_error:
        return []
    out: list[SyntaxProblem] = []
    stack = [tree.root_node]
    while stack and len(out) < limit:
        node = stack.pop()
        if node.is_error or node.is_missing:
            row, col = node.start_point
            what = f"missing {node.type}" if node.is_missing else "unexpected " + _snippet(node)
            out.append(SyntaxProblem(row + 1, col + 1, what))
            continue
        if node.has_error:
            stack.extend(reversed(node.children))
    return sorted(out, key=lambda p: (p.line, p.column))


def _snippet(node: Node) -> str:
    text = node.text.decode(errors="replace").strip().splitlines()
    first = text[0] if text else ""
    return repr(redact(elide_literals(first))[:40])  # a literal near a syntax error may be a credential


def text(node: Node) -> str:
    return node.text.decode("utf-8", "replace")


def line(node: Node) -> int:
    return node.start_point[0] + 1


def comments(tree: Tree) -> list[Node]:
    """Every comment node, in source order."""
    out: list[Node] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            out.append(node)
        else:
            stack.extend(reversed(node.children))
    return out

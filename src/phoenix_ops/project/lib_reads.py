"""Env reads in application code (lib/): read at runtime wherever the code runs."""

from __future__ import annotations

from tree_sitter import Node

from phoenix_ops.elixir.evaluate import CONVERSIONS, ENV_FUNS, Evaluator
from phoenix_ops.elixir.modules import walk_calls
from phoenix_ops.elixir.parser import text
from phoenix_ops.elixir.syntax import binary_op, call_parts
from phoenix_ops.elixir.values import EnvRead
from phoenix_ops.project.files import SourceFile

_WRAPPING_OPS = {"||", "|>", "==", "!=", "in"}


def lib_env_reads(src: SourceFile, env: str) -> list[EnvRead]:
    if b"System" not in src.data:  # no read to find: spare the walk over every call
        return []
    # A read inside a module attribute runs when the module compiles; anywhere else, when the code runs.
    evaluators = {phase: Evaluator(env, file=src.path, phase=phase) for phase in ("compile", "runtime")}
    for call in walk_calls(src.tree.root_node):
        mod, fun = call_parts(call)
        if mod == "System" and fun in ENV_FUNS:
            evaluators["compile" if _in_attribute(call) else "runtime"].ev(_enclosing(call), {})
    return sorted([r for ev in evaluators.values() for r in ev.reads], key=lambda r: r.origin.line)


def _in_attribute(node: Node) -> bool:
    while (node := node.parent) is not None:
        if node.type == "unary_operator" and text(node).startswith("@"):
            return True
        if node.type == "do_block":  # a function body: attributes are not nested inside one
            return False
    return False


def _enclosing(node: Node) -> Node:
    """Grow to the `x || default`, pipe or conversion around a read, so the read carries them."""
    while (parent := node.parent) is not None:
        if parent.type == "binary_operator" and binary_op(parent) in _WRAPPING_OPS:
            node = parent
        elif parent.type == "arguments" and parent.parent is not None and \
                call_parts(parent.parent) in CONVERSIONS:
            node = parent.parent
        else:
            break
    return node

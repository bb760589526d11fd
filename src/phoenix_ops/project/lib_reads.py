"""Env reads in application code (lib/): read at runtime wherever the code runs."""

from __future__ import annotations

from tree_sitter import Node

from phoenix_ops.elixir.evaluate import CONVERSIONS, ENV_FUNS, Evaluator, binary_op, call_parts
from phoenix_ops.elixir.modules import walk_calls
from phoenix_ops.elixir.values import EnvRead
from phoenix_ops.project.files import SourceFile

_WRAPPING_OPS = {"||", "|>", "==", "!=", "in"}


def lib_env_reads(src: SourceFile, env: str) -> list[EnvRead]:
    ev = Evaluator(env, file=src.path, phase="runtime")
    for call in walk_calls(src.tree.root_node):
        mod, fun = call_parts(call)
        if mod == "System" and fun in ENV_FUNS:
            ev.ev(_enclosing(call), {})
    return ev.reads


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

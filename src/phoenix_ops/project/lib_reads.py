"""Env reads in application code (lib/): read at runtime wherever the code runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain

from tree_sitter import Node

from phoenix_ops.elixir.env_reads import asks_whether_set
from phoenix_ops.elixir.evaluate import CONVERSIONS, ENV_FUNS, Evaluator
from phoenix_ops.elixir.modules import function_name, walk_calls
from phoenix_ops.elixir.parser import text
from phoenix_ops.elixir.syntax import binary_op, call_args, call_parts
from phoenix_ops.elixir.values import EnvRead
from phoenix_ops.project.files import MAX_FILE_BYTES, FileSet, SourceFile

_WRAPPING_OPS = {"||", "|>", "==", "!=", "in"}


def lib_env_reads(src: SourceFile, env: str) -> list[EnvRead]:
    if b"System" not in src.data:  # no read to find: spare the walk over every call
        return []
    # A read inside a module attribute runs when the module compiles; anywhere else, when the code runs.
    evaluators = {phase: Evaluator(env, file=src.path, phase=phase) for phase in ("compile", "runtime")}
    for call in walk_calls(src.tree.root_node):
        mod, fun = call_parts(call)
        if mod == "System" and fun in ENV_FUNS:
            ev = evaluators["compile" if _in_attribute(call) else "runtime"]
            before = len(ev.reads)
            ev.ev(_enclosing(call), {})
            for read in ev.reads[before:]:
                read.within = _function(call)
                if read.required and _set_for_sure(call, read.name):
                    read.required = False  # `if System.get_env("X") do ... fetch_env!("X")`: never raises
    return sorted([r for ev in evaluators.values() for r in ev.reads], key=lambda r: r.origin.line)


def _function(node: Node) -> str:
    """The name of the def or defp holding `node`; "" outside one, or for a callback (`@impl` above
    it): a library calls that by name."""
    while (node := node.parent) is not None:
        if node.type == "call" and call_parts(node)[1] in ("def", "defp"):
            head = call_args(node)[:1]
            before = node.prev_named_sibling
            while before is not None and before.type == "comment":
                before = before.prev_named_sibling
            impl = before is not None and text(before).startswith("@impl")
            return "" if impl or not head else function_name(head[0])
    return ""


# Functions libraries and the runtime call by name, @impl or not: a read in one always runs.
CALLBACKS = frozenset({"start", "start_link", "init", "call", "child_spec", "handle_call", "handle_cast",
                       "handle_info", "handle_continue", "terminate", "code_change", "config_change", "stop",
                       "prep_stop", "mount", "render", "update", "handle_event", "handle_params", "perform",
                       "run", "load", "fetch", "connect", "join", "handle_in", "id", "main"})


def uncalled(reads: list[EnvRead], files: FileSet) -> set[str]:
    """The functions holding `reads` whose name appears nowhere else in the project, outside comments
    and their own definitions: no Elixir file, template, release script, Dockerfile or platform file
    calls, references (`&f/1`, `:f`) or delegates to them. An old endpoint's `load_from_system_env/1`
    left after its caller was removed is one: its reads never run."""
    names = {r.within for r in reads if r.within and r.within not in CALLBACKS}
    for data in chain((src.data for src in files.files.values()), _other_texts(files, names)):
        for name in [n for n in names if n.encode() in data]:
            if _mentioned(name, data):
                names.discard(name)
        if not names:
            break
    return names


def _other_texts(files: FileSet, names: set[str]) -> Iterator[bytes]:
    """The non-Elixir files, read only while some name is still unmentioned."""
    for rel in files.others:
        if not names:
            return
        try:
            yield (files.root / rel).read_bytes()[:MAX_FILE_BYTES]
        except OSError:
            continue


def _mentioned(name: str, data: bytes) -> bool:
    """Whether `name` occurs as a word, outside a comment, other than right after def or defp."""
    for found in re.finditer(rb"(?<![\w?!])(defp?\s+)?" + re.escape(name.encode()) + rb"(?![\w?!])", data):
        if found[1]:
            continue
        line = data[data.rfind(b"\n", 0, found.start()) + 1:found.start()]
        hash_at = line.find(b"#")
        if hash_at < 0 or line[:hash_at].count(b'"') % 2:
            return True
    return False


def _set_for_sure(node: Node, name: str) -> bool:
    """Whether `node` runs only when the variable `name` is set: it is in the do-branch of an `if`
    that asks for it (`if System.get_env("X") do`, `if(x = System.get_env("X"), do: ...)`, `... != nil`)."""
    passed: list[Node] = []  # the nodes between `node` and the `if`: an else branch among them excludes it
    here = node
    while (parent := here.parent) is not None:
        passed.append(here)
        if call_parts(parent) == (None, "if") and (condition := call_args(parent)[:1]) \
                and not condition[0].start_byte <= node.start_byte < condition[0].end_byte \
                and not any(n.type == "else_block" or n.type == "pair" and text(n).startswith("else") for n in passed) \
                and asks_whether_set(text(condition[0]), name):
            return True
        here = parent
    return False


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

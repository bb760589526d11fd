"""Folding literal values: joins, comparisons, arithmetic, conversions, as Elixir would."""

from __future__ import annotations

import ast
import re

from phoenix_ops.elixir.values import (
    KW,
    Atom,
    Expr,
    Lit,
    Seq,
    Value,
    list_items,
    list_value,
    truthy,
)

UNKNOWN = object()  # a value or condition that cannot be decided from files
_TRUE_WORDS = {"true", "1", "yes", "on"}
_BOOLEAN_WORDS = _TRUE_WORDS | {"false", "0", "no", "off"}


def concat(left: Value, right: Value, source: str) -> Value:
    """`a ++ b`: lists join; a keyword list joined with something unreadable keeps what is known."""
    if isinstance(left, KW) and isinstance(right, KW):
        return KW(left.items + right.items, partial=left.partial or right.partial)
    joined = [list_items(left), list_items(right)]
    if joined[0] is not None and joined[1] is not None:
        return list_value(joined[0] + joined[1])
    known = [v for v in (left, right) if isinstance(v, KW)]
    if known:
        return KW(known[0].items, partial=True, inner=[v for v in (left, right) if v is not known[0]])
    lists = [v for v in (left, right) if isinstance(v, Seq) and v.kind == "list"]
    if lists:  # `[{:phoenix, "~> 1.7"}] ++ extra_deps()`: the known items still count
        return Seq("list", lists[0].items, partial=True)
    return Expr(source, [left, right])


def boolean_words(value: Value) -> bool:
    """A comparison against true/false-like words is a boolean flag; against "dns" it is a choice."""
    items = value.items if isinstance(value, Seq) else [value]
    words = [v.value for v in items if isinstance(v, Lit)]
    return bool(words) and len(words) == len(items) and all(
        isinstance(w, str) and w.lower() in _BOOLEAN_WORDS for w in words)


def to_int(raw: str) -> int:
    raw = raw.replace("_", "")
    try:
        return int(raw, 0)
    except ValueError:
        return int(raw.lstrip("0") or "0")


def unescape(seq: str) -> str:
    try:
        return ast.literal_eval(f'"{seq}"')
    except (ValueError, SyntaxError):
        return seq


def to_string(value) -> str:
    if isinstance(value, Atom):
        return value.name
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_NUM_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
            "/": lambda a, b: a / b if b else UNKNOWN}

_ORDER_OPS = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b,
              "<=": lambda a, b: a <= b}


def _comparable(a, b) -> bool:
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    return numbers or (isinstance(a, str) and isinstance(b, str))


def fold(op: str, a, b):
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<>" and isinstance(a, str) and isinstance(b, str):
        return a + b
    if op in _NUM_OPS and isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        return _NUM_OPS[op](a, b)
    if op in _ORDER_OPS and _comparable(a, b):
        return _ORDER_OPS[op](a, b)
    if op in ("and", "&&"):
        return b if truthy(a) else a
    if op in ("or", "||"):
        return a if truthy(a) else b
    return UNKNOWN


def convert_literal(raw: str, conv: str):
    try:
        if conv == "integer":
            return int(raw.strip())
        if conv == "float":
            return float(raw.strip())
        if conv == "atom":
            return Atom(raw)
        if conv == "boolean":
            return raw.strip().lower() in _TRUE_WORDS
    except ValueError:
        return UNKNOWN
    if conv == "list":
        return [p for p in re.split(r"\s*,\s*", raw) if p]
    return UNKNOWN

"""Folding literal values: joins, comparisons, arithmetic, conversions, as Elixir would."""

from __future__ import annotations

import re

from phoenix_ops.elixir.limits import (
    MAX_INT_BITS,
    MAX_INT_DIGITS,
    MAX_ITEMS,
    MAX_STRING,
    bounded,
)
from phoenix_ops.elixir.values import (
    KW,
    Atom,
    Choice,
    Expr,
    Lit,
    Seq,
    Value,
    alternatives,
    list_items,
    list_value,
    truthy,
)

UNKNOWN = object()  # a value or condition that cannot be decided from files
_TRUE_WORDS = {"true", "1", "yes", "on"}
_BOOLEAN_WORDS = _TRUE_WORDS | {"false", "0", "no", "off"}


def concat(left: Value, right: Value, source: str) -> Value:
    """`a ++ b`: lists join; a keyword list joined with something unreadable keeps what is known."""
    left, right = _branch_union(left), _branch_union(right)
    if isinstance(left, KW) and isinstance(right, KW):
        if len(left.items) + len(right.items) > MAX_ITEMS:
            return KW([], partial=True)
        return KW(left.items + right.items, partial=left.partial or right.partial)
    joined = [list_items(left), list_items(right)]
    if joined[0] is not None and joined[1] is not None:
        if len(joined[0]) + len(joined[1]) > MAX_ITEMS:
            return Expr(source)
        value = list_value(joined[0] + joined[1])
        # `[a] ++ ([b] ++ unknown())` joins right to left: a partial tail stays partial
        value.partial = getattr(left, "partial", False) or getattr(right, "partial", False)
        return value
    known = [v for v in (left, right) if isinstance(v, KW)]
    if known:
        return KW(known[0].items, partial=True, inner=[v for v in (left, right) if v is not known[0]])
    lists = [v for v in (left, right) if isinstance(v, Seq) and v.kind == "list"]
    if lists:  # `[{:phoenix, "~> 1.7"}] ++ extra_deps()`: the known items still count
        return Seq("list", lists[0].items, partial=True)
    return Expr(source, [left, right])


def _branch_union(value: Value) -> Value:
    """`if(c, do: [x], else: [])` joined to a list: every branch's items, each carrying the condition it
    was evaluated under, so `[a] ++ if(...)` still shows `x` (conditionally) in its place."""
    if not isinstance(value, Choice):
        return value
    branches = [list_items(option) for option in alternatives(value)]
    if any(items is None for items in branches) or sum(map(len, branches)) > MAX_ITEMS:
        return value
    return list_value([item for items in branches for item in items])


def boolean_words(value: Value) -> bool:
    """A comparison against true/false-like words is a boolean flag; against "dns" it is a choice."""
    items = value.items if isinstance(value, Seq) else [value]
    words = [v.value for v in items if isinstance(v, Lit)]
    return bool(words) and len(words) == len(items) and all(
        isinstance(w, str) and w.lower() in _BOOLEAN_WORDS for w in words)


def to_int(raw: str):
    """An integer literal's value; UNKNOWN past MAX_INT_DIGITS (no config needs more, and Python
    refuses to convert over 4,300 digits)."""
    raw = raw.replace("_", "")
    if len(raw) > MAX_INT_DIGITS:
        return UNKNOWN
    try:
        return int(raw, 0)
    except ValueError:
        return int(raw.lstrip("0") or "0")


# The escapes config strings mostly hold, as Python's parser reads them (which loads it).
_COMMON_ESCAPES = {"\\n": "\n", "\\t": "\t", "\\r": "\r", "\\\\": "\\", '\\"': '"', "\\'": "'"}


def unescape(seq: str) -> str:
    if seq in _COMMON_ESCAPES:
        return _COMMON_ESCAPES[seq]
    import ast  # only a rarer escape needs Python's parser: not loaded on every start

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
    """The value of `a op b` on literals, or UNKNOWN: also when it would outgrow the limits."""
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<>" and isinstance(a, str) and isinstance(b, str):
        return a + b if len(a) + len(b) <= MAX_STRING else UNKNOWN
    if op in _NUM_OPS and isinstance(a, (int, float)) and isinstance(b, (int, float)) \
            and not isinstance(a, bool) and not isinstance(b, bool):
        if op == "*" and isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            return UNKNOWN  # computed, squaring forty times would take minutes
        try:
            result = bounded(_NUM_OPS[op](a, b))
        except (OverflowError, ZeroDivisionError):  # a huge integer meeting a float
            return UNKNOWN
        return UNKNOWN if result is None else result
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

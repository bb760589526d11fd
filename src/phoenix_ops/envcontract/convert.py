"""Will a value survive the conversion the config applies? Described, never echoed."""

from __future__ import annotations

import re

_INTEGER = re.compile(r"[+-]?[0-9]+")  # String.to_integer/1: digits, optional sign, nothing else
_FLOAT = re.compile(r"[+-]?[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?")  # String.to_float/1 needs the point
BOOLEAN_WORDS = {"true", "false", "1", "0"}


def conversion_problem(kind: str, value: str) -> str | None:
    """Why `value` makes the conversion raise, or None when it converts (or cannot fail)."""
    if kind == "integer":
        return None if _INTEGER.fullmatch(value) else _describe(value, "String.to_integer/1")
    if kind == "float":
        if _FLOAT.fullmatch(value):
            return None
        if _INTEGER.fullmatch(value):
            return "has no decimal point, which String.to_float/1 requires (write 2.0, not 2)"
        return _describe(value, "String.to_float/1")
    return None


def _describe(value: str, fun: str) -> str:
    if value == "":
        return f"is empty; {fun} raises on \"\", and a default after `||` is not used for it"
    if value != value.strip():
        return f"has spaces around the number, which {fun} rejects"
    if "_" in value:
        return f"uses `_` digit separators, which {fun} rejects"
    if fun.endswith("to_integer/1") and re.fullmatch(r"[+-]?[0-9]*\.[0-9]*", value):
        return f"has a fractional part; {fun} accepts only whole numbers"
    return f"is not a number that {fun} accepts"

"""Will a value survive the conversion the config applies? Described, never echoed.

Plain Elixir (`String.to_integer/1`, `String.to_float/1`, `== "true"`) is strict; Dotenvy's
`env!/2` types are lenient (Integer.parse/Float.parse on a prefix, "" as 0, any word but
false/0 as true), so the same value can be fine for one and fatal for the other.
"""

from __future__ import annotations

import re

from phoenix_ops.patterns import lazy

_INTEGER = lazy(r"[+-]?[0-9]+")  # String.to_integer/1: digits, optional sign, nothing else
_FLOAT = lazy(r"[+-]?[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?")  # String.to_float/1 needs the point
_NUMBER_PREFIX = lazy(r"[+-]?[0-9]")  # what Integer.parse/Float.parse need to succeed
BOOLEAN_WORDS = {"true", "false", "1", "0"}
NO_WORDS = {"false", "0", "no", "off", "n", "f", "disabled"}  # what people write to mean "off"


def conversion_problem(kind: str, value: str, *, dotenvy: bool = False) -> str | None:
    """Why `value` makes the conversion raise, or None when it converts (or cannot fail)."""
    if kind not in ("integer", "float"):
        return None
    if dotenvy:
        if value == "" or _NUMBER_PREFIX.match(value):
            return None
        return f"does not start with a number, so Dotenvy's :{kind} conversion raises"
    if kind == "integer":
        return None if _INTEGER.fullmatch(value) else _describe(value, "String.to_integer/1")
    if _FLOAT.fullmatch(value):
        return None
    if _INTEGER.fullmatch(value):
        return "has no decimal point, which String.to_float/1 requires (write 2.0, not 2)"
    return _describe(value, "String.to_float/1")


def boolean_problem(value: str, *, dotenvy: bool = False) -> str | None:
    """Why a boolean setting will not mean what the value says, or None."""
    if dotenvy:
        if value.lower() in NO_WORDS - {"false", "0"}:
            return "means 'no', but Dotenvy's :boolean reads every value except false, 0 and \"\" as true"
        return None
    if value in BOOLEAN_WORDS:
        return None
    return "is not one of true, false, 1, 0; the config will most likely read it as false"


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

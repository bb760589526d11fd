"""Durations as deploy files write them: `5s`, `"1m30s"`, `90`, systemd's `1min 30s`, `infinity`."""

from __future__ import annotations

import re

from phoenix_ops.patterns import lazy

_PART = lazy(r"(\d+(?:\.\d+)?)\s*(msec|ms|usec|us|seconds?|sec|s|minutes?|min|m|hours?|hr|h|days?|d)?", re.I)
_UNIT = {"ms": 0.001, "msec": 0.001, "us": 1e-6, "usec": 1e-6, "s": 1, "sec": 1, "second": 1, "seconds": 1,
         "m": 60, "min": 60, "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
         "d": 86400, "day": 86400, "days": 86400}


def seconds(value, default_unit: float = 1.0) -> float | None:
    """Seconds in `value`; a bare number counts in `default_unit` seconds; None when unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) * default_unit
    text = str(value).strip().lower()
    if text in ("infinity", "inf"):
        return float("inf")
    pos, total, matched = 0, 0.0, False
    while pos < len(text):
        m = _PART.match(text, pos)
        if not m:
            return None
        unit = m.group(2)
        total += float(m.group(1)) * (_UNIT[unit] if unit else default_unit)
        matched, pos = True, m.end()
        while pos < len(text) and text[pos] == " ":
            pos += 1
    return total if matched else None

"""Dockerfile facts: the variables a build declares with ARG or ENV."""

from __future__ import annotations

import re

_INSTRUCTION = re.compile(r"^\s*(ARG|ENV)\s+(.+)$", re.I)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*")


def declared_variables(text: str) -> set[str]:
    """Names set by `ARG NAME[=default]`, `ENV NAME=value ...` and `ENV NAME value`, continuation lines joined."""
    names: set[str] = set()
    for line in text.replace("\\\n", " ").splitlines():
        m = _INSTRUCTION.match(line)
        if not m:
            continue
        words = m.group(2).split()
        if m.group(1).upper() == "ENV" and words and "=" not in words[0]:
            words = words[:1]  # legacy `ENV NAME value with spaces`
        for word in words:
            name = _NAME.match(word)
            if name and (m.group(1).upper() == "ARG" or "=" in word or len(words) == 1):
                names.add(name.group(0))
    return names

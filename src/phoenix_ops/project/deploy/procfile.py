"""Procfiles: `name: command` per line (Heroku, Gigalixir, Dokku, foreman)."""

from __future__ import annotations

from phoenix_ops.patterns import lazy
from phoenix_ops.record import record

_ENTRY = lazy(r"^([A-Za-z0-9_-]+)\s*:\s*(.+)$")


@record(frozen=True)
class Process:
    name: str
    command: str
    line: int


def read_procfile(text: str) -> list[Process]:
    return [Process(m.group(1), m.group(2).strip(), n) for n, raw in enumerate(text.splitlines(), 1)
            if not raw.lstrip().startswith("#") and (m := _ENTRY.match(raw.strip()))]

"""Terms written as Erlang writes them, for messages: `{badrpc, nodedown}`, never `(Atom('badrpc'), ...)`."""

from __future__ import annotations

from phoenix_ops.cluster.etf import (
    Atom,
    BitBinary,
    Export,
    ImproperList,
    Pid,
    Port,
    Ref,
)
from phoenix_ops.patterns import lazy

_BARE_ATOM = lazy(r"[a-z][A-Za-z0-9_@]*")
_ITEMS = 12  # items of a list, tuple or map shown before "..."
_DEPTH = 8


def show(term: object, limit: int = 200) -> str:
    """`term` in Erlang syntax, cut to `limit` characters."""
    out = _show(term, _DEPTH)
    return out if len(out) <= limit else out[:limit - 3] + "..."


def _show(term: object, depth: int) -> str:
    if depth == 0:
        return "..."
    inner = depth - 1
    if isinstance(term, Atom):
        return term if _BARE_ATOM.fullmatch(term) else "'" + term.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(term, bool):
        return "true" if term else "false"
    if isinstance(term, (int, float)):
        return repr(term)
    if isinstance(term, str):
        return _quoted(term)
    if isinstance(term, bytes):
        return f"<<{_quoted(term.decode())}>>" if _printable(term) else "<<" + _join(list(term), inner) + ">>"
    if isinstance(term, BitBinary):
        return f"<<{_join(list(term.data), inner)}:{term.bits}>>"
    if isinstance(term, tuple):
        return "{" + _join(term, inner) + "}"
    if isinstance(term, list):
        if term and all(isinstance(c, int) and 32 <= c < 127 for c in term):
            return _quoted("".join(map(chr, term)))  # a charlist, as the shell prints it
        return "[" + _join(term, inner) + "]"
    if isinstance(term, ImproperList):
        return "[" + _join(term.items, inner) + " | " + _show(term.tail, inner) + "]"
    if isinstance(term, dict):
        pairs = [f"{_show(k, inner)} => {_show(v, inner)}" for k, v in list(term.items())[:_ITEMS]]
        return "#{" + ", ".join(pairs + (["..."] if len(term) > _ITEMS else [])) + "}"
    if isinstance(term, Pid):
        return f"#PID<{term.node}.{term.id}.{term.serial}>"
    if isinstance(term, Ref):
        return f"#Ref<{term.node}.{'.'.join(map(str, term.ids))}>"
    if isinstance(term, Port):
        return f"#Port<{term.node}.{term.id}>"
    if isinstance(term, Export):
        return f"fun {_show(term.module, inner)}:{_show(term.function, inner)}/{term.arity}"
    return type(term).__name__


def _join(items, depth: int) -> str:
    items = list(items)
    shown = [_show(item, depth) for item in items[:_ITEMS]]
    return ", ".join(shown + (["..."] if len(items) > _ITEMS else []))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _printable(data: bytes) -> bool:
    try:
        return data.decode().isprintable()
    except UnicodeDecodeError:
        return False

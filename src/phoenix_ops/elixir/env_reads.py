"""Environment reads in every form config files use, with their defaults and conversions."""

from __future__ import annotations

from tree_sitter import Node

from phoenix_ops.elixir.literals import UNKNOWN, convert_literal
from phoenix_ops.elixir.values import Atom, EnvRead, Expr, Lit, Value
from phoenix_ops.patterns import lazy

ENV_FUNS = {"get_env", "fetch_env!", "fetch_env"}
CONVERSIONS = {
    ("String", "to_integer"): "integer", ("String", "to_float"): "float", ("String", "to_atom"): "atom",
    ("String", "to_existing_atom"): "atom", ("String", "to_charlist"): "charlist",
    ("String", "split"): "list",
}
DOTENVY_TYPES = {"string", "integer", "float", "boolean", "atom", "existing_atom", "module", "charlist"}
# A condition that only asks whether a variable is there: `if skb = System.get_env("X")`, or of the
# value read from it, `v != nil`, `!is_nil(v)`, `v not in [nil, ""]` (a filter dropping unset keys).
_PRESENCE = lazy(r'(?:\w+ ?= ?)?System\.get_env\("\w+"\)(?: !==? nil)?|\w+ !==? nil|(?:!|not )is_nil\(\w+\)'
                 r'|\w+ not in \[(?:nil, ?""|"", ?nil)\]')


def asks_whether_set(condition: str, name: str | None = None) -> bool:
    """Whether the source text of a condition only asks whether a variable is set (`name`, when
    given, read in the condition itself)."""
    flat = " ".join(condition.split())
    return bool(_PRESENCE.fullmatch(flat)) and (name is None or f'System.get_env("{name}")' in flat)


class EnvReads:
    """Mixed into the Evaluator: one EnvRead per source position, enriched by what wraps it."""

    def dotenvy(self, node: Node, args: list[Node], scope) -> Value:
        name = self.ev(args[0], scope)
        if not (isinstance(name, Lit) and isinstance(name.value, str)):
            return Expr("env!(...)")
        kind = self.ev(args[1], scope) if len(args) > 1 else Lit(Atom("string"))
        conv = kind.value.name.rstrip("?") if isinstance(kind, Lit) and isinstance(kind.value, Atom) else None
        default = self.ev(args[2], scope) if len(args) > 2 else None
        read = self.env_read(node, name.value, how="env!", required=default is None, default=default)
        read.convert = conv if conv in DOTENVY_TYPES and conv != "string" else None
        return read

    def env_read(self, node: Node, name: str, *, how: str, required: bool = False,
                 default: Value | None = None) -> EnvRead:
        # Conditions are evaluated more than once; the same source position is one read.
        key = (self.file, node.start_byte, name)
        if key not in self._read_at:
            read = EnvRead(name=name, required=required, default=default, how=how)
            read.conditions = self.conditions
            self._read_at[key] = read
            self.reads.append(read)
        return self._read_at[key]

    def apply_conversion(self, value: Value, conv: str) -> Value:
        if isinstance(value, EnvRead):
            return self.convert(value, conv)
        if isinstance(value, Lit) and isinstance(value.value, str):
            converted = convert_literal(value.value, conv)
            if converted is not UNKNOWN:
                return Lit(converted)
        return Expr(f"{conv}({getattr(value, 'text', '...')})", [value])

    def convert(self, read: EnvRead, conv: str) -> EnvRead:
        # The read object is the one the call created; enrich it so the env contract sees the type.
        read.convert = read.convert or conv
        return read



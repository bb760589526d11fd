"""Plain Python values for evaluated Elixir: literals, env reads, and everything else kept as text."""

from __future__ import annotations

from typing import Any

from phoenix_ops.record import field, record

MAX_TEXT = 2000  # characters of source kept for a value not evaluated


@record(frozen=True)
class Atom:
    """An Elixir atom; module aliases are atoms too (name starts upper-case)."""

    name: str

    def __str__(self) -> str:
        return self.name if self.name[:1].isupper() else f":{self.name}"


@record(frozen=True)
class Origin:
    file: str
    line: int
    phase: str  # "compile" (config.exs and its imports) or "runtime" (runtime.exs, releases.exs)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@record(frozen=True)
class Condition:
    """A condition the evaluator could not decide; values under it may or may not apply."""

    text: str
    env_names: tuple[str, ...] = ()


@record(eq=False)
class Value:
    origin: Origin | None = field(default=None, kw_only=True)
    conditions: tuple[Condition, ...] = field(default=(), kw_only=True)
    seq: int = field(default=0, kw_only=True, repr=False)  # order of `config` calls, set by the config view
    depth: int = field(default=0, kw_only=True, repr=False)  # nesting, set by the evaluator (0: not yet)

    def reads(self) -> list["EnvRead"]:
        """Every env read this value is built from."""
        return []

    def parts(self) -> list["Value"]:
        """The values this one is built from (one level down)."""
        return []

    @property
    def conditional(self) -> bool:
        return bool(self.conditions)


@record(eq=False)
class Lit(Value):
    value: Any  # str, int, float, bool, None, Atom, or list of plain values


@record(eq=False)
class KW(Value):
    """A keyword list: Config merges these deeply."""

    items: list[tuple[str, Value]]
    partial: bool = False  # built with `++` from something unreadable: more keys may be set
    inner: list[Value] = field(default_factory=list)  # the unreadable parts, for their env reads

    def get(self, key: str) -> Value | None:
        for k, v in reversed(self.items):
            if k == key:
                return v
        return None

    def reads(self) -> list["EnvRead"]:
        return [r for _, v in self.items for r in v.reads()] + [r for v in self.inner for r in v.reads()]

    def parts(self) -> list[Value]:
        return [v for _, v in self.items] + self.inner


@record(eq=False)
class Seq(Value):
    kind: str  # "list" or "tuple"
    items: list[Value]
    partial: bool = False  # joined with something unreadable: more items may exist

    def reads(self) -> list["EnvRead"]:
        return [r for v in self.items for r in v.reads()]

    def parts(self) -> list[Value]:
        return self.items


@record(eq=False)
class EnvRead(Value):
    name: str
    required: bool = False
    default: Value | None = None
    convert: str | None = None  # integer, float, atom, boolean, list, ...
    how: str = ""  # the source form: System.get_env, System.fetch_env!, {:system, _}, env!
    within: str = ""  # in application code, the function holding the read (none for a callback)

    def reads(self) -> list["EnvRead"]:
        return [self]

    def parts(self) -> list[Value]:
        return [self.default] if self.default is not None else []


@record(eq=False)
class Expr(Value):
    """Anything the evaluator does not model, kept as its source text, never guessed."""

    text: str
    inner: list[Value] = field(default_factory=list)
    raises: bool = False  # a `raise ...` expression: makes `x || raise` required

    def __post_init__(self) -> None:
        if len(self.text) > MAX_TEXT:  # enough to recognise; a nested huge expression is not kept per level
            self.text = self.text[:MAX_TEXT] + "…"

    def reads(self) -> list["EnvRead"]:
        return [r for v in self.inner for r in v.reads()]

    def parts(self) -> list[Value]:
        return self.inner


@record(eq=False)
class Choice(Value):
    """A value picked by a condition the evaluator cannot decide: one option per branch, each option
    carrying the condition under which it is the value."""

    text: str
    options: list[Value]
    test: Value | None = None  # the condition (or case subject) itself, for its env reads

    def reads(self) -> list["EnvRead"]:
        return (self.test.reads() if self.test else []) + [r for v in self.options for r in v.reads()]


def alternatives(value: Value | None) -> list[Value]:
    """Every value a Choice may turn out to be (nested choices flattened); the value itself otherwise."""
    if isinstance(value, Choice):
        return [v for option in value.options for v in alternatives(option)]
    return [value] if value is not None else []


def list_value(items: list[Value]) -> Value:
    """A list: a keyword list when every item is an {:atom, value} pair, as Elixir sees it. Pairs
    whose key is not known (`{protocol, opts}`) beside known ones make a partial keyword list: the
    keys read are set, and more may be (Config merges it into what earlier files set)."""
    pairs = [v for v in items if isinstance(v, Seq) and v.kind == "tuple" and len(v.items) == 2
             and isinstance(v.items[0], Lit) and isinstance(v.items[0].value, Atom)]
    unknown = [v for v in items if isinstance(v, Seq) and v.kind == "tuple" and len(v.items) == 2
               and not isinstance(v.items[0], Lit)]
    if items and pairs and len(pairs) + len(unknown) == len(items):
        return KW([(p.items[0].value.name, p.items[1]) for p in pairs], partial=bool(unknown), inner=unknown)
    return Seq("list", items)


def list_items(value: Value) -> list[Value] | None:
    """The items of a list value (a keyword list's as {:key, value} pairs), or None."""
    if isinstance(value, KW) and not value.partial:
        return [Seq("tuple", [Lit(Atom(k)), v]) for k, v in value.items]
    if isinstance(value, Seq) and value.kind == "list":
        return list(value.items)
    return None


def plain(value: Value | None) -> Any:
    """The Python value of a fully literal Value, else None."""
    if isinstance(value, Lit):
        return value.value
    if isinstance(value, Seq) and all(isinstance(v, Lit) for v in value.items):
        items = [v.value for v in value.items]
        return items if value.kind == "list" else tuple(items)
    if isinstance(value, KW):
        return {k: plain(v) for k, v in value.items}
    return None


def is_literal(value: Value | None) -> bool:
    if isinstance(value, Lit):
        return True
    if isinstance(value, Seq):
        return all(is_literal(v) for v in value.items)
    if isinstance(value, KW):
        return all(is_literal(v) for _, v in value.items)
    return False


def truthy(value: Any) -> bool:
    return value is not None and value is not False

"""Classes declared by their annotated fields, as with `dataclasses`, made without generating code.

`dataclasses` writes an __init__, __repr__ and __eq__ (with __hash__ and __setattr__ when frozen)
as source text for every class and compiles it, about 0.3 ms a class, and importing it brings in
`inspect`. The model has some seventy classes on the way of every `check`: on a small project that
was a fifth of the whole run. A record's methods are shared functions that read the class's table
of fields, so making a class costs next to nothing:

    @record(frozen=True)
    class Origin:
        file: str
        line: int
        phase: str = "runtime"

Declared as a dataclass is: fields in order, a base record's first; a default, or
`field(default=..., default_factory=..., kw_only=True, repr=False, compare=False)`; `__post_init__`
runs after __init__. Behaves as a dataclass does: equality field by field between instances of the
same class (`eq=False` keeps identity), hashing of frozen records (and unhashable mutable ones with
equality), assignment refused on frozen ones, `replace` and `asdict`. Instances keep a __dict__, so
`vars()` lists the fields in order and `functools.cached_property` works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

_MISSING = object()
T = TypeVar("T")


class FrozenInstanceError(AttributeError):
    """Assignment to a field of a frozen record."""


class Field:
    __slots__ = ("name", "default", "default_factory", "kw_only", "repr", "compare")

    def __init__(self, default: Any = _MISSING, default_factory: Any = None, kw_only: bool = False,
                 repr: bool = True, compare: bool = True):
        self.name = ""
        self.default, self.default_factory = default, default_factory
        self.kw_only, self.repr, self.compare = kw_only, repr, compare


def field(*, default: Any = _MISSING, default_factory: Any = None, kw_only: bool = False, repr: bool = True,
          compare: bool = True) -> Any:
    """A field's settings, where a plain default does not say enough."""
    return Field(default, default_factory, kw_only, repr, compare)


class _Table:
    """What the shared methods of one record class read: its fields, by role."""

    __slots__ = ("fields", "names", "positional", "compared", "shown", "template", "unset", "post_init")

    def __init__(self, cls: type, fields: dict[str, Field]):
        self.fields = fields
        self.names = frozenset(fields)
        self.positional = tuple(name for name, f in fields.items() if not f.kw_only)
        self.compared = tuple(name for name, f in fields.items() if f.compare)
        self.shown = tuple(name for name, f in fields.items() if f.repr)
        # A new instance starts as a copy of `template` (the defaults, in field order); the fields
        # left `unset` there (required, or made by a factory) are filled in or missed afterwards.
        self.template = {name: f.default for name, f in fields.items()}
        self.unset = tuple(name for name, f in fields.items() if f.default is _MISSING)
        self.post_init = hasattr(cls, "__post_init__")


def record(cls: type | None = None, /, *, frozen: bool = False, eq: bool = True):
    """Make `cls` a record (`@record`, or `@record(frozen=True)`, `@record(eq=False)`)."""
    def wrap(cls: type) -> type:
        return _make(cls, frozen, eq)
    return wrap if cls is None else wrap(cls)


def _make(cls: type, frozen: bool, eq: bool) -> type:
    fields: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        table = base.__dict__.get("__record__")
        if table is not None:
            fields.update(table.fields)
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if str(annotation).startswith("ClassVar"):
            continue
        declared = cls.__dict__.get(name, _MISSING)
        spec = declared if isinstance(declared, Field) else Field(default=declared)
        spec.name = name
        if spec.default is _MISSING:
            if name in cls.__dict__:
                delattr(cls, name)  # a field() with a factory, or none: no class attribute, as in dataclasses
        else:
            setattr(cls, name, spec.default)
        fields[name] = spec
    cls.__record__ = _Table(cls, fields)
    cls.__init__ = _init
    cls.__repr__ = _repr
    cls.__match_args__ = cls.__record__.positional
    if eq:
        cls.__eq__ = _eq
        cls.__hash__ = _hash if frozen else None
    if frozen:
        cls.__setattr__ = _refuse
        cls.__delattr__ = _refuse
    return cls


def _init(self, *args: Any, **kwargs: Any) -> None:
    table: _Table = self.__record__
    values = self.__dict__  # filled in place: the defaults first, so the fields keep their order
    values.update(table.template)
    if args:
        if len(args) > len(table.positional):
            raise TypeError(f"{type(self).__qualname__}() takes {len(table.positional)} positional arguments "
                            f"but {len(args)} were given")
        positional = table.positional
        for i, value in enumerate(args):  # (cheaper than updating from a zip of so few)
            values[positional[i]] = value
    if kwargs:
        if not kwargs.keys() <= table.names or (args and not kwargs.keys().isdisjoint(table.positional[:len(args)])):
            raise TypeError(f"{type(self).__qualname__}() got an unexpected or repeated argument "
                            f"in {sorted(kwargs)}")
        values.update(kwargs)
    for name in table.unset:
        if values[name] is _MISSING:
            factory = table.fields[name].default_factory
            if factory is None:
                raise TypeError(f"{type(self).__qualname__}() missing required argument {name!r}")
            values[name] = factory()
    if table.post_init:
        self.__post_init__()


def _key(self) -> tuple:
    return tuple([getattr(self, name) for name in self.__record__.compared])


def _eq(self, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _key(self) == _key(other)


def _hash(self) -> int:
    return hash(_key(self))


def _repr(self) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record__.shown)
    return f"{type(self).__qualname__}({shown})"


def _refuse(self, name: str, *value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen {type(self).__qualname__}")


def replace(obj: Any, /, **changes: Any) -> Any:
    """A copy of the record `obj` with some fields changed (built through __init__, as dataclasses do)."""
    return type(obj)(**{**{name: getattr(obj, name) for name in obj.__record__.fields}, **changes})


def asdict(obj: Any) -> Any:
    """The record `obj` as a dict, records and containers inside it converted too."""
    if hasattr(type(obj), "__record__"):
        return {name: asdict(getattr(obj, name)) for name in obj.__record__.fields}
    if isinstance(obj, (list, tuple)):
        return type(obj)(asdict(v) for v in obj)
    if isinstance(obj, dict):
        return {asdict(k): asdict(v) for k, v in obj.items()}
    return obj


class Derived:
    """Mixed into a record that many readers ask the same questions of (its class declares
    `_derived: dict = field(default_factory=dict, repr=False, compare=False)`): `derived(make)` is
    `make(self)`, computed once. The record must be complete before its readers start."""

    _derived: dict[Callable, Any]

    def derived(self, make: Callable[[Any], T]) -> T:
        if make not in self._derived:
            self._derived[make] = make(self)
        return self._derived[make]

"""Records behave as the dataclasses they replace: construction, equality, hashing, frozen, replace."""

from functools import cached_property

import pytest

from phoenix_ops.record import (
    Derived,
    FrozenInstanceError,
    asdict,
    field,
    record,
    replace,
)


@record(frozen=True)
class Point:
    x: int
    y: int = 0
    tags: list = field(default_factory=list, compare=False)


@record(eq=False)
class Base:
    origin: str | None = field(default=None, kw_only=True)
    hidden: int = field(default=0, kw_only=True, repr=False)


@record(eq=False)
class Leaf(Base):
    value: int

    def __post_init__(self) -> None:
        self.value = abs(self.value)

    @cached_property
    def double(self) -> int:
        return self.value * 2


def test_fields_take_arguments_defaults_and_factories_in_order():
    p = Point(1)
    assert (p.x, p.y, p.tags) == (1, 0, [])
    assert Point(1).tags is not Point(1).tags
    assert list(vars(Point(1, y=2))) == ["x", "y", "tags"]
    assert list(vars(Leaf(3, origin="a"))) == ["origin", "hidden", "value"]  # a base's fields first


def test_bad_arguments_are_refused_as_by_a_dataclass():
    for bad in (lambda: Point(), lambda: Point(1, 2, [], 4), lambda: Point(1, x=1), lambda: Point(1, z=1),
                lambda: Leaf(1, 2)):
        with pytest.raises(TypeError):
            bad()


def test_frozen_records_compare_and_hash_by_their_compared_fields_and_refuse_assignment():
    assert Point(1, 2, ["a"]) == Point(1, 2, ["b"]) and len({Point(1, 2), Point(1, 2)}) == 1
    assert Point(1, 2) != Point(2, 1) and Point(1) != (1, 0)
    with pytest.raises(FrozenInstanceError):
        Point(1).x = 2


def test_eq_false_keeps_identity_and_post_init_runs():
    leaf = Leaf(-4)
    assert leaf.value == 4 and leaf.double == 8
    assert leaf != Leaf(-4) and leaf == leaf
    assert repr(leaf) == "Leaf(origin=None, value=4)"


def test_replace_and_asdict():
    p = replace(Point(1, 2, ["t"]), y=5)
    assert (p.x, p.y, p.tags) == (1, 5, ["t"])
    assert asdict({"p": [Point(1)]}) == {"p": [{"x": 1, "y": 0, "tags": []}]}


@record
class Facts(Derived):
    items: list
    _derived: dict = field(default_factory=dict, repr=False, compare=False)


def test_a_derived_fact_is_computed_once_per_record_and_stays_out_of_equality():
    made = []

    def total(facts):
        made.append(facts)
        return sum(facts.items)

    facts = Facts([1, 2])
    assert facts.derived(total) == 3 and facts.derived(total) == 3 and made == [facts]
    assert Facts([5]).derived(total) == 5 and len(made) == 2  # each record its own
    assert facts == Facts([1, 2]) and repr(facts) == "Facts(items=[1, 2])"

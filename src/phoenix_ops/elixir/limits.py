"""What one evaluation may cost: nesting depth, work, and the size of the literals it folds.

Config files and mix.exs are programs, and a tiny one can ask for unbounded work (`a = a * a`
forty times, a file importing the next one twice, six nested `for`). Each evaluation of a file
for an environment gets a budget of steps; past it the evaluation stops, what it would have set
is unknown, and the place is reported. Folded literals that would grow
past what any real config holds (a megabyte of string, a 256-bit number, a million items) stay
unknown instead of being computed.
"""

from __future__ import annotations

import math

MAX_DEPTH = 100  # nesting of expressions, blocks and values followed; real config stays under 20
WORK_BUDGET = 300_000  # steps of one file and environment (about a node evaluated each): under a second
PROJECT_BUDGET = 4 * WORK_BUDGET  # of all of them: a project can name any number of environments
MAX_STRING = 1 << 20  # characters of a folded string
MAX_INT_BITS = 256  # of a folded integer (beyond any port, size or timeout)
MAX_INT_DIGITS = 80  # of an integer literal read from source
MAX_ITEMS = 1 << 20  # of a list built by `++`


class Budget:
    """Steps left for one evaluation. Once spent, the evaluator stops descending: every expression
    is unknown at once and loops end, so what was read before stays and the rest costs nothing."""

    def __init__(self, steps: int = WORK_BUDGET):
        self.steps = steps
        self.left = steps
        self.stopped_at: tuple[str, int] | None = None  # (file, line) where the steps ran out

    @property
    def spent(self) -> bool:
        return self.stopped_at is not None

    def spend(self, units: int, file: str, line: int) -> None:
        self.left -= units
        if self.left < 0 and self.stopped_at is None:
            self.stopped_at = (file, line)

    def share(self) -> "Budget":
        """A budget for one file and environment, drawn from this project-wide one (`settle` after)."""
        return Budget(max(0, min(WORK_BUDGET, self.left)))

    def settle(self, share: "Budget") -> None:
        self.left -= share.steps - max(share.left, 0)


def describe(budget: Budget) -> str:
    return (f"evaluation stopped here after {budget.steps:,} steps (the audit gives {WORK_BUDGET:,} to a file "
            f"and environment, {PROJECT_BUDGET:,} to a project)")


def bounded(value):
    """`value` when it is of a size config holds, else None: huge strings, bignums, infinities."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= MAX_INT_BITS else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if len(value) <= MAX_STRING else None
    return value

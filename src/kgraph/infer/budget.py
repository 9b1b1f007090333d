"""A time and size budget for one inference run, checked as it goes, so a write that costs too much stops early.

A contributor's write is re-inferred before it is committed, under the writer's lock: a write whose inference runs
for minutes (20,000 typed blank nodes) or adds a hundred thousand triples would hold every other writer that long.
The engines call :meth:`Budget.check` often (every few thousand triples, every rule) and :meth:`Budget.spend` for
what they add; past either limit they raise :class:`BudgetExceeded`, and the write is refused with nothing changed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


class BudgetExceeded(Exception):
    """Inference went past its time limit (``seconds``) or its triple limit (``inferred``)."""

    def __init__(self, *, seconds: float | None = None, inferred: int | None = None, limit: float = 0) -> None:
        self.seconds = seconds
        self.inferred = inferred
        self.limit = limit
        what = f"{seconds:.1f} s" if seconds is not None else f"{inferred} inferred triples"
        super().__init__(f"inference stopped at {what}, past its limit of {limit:g}")


@dataclass
class Budget:
    """How long inference may run (seconds from creation) and how many inferred triples it may hold in all."""

    seconds: float | None = None
    max_inferred: int | None = None
    started: float = field(default_factory=time.monotonic)
    inferred: int = 0

    def elapsed(self) -> float:
        """Seconds since the budget was opened."""
        return time.monotonic() - self.started

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` once the time is up."""
        if self.seconds is not None and self.elapsed() > self.seconds:
            raise BudgetExceeded(seconds=self.elapsed(), limit=self.seconds)

    def spend(self, triples: int) -> None:
        """Count inferred triples; raise :class:`BudgetExceeded` past the limit (or when the time is up)."""
        self.inferred += triples
        if self.max_inferred is not None and self.inferred > self.max_inferred:
            raise BudgetExceeded(inferred=self.inferred, limit=self.max_inferred)
        self.check()

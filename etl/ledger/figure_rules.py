"""The two number rules every figure shares: a rate of nothing is None, a whole number an int.

Owned here so the metrics stage and its helper modules (replies, scorecards, claims) apply
one rule; metrics.py re-exports both.
"""

from __future__ import annotations

from etl.schema import CLOSURES


def ratio(numerator: int | None, denominator: int) -> float | None:
    """A rate as a fraction 0..1; None when nothing could be counted, never a division error."""
    return None if numerator is None or denominator == 0 else numerator / denominator


def plain_number(value: float | int | None) -> float | int | None:
    """An int when the value is whole, so 80.0 and 80 print and compare the same everywhere."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


# Statuses that owe no more work against a deadline: done; long_term items have no end date
# to miss; the four closures that are not fixes (schema.CLOSURES) end an item too.
FINISHED = ("done", "long_term", *CLOSURES)


def is_overdue(status: str | None, deadline, as_of) -> bool:
    """Still owing work, with a deadline before as_of: the one overdue rule, then and now."""
    return status not in FINISHED and deadline is not None and deadline < as_of

"""Unit scorecards: each unit's change since the last publish, and the ranking (红黑榜).

Pure helpers of the metrics stage, which owns every figure: it hands in the unit groups it
computed and the previous publish, and puts what comes back into metrics.json.
"""

from __future__ import annotations

from typing import Callable

from etl.ledger.figure_rules import is_overdue
from etl.ledger.history import Past

# Figure keys a unit's scorecard adds to its group figures.
CHANGE_KEYS = ("change.done", "change.overdue")


def previous_counts(previous: Past, group_name: Callable[[str | None], str]) -> dict[str, dict]:
    """Per unit name, its done and overdue items at the previous publish, by that publish's
    own units, statuses, deadlines and date."""
    counts: dict[str, dict[str, int]] = {}
    for issue_id, status in previous.statuses.items():
        entry = counts.setdefault(group_name(previous.units.get(issue_id)),
                                  {"done": 0, "overdue": 0})
        entry["done"] += status == "done"
        entry["overdue"] += is_overdue(status, previous.deadlines.get(issue_id), previous.as_of)
    return counts


def changes(figures: dict, before: dict | None) -> dict:
    """change.done and change.overdue of one unit: now minus at the previous publish.

    With no previous publish there is nothing to compare: None. A unit new since then
    changed from zero. Overdue unknown now (no deadlines in the data) stays unknown.
    """
    if before is None:
        return dict.fromkeys(CHANGE_KEYS)
    return {"change.done": figures["done"] - before.get("done", 0),
            "change.overdue": None if figures["overdue"] is None
            else figures["overdue"] - before.get("overdue", 0)}


def _rank_key(group: dict) -> tuple:
    figures = group["figures"]
    on_time = figures["rate.on_time"]
    return (-(figures["rate.completion"] or 0), on_time is None, -(on_time or 0),
            figures["overdue"] or 0, group["name"])


def ranking(units: list[dict], min_items: int, size: int) -> dict:
    """The units with at least `min_items` issues, best first, and the top and bottom of them.

    Order: completion rate, high first; then on-time rate against first deadlines (a unit
    with none to count after those with one); then fewer overdue items; then the name. The
    top and bottom each hold `size` units, fewer when there are not twice as many eligible,
    so no unit is on both. The bottom list is worst first.
    """
    eligible = sorted((unit for unit in units if unit["figures"]["total"] >= min_items),
                      key=_rank_key)
    shown = min(size, len(eligible) // 2)
    order = [unit["slug"] for unit in eligible]
    return {"min_items": min_items, "size": size, "eligible": order,
            "top": order[:shown], "bottom": order[::-1][:shown]}

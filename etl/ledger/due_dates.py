"""Deadline buckets and the burn-up series: two figure parts of the metrics stage, by date.

Pure helpers that metrics.py (the only place figures are made) calls on its issue records.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt

from etl import schema
from etl.ledger.figure_rules import FINISHED
from etl.ledger.history import Issue

DUE_SOON_DAYS = (10, 20)


def deadline_buckets(issues: list[Issue], as_of: dt.date
                      ) -> tuple[dict, dict[str, list[str]], dict[str, int]]:
    """Split pending items (not done, not long_term) by how soon their current deadline falls;
    also how many days late each overdue item is."""
    buckets: dict[str, list[Issue]] = {name: [] for name in
                                       ("overdue", "within_10", "within_20", "later", "none")}
    for issue in (issue for issue in issues if issue.status not in FINISHED):
        if issue.deadline is None:
            buckets["none"].append(issue)
            continue
        days_left = (issue.deadline - as_of).days
        if days_left < 0:
            name = "overdue"
        elif days_left <= DUE_SOON_DAYS[0]:
            name = "within_10"
        elif days_left <= DUE_SOON_DAYS[1]:
            name = "within_20"
        else:
            name = "later"
        buckets[name].append(issue)
    counts = {f"deadline.{name}": len(items) for name, items in buckets.items()}

    def by_deadline(items: list[Issue]) -> list[str]:
        # Earliest deadline first: for overdue items that is the most days late.
        ordered = sorted(items, key=lambda issue: (issue.deadline, schema.id_order(issue.issue_id)))
        return [issue.issue_id for issue in ordered]

    lists = {"overdue": by_deadline(buckets["overdue"]), "due_10": by_deadline(buckets["within_10"]),
             "due_20": by_deadline(buckets["within_20"])}
    days_late = {issue.issue_id: (as_of - issue.deadline).days for issue in buckets["overdue"]}
    return counts, lists, days_late


def burnup(issues: list[Issue], as_of: dt.date) -> list[dict]:
    """Cumulative identified and done items at each month end, the last point being as_of."""
    identified = sorted(issue.identified_on for issue in issues if issue.identified_on)
    done = sorted(issue.completed_on for issue in issues
                  if issue.status == "done" and issue.completed_on)
    if not identified or identified[0] > as_of:
        return []
    points = []
    year, month = identified[0].year, identified[0].month
    while True:
        month_end = dt.date(year, month, calendar.monthrange(year, month)[1])
        point = min(month_end, as_of)
        points.append({"date": point.isoformat(), "identified": bisect.bisect_right(identified, point),
                       "done": bisect.bisect_right(done, point)})
        if point == as_of:
            return points
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)

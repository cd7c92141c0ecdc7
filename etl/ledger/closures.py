"""Items closed outside the usual fix path: closures that are not fixes, and immediate fixes.

Both are counted apart from 已整改 so a reader sees how each item ended: 解释说明, 不予采纳,
合并 and 移交 end an item without a fix; 立行立改 marks an item fixed at once, on the spot.
"""

from __future__ import annotations

from etl import schema
from etl.ledger.history import Issue


def figures(issues: list[Issue], status_counts: dict) -> dict:
    """issues.closed_not_fixed from the status counts; the 立行立改 counts from the flag.

    With no 立行立改 value anywhere (the column is not kept or not published) both immediate
    figures are None, printed "—", never a false 0.
    """
    result = {"issues.closed_not_fixed": sum(status_counts[status] for status in schema.CLOSURES)}
    if any(issue.immediate is not None for issue in issues):
        flagged = [issue for issue in issues if issue.immediate]
        result["issues.immediate"] = len(flagged)
        result["issues.immediate_done"] = sum(issue.status == "done" for issue in flagged)
    else:
        result["issues.immediate"] = result["issues.immediate_done"] = None
    return result

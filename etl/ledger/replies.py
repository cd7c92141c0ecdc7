"""Reply speed of the opinion ledger: days from receipt to reply, and the share replied in time.

Pure helpers of the metrics stage (the only place figures are made): it calls `reply_figures`
for the whole ledger and for each channel's and unit's opinions, so the three always agree.
"""

from __future__ import annotations

import statistics

from etl.ledger.figure_rules import plain_number, ratio
from etl.ledger.history import Opinion

# The figure keys, in the order pages list them.
KEYS = ("days.median_to_reply", "rate.reply_prompt", "rate.reply_in_limit")


def reply_days(opinion: Opinion) -> int | None:
    """Days from receipt to reply of a replied opinion with both dates, else None."""
    if opinion.replied is not True or opinion.received_on is None or opinion.replied_on is None:
        return None
    return (opinion.replied_on - opinion.received_on).days


def reply_figures(opinions: list[Opinion], limits: tuple[int, int], dates_known: bool) -> dict:
    """Median reply days and the shares replied within each limit (prompt, limit).

    The shares count over every opinion with a receipt date: one not replied, or replied
    later than the limit, counts against. With no reply date anywhere in the ledger (say the
    column is not published) none of these can be counted: None, printed "—", never 0.
    """
    if not dates_known:
        return dict.fromkeys(KEYS)
    received = [opinion for opinion in opinions if opinion.received_on is not None]
    days = [d for d in map(reply_days, received) if d is not None]
    prompt, limit = limits
    return {
        "days.median_to_reply": plain_number(statistics.median(days)) if days else None,
        "rate.reply_prompt": ratio(sum(d <= prompt for d in days), len(received)),
        "rate.reply_in_limit": ratio(sum(d <= limit for d in days), len(received)),
    }

"""Claims from official reports, each checked against the snapshot of its own date.

A pure helper of the metrics stage: it hands in, for a claim's date, the figures as they
stood then (the newest snapshot on or before that date, or today's for a claim of today or
later); this module compares them in the units the report prints.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Callable

from etl.ledger.figure_rules import plain_number
from etl.site import figures as figure_text


def claim_value(metric_kind: str, value: float | int | None) -> float | int | None:
    """A computed figure in the units a report prints it: percent to 0.1 for rates."""
    if value is None:
        return None
    if metric_kind == "rate":
        return plain_number(figure_text.round_half_up(Decimal(repr(float(value))) * 100, 1))
    if metric_kind in ("mean", "days"):
        return plain_number(figure_text.round_half_up(value, 1))
    return plain_number(value)


def _date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def check(claims: list[dict], figures_at: Callable[[dt.date | None], tuple]) -> list[dict]:
    """Each claim against `figures_at(its date)`: (flat figures, as_of, snapshot_id) of the
    snapshot of that date, snapshot_id None for today's; (None, None, None) when no snapshot
    is that old. A claim with no metric is "reported only": the item data cannot check it
    (households visited, forms handed out), so it is listed, never matched.
    """
    result = []
    for claim in claims:
        metric = str(claim.get("metric") or "")
        metric_kind = figure_text.kind(metric) if metric else "count"
        claimed = plain_number(claim.get("value"))
        claim_date = _date(claim.get("date"))
        computed = checked_as_of = checked_snapshot = None
        if metric:
            flat, as_of, checked_snapshot = figures_at(claim_date)
            if flat is not None:
                computed = claim_value(metric_kind, flat.get(metric))
                checked_as_of = as_of.isoformat()
        result.append({
            "label": claim.get("label", ""), "metric": metric, "kind": metric_kind,
            "claimed": claimed, "computed": computed,
            "matches": computed is not None and claimed == computed,
            "reported_only": not metric,
            "date": claim_date.isoformat() if claim_date else None,
            "checked_as_of": checked_as_of, "checked_snapshot": checked_snapshot,
            "source": claim.get("source", ""),
        })
    return result

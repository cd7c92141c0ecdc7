"""The synthetic campaign's records, shared by the generator and the exporter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class Issue:
    """One item of the campaign as it ends up at the final as-of date (exports project it back)."""

    issue_id: str
    category: str
    topic: str
    description: str
    area: str
    unit: str
    owner: str
    channel: str
    identified: dt.date
    measures: str
    target: str
    deadline: dt.date | None        # None: 长期坚持
    first_deadline: dt.date | None  # the deadline first published, before a quiet extension
    extended_on: dt.date | None
    started: dt.date
    completed: dt.date | None
    result: str
    score: int | None
    scored_on: dt.date | None
    rework_status: bool             # low score shown as 返工 rather than as a done word
    interim_reply: str
    interim_on: dt.date | None
    final_reply: str
    final_on: dt.date | None
    words: dict
    style: int                      # how this row's dates are typed, 0..99
    feedback_count: int = 0
    closure: str = ""               # a closure that is not a fix (schema.CLOSURES), or ""
    closed_on: dt.date | None = None
    closure_note: str = ""          # the reason given in 完成情况
    merged_into: str = ""           # for a 合并 closure: the issue it joined
    immediate: bool = False         # 立行立改: fixed at once


@dataclass
class Feedback:
    """One opinion as logged in the 意见建议台账."""

    received: dt.date
    channel: str
    area: str
    unit: str
    replied_on: dt.date | None
    issue_id: str
    text: str
    complainant: str
    contact: str
    style: int
    feedback_id: str = ""


@dataclass
class Campaign:
    """Every issue and opinion of one synthetic campaign, at its final as-of date."""

    as_of: dt.date
    issues: list[Issue]
    feedback: list[Feedback]

"""Inputs of the metrics stage: plain issue records and the history of earlier snapshots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from etl import schema
from etl.errors import EtlError

@dataclass(frozen=True)
class Issue:
    """The fields of one issue that figures depend on, with plain Python values."""

    issue_id: str
    status: str
    unit: str | None = None
    area: str | None = None
    category: str | None = None
    channel: str | None = None
    identified_on: dt.date | None = None
    deadline: dt.date | None = None
    completed_on: dt.date | None = None
    satisfaction: float | None = None
    immediate: bool | None = None  # 立行立改: fixed at once, on the spot


@dataclass(frozen=True)
class Opinion:
    """One row of the feedback table, reduced to what figures use."""

    channel: str | None
    replied: bool | None
    unit: str | None = None
    received_on: dt.date | None = None
    replied_on: dt.date | None = None


@dataclass(frozen=True)
class Past:
    """One earlier snapshot: its date, id, and each issue's status and deadline then."""

    as_of: dt.date
    snapshot_id: str | None
    statuses: dict[str, str]
    deadlines: dict[str, dt.date]
    # The unit each issue was with then, for a unit's change since that publish.
    units: dict[str, str | None] = field(default_factory=dict)


def _missing(value) -> bool:
    # pandas 3 string columns hold NaN for empty cells, nullable ones pd.NA; both mean "no value".
    # Checked by hand rather than with pd.isna, which is slow called once per cell.
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value


def text(value) -> str | None:
    if type(value) is str:  # the common case first: this runs once per cell
        return value.strip() or None
    if _missing(value):
        return None
    value = str(value).strip()
    return value or None


def date(value) -> dt.date | None:
    if type(value) is dt.date:
        return value
    if _missing(value):
        return None
    if isinstance(value, dt.datetime):  # also pd.Timestamp; a time of day does not matter here
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def number(value) -> float | None:
    return None if _missing(value) else float(value)


def _column(frame: pd.DataFrame, name: str) -> list:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def issue_records(frame: pd.DataFrame) -> list[Issue]:
    """Issue records from a canonical issues table; an unknown status stops the stage."""
    columns = {name: _column(frame, name) for name in (
        "issue_id", "status", "unit", "area", "category", "channel",
        "identified_on", "deadline", "completed_on", "satisfaction", "immediate")}
    records = []
    for index in range(len(frame)):
        issue_id = text(columns["issue_id"][index])
        status = text(columns["status"][index])
        if issue_id is None or status not in schema.STATUSES:
            raise EtlError(f"issue {issue_id!r} has status {status!r}, not one of "
                           f"{', '.join(schema.STATUSES)}",
                           hint="run the transform stage again; it writes canonical statuses")
        records.append(Issue(
            issue_id=issue_id, status=status,
            unit=text(columns["unit"][index]), area=text(columns["area"][index]),
            category=text(columns["category"][index]), channel=text(columns["channel"][index]),
            identified_on=date(columns["identified_on"][index]),
            deadline=date(columns["deadline"][index]),
            completed_on=date(columns["completed_on"][index]),
            satisfaction=number(columns["satisfaction"][index]),
            immediate=None if _missing(columns["immediate"][index])
            else bool(columns["immediate"][index]),
        ))
    return records


def opinion_records(frame: pd.DataFrame) -> list[Opinion]:
    columns = [_column(frame, name) for name in
               ("channel", "replied", "unit", "received_on", "replied_on")]
    return [Opinion(text(c), None if _missing(r) else bool(r), text(u), date(received),
                    date(answered))
            for c, r, u, received, answered in zip(*columns)]


def past_snapshot(as_of, frame: pd.DataFrame, snapshot_id: str | None = None) -> Past:
    """An earlier snapshot's issues table reduced to statuses and deadlines by issue id."""
    statuses, deadlines, units = {}, {}, {}
    for issue_id, status, deadline, unit in zip(
            _column(frame, "issue_id"), _column(frame, "status"), _column(frame, "deadline"),
            _column(frame, "unit")):
        issue_id = text(issue_id)
        if issue_id is None:
            continue
        statuses[issue_id] = text(status)
        units[issue_id] = text(unit)
        deadline = date(deadline)
        if deadline is not None:
            deadlines[issue_id] = deadline
    return Past(date(as_of), snapshot_id, statuses, deadlines, units)


def is_rerun(past: Past, issues: list[Issue], as_of: dt.date) -> bool:
    """Whether the newest earlier snapshot is this very publish, committed by a run before this one.

    Same date, same statuses, same deadlines: it adds nothing to first deadlines or unchanged
    statuses, and leaving it out keeps a rerun's metrics.json (and snapshot id) unchanged.
    Only ask it of the newest snapshot: an older same-day one that matches today's data is a
    real publish followed by another, and dropping it would lose the deadlines it published.
    """
    return (past.as_of == as_of
            and past.statuses == {issue.issue_id: issue.status for issue in issues}
            and past.deadlines == {issue.issue_id: issue.deadline for issue in issues
                                   if issue.deadline is not None})


def deadline_extended(first, current) -> bool:
    """A current deadline later than the first published one, or none at all where one was.

    A date replaced by a note (长期坚持) or by nothing takes the item out of overdue for good:
    the most extreme extension. One rule for issues.deadline_extended and for `diff`; the two
    deadlines are dates, or ISO text, alike.
    """
    if first is None:
        return False
    return current is None or current > first


def first_deadlines(issues: list[Issue], history: list[Past]) -> dict[str, dt.date]:
    """Each issue's first published deadline: the oldest snapshot's that has one, else today's."""
    first: dict[str, dt.date] = {}
    for past in history:  # oldest first, so the first deadline seen is kept
        for issue_id, deadline in past.deadlines.items():
            first.setdefault(issue_id, deadline)
    result = {}
    for issue in issues:
        deadline = first.get(issue.issue_id, issue.deadline)
        if deadline is not None:
            result[issue.issue_id] = deadline
    return result


def unchanged_since(issues: list[Issue], history: list[Past], as_of: dt.date) -> dict[str, dt.date]:
    """The earliest snapshot date from which each issue's status has stayed what it is today.

    An issue missing from a snapshot, or with another status there, breaks the run; with no
    history every issue is unchanged only since today, so nothing can be called stale.
    """
    result = {}
    for issue in issues:
        since = as_of
        for past in reversed(history):
            if past.statuses.get(issue.issue_id) != issue.status:
                break
            since = min(since, past.as_of)
        result[issue.issue_id] = since
    return result

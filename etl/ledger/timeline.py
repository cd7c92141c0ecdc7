"""Each issue's history drawn from the snapshot chain: first seen, every change, first deadline.

Data only, so any page can show it (today the bucket pages, later a page per issue). Each
snapshot's issues.csv is read once, only the columns followed here, as the canonical text it
holds; 11,500 issues over ten snapshots take well under a second to walk.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from etl.ledger import history, tables
from etl.ledger.manifests import read_manifest

# The fields whose every change is an event, in the order events of one snapshot are listed.
TRACKED = ("status", "deadline", "unit", "satisfaction", "reply")
# Events that are not a field's change: an issue gone from a snapshot, and back in a later one.
REMOVED, RETURNED = "removed", "returned"
_ABSENT = object()  # a column this snapshot did not publish: no change, whatever the others say


def _read(folder: Path) -> tuple[dict[str, tuple], pd.DataFrame]:
    """One snapshot's issue_id -> TRACKED values (canonical text, None when empty), and the
    frame of ids, statuses and deadlines that history.past_snapshot reduces."""
    path = folder / "issues.csv"
    wanted = ("issue_id", *TRACKED)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                        usecols=lambda name: name in wanted)
    columns = []
    for name in TRACKED:
        if name not in frame.columns:
            columns.append([_ABSENT] * len(frame))
        elif name == "satisfaction":  # a number: 92 and 92.0 are the same score
            columns.append([float(v) if v != "" else None for v in frame[name]])
        else:
            columns.append([tables.restore(v) if v != "" else None for v in frame[name]])
    ids = [tables.restore(v) for v in frame["issue_id"]]
    rows = {issue_id: tuple(values) for issue_id, *values in zip(ids, *columns) if issue_id}
    # history.past_snapshot reads issue_id, status and deadline, None for an empty cell.
    past = pd.DataFrame({"issue_id": ids, **{
        name: [None if value is _ABSENT else value for value in columns[TRACKED.index(name)]]
        for name in ("status", "deadline")}})
    return rows, past


def timelines(folders: list[Path]) -> dict[str, dict]:
    """Per issue id, from snapshot folders oldest to newest (the chain's order):

    `{"first_seen": {"as_of", "snapshot_id"}, "first_deadline": ISO or None,
      "deadline": ISO or None, "present": bool, "events": [{"as_of", "snapshot_id", "field",
      "old", "new"}, ...]}` where `deadline` is the newest one seen, `present` whether the
    newest snapshot holds the issue, and a field's event compares with the issue's values when
    it was last seen, so a change made while it was missing shows when it comes back. An issue
    gone from a snapshot has a `removed` event there, and a `returned` one where it reappears
    (old and new None). First deadlines follow `history.first_deadlines`, the metrics' rule.
    """
    result: dict[str, dict] = {}
    last: dict[str, tuple] = {}
    present: set[str] = set()
    pasts: list[history.Past] = []
    for folder in folders:
        manifest = read_manifest(folder)
        as_of, snapshot_id = manifest["as_of"], manifest["snapshot_id"]
        rows, past_frame = _read(folder)
        where = {"as_of": as_of, "snapshot_id": snapshot_id}
        for issue_id, values in rows.items():
            entry = result.get(issue_id)
            if entry is None:
                result[issue_id] = {"first_seen": dict(where), "events": []}
                last[issue_id] = values
                continue
            if issue_id not in present:
                entry["events"].append(_event(where, RETURNED))
            before = last[issue_id]
            if before != values:
                kept = []
                for field, old, new in zip(TRACKED, before, values):
                    if new is _ABSENT:
                        kept.append(old)
                        continue
                    if old is not _ABSENT and old != new:
                        entry["events"].append(_event(where, field, old, new))
                    kept.append(new)
                values = tuple(kept)
            last[issue_id] = values
        for issue_id in sorted(present - rows.keys()):
            result[issue_id]["events"].append(_event(where, REMOVED))
        present = set(rows)
        pasts.append(history.past_snapshot(as_of, past_frame, snapshot_id))
    _add_deadlines(result, last, present, pasts)
    return result


def _event(where: dict, field: str, old=None, new=None) -> dict:
    return {**where, "field": field, "old": old, "new": new}


def _add_deadlines(result: dict, last: dict, present: set, pasts: list[history.Past]) -> None:
    """First and newest deadline of each issue, by the one rule metrics uses."""
    position = TRACKED.index("deadline")
    issues = []
    for issue_id, values in last.items():
        deadline = values[position]
        deadline = None if deadline is _ABSENT else deadline
        result[issue_id]["deadline"] = deadline
        result[issue_id]["present"] = issue_id in present
        issues.append(history.Issue(issue_id=issue_id, status=str(values[0]),
                                    deadline=history.date(deadline)))
    first = history.first_deadlines(issues, pasts[:-1])
    for issue_id, entry in result.items():
        deadline = first.get(issue_id)
        entry["first_deadline"] = deadline.isoformat() if deadline else None

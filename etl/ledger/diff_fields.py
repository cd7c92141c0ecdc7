"""Field-by-field comparison of two snapshots' tables, and matching items whose id changed."""

from __future__ import annotations

import difflib
import unicodedata

import pandas as pd

from etl import schema
from etl.ledger import history

# An added item whose description is this close to a removed one's (mean similarity over the
# fields that say what the item is, not how far it has got) is the same item renumbered: an
# issue may be renumbered and move on (status, reply, deadline) in the same publish. Lists
# written from templates differ item to item by a village name: among the demo's 600 issues
# two different ones score at most 0.956, so the bar sits above that.
NEAR_MATCH = 0.97
DESCRIPTIVE = {"issues": ("title", "description", "category", "area", "unit", "channel",
                          "identified_on", "measures", "target"),
               # Opinions publish no text of their own: dates, channel and unit are shared by
               # many, so only identical content is taken for the same opinion.
               "feedback": ()}
# ... and each of these, where either side fills it, must itself be that close: one village name
# in a templated description ("张庄村" for "王营村") makes another issue, however alike the rest.
NAMING = {"issues": ("title", "description"), "feedback": ()}
# Near matching compares every disappeared item with every added one; past this many pairs only
# identical content is matched, and a warning says so.
MAX_NEAR_PAIRS = 100_000  # about 3 s of comparing on this project's machine
TABLE_ORDER = ("issues", "feedback")


def comparable(value, kind: str):
    """One cell as a plain value that compares sensibly: numbers as numbers, empty as None."""
    if kind == "string":
        # Blank is missing; other text is kept as published (a leading tab is shown, defused).
        text = history.text(value)
        return None if text is None else str(value)
    if kind == "date":
        date = history.date(value)
        return date.isoformat() if date else None
    if kind in ("integer", "number"):
        number = history.number(value)
        return None if number is None or number != number else number
    if kind == "boolean":
        return None if value is None or pd.isna(value) else bool(value)
    return history.text(value)


def shown(value, kind: str) -> str | None:
    """A compared value as the text the canonical CSV holds (whole numbers without .0)."""
    if value is None:
        return None
    if kind == "boolean":
        return "true" if value else "false"
    if kind in ("integer", "number"):
        return str(int(value)) if float(value).is_integer() else repr(round(float(value), 6))
    return str(value)


def records(frame: pd.DataFrame, table: str) -> dict[str, dict]:
    """Key -> {field: comparable value} for every canonical field (unpublished ones None)."""
    kinds = schema.field_types(table)
    key = schema.PRIMARY_KEYS[table]
    columns = {name: [comparable(v, kinds[name]) for v in frame[name].tolist()]
               for name in schema.field_names(table)}
    result = {}
    for index in range(len(frame)):
        row = {name: values[index] for name, values in columns.items()}
        if row[key] is not None:
            result[row[key]] = row
    return result


def changed(old: dict, new: dict, fields: list[str]) -> list[str]:
    return [name for name in fields if old.get(name) != new.get(name)]


def change_rows(table: str, item_id: str, title: str | None, old: dict, new: dict,
                fields: list[str]) -> list[dict]:
    """One row per changed field: what it was and what it is, as text."""
    kinds = schema.field_types(table)
    return [{"table": table, "id": item_id, "title": title, "field": name,
             "old": shown(old.get(name), kinds[name]), "new": shown(new.get(name), kinds[name])}
            for name in changed(old, new, fields)]


def similarity(old: dict, new: dict, fields: list[str], floor: float = 0.0) -> float:
    """Mean similarity over the fields either side fills: 1 for equal, text by difflib, else 0.

    Stops early (returning 0) once the score cannot reach `floor`: this runs for many pairs.
    """
    compared = [name for name in fields if old.get(name) is not None or new.get(name) is not None]
    if not compared:
        return 0.0  # nothing to go by is no evidence of sameness
    total, budget = 0.0, len(compared) * (1 - floor)
    for name in compared:
        before, after = old.get(name), new.get(name)
        if before == after:
            score = 1.0
        elif isinstance(before, str) and isinstance(after, str):
            matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
            score = matcher.ratio() if matcher.quick_ratio() >= 1 - budget else 0.0
        else:
            score = 0.0
        total += score
        budget -= 1 - score
        if budget < -1e-9:
            return 0.0
    return total / len(compared)


def _bare(text: str) -> str:
    """Text without punctuation and spaces: re-punctuating a sentence does not make another one."""
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "C")))


def _names_alike(old, new) -> bool:
    if old is None and new is None:
        return True
    if not isinstance(old, str) or not isinstance(new, str):
        return False
    old, new = _bare(old), _bare(new)
    return old == new or difflib.SequenceMatcher(None, old, new, autojunk=False).ratio() >= NEAR_MATCH


def match_ids(removed: dict[str, dict], added: dict[str, dict], fields: list[str],
              table: str) -> tuple[list[tuple[str, str, float]], list[str]]:
    """Pairs (old id, new id, similarity) of a disappeared and an added item with the same
    content (all `fields`) or nearly the same description (DESCRIPTIVE); plus warnings.
    Identical content first, then the closest pairs, each item in one pair at most."""
    pairs, warnings = [], []
    waiting: dict[tuple, list[str]] = {}
    for new_id in sorted(added, key=schema.id_order):
        waiting.setdefault(tuple(added[new_id].get(f) for f in fields), []).append(new_id)
    left = []
    for old_id in sorted(removed, key=schema.id_order):
        same = waiting.get(tuple(removed[old_id].get(f) for f in fields))
        if same:
            pairs.append((old_id, same.pop(0), 1.0))
        else:
            left.append(old_id)
    matched = {new_id for _, new_id, _ in pairs}
    right = [new_id for new_id in sorted(added, key=schema.id_order) if new_id not in matched]
    describing = [name for name in fields if name in DESCRIPTIVE[table]]
    if not describing or not left or not right:
        return pairs, warnings
    if len(left) * len(right) > MAX_NEAR_PAIRS:
        warnings.append(f"{table}: {len(left)} disappeared and {len(right)} added items are too "
                        f"many to compare for changed ids; only identical content was matched")
        return pairs, warnings
    candidates = []
    for old_id in left:
        for new_id in right:
            old, new = removed[old_id], added[new_id]
            if not all(_names_alike(old.get(name), new.get(name))
                       for name in NAMING[table] if name in describing):
                continue
            score = similarity(old, new, describing, NEAR_MATCH)
            if score >= NEAR_MATCH:
                candidates.append((-score, schema.id_order(old_id), schema.id_order(new_id),
                                   old_id, new_id))
    taken_old, taken_new = set(), set()
    for negative, _, _, old_id, new_id in sorted(candidates):
        if old_id not in taken_old and new_id not in taken_new:
            taken_old.add(old_id)
            taken_new.add(new_id)
            pairs.append((old_id, new_id, -negative))
    pairs.sort(key=lambda pair: schema.id_order(pair[0]))
    return pairs, warnings


def percent(score: float) -> str:
    """A similarity as the text the pages and workbook show (never a raw float)."""
    return f"{int(score * 100)}%"


def published_warnings(table: str, old_columns: list[str], new_columns: list[str]) -> list[str]:
    """A field published on one side only: its values cannot be compared, so say so."""
    notes = []
    for name in schema.field_names(table):
        if name in old_columns and name not in new_columns:
            notes.append(f"{table}: field {name} is no longer published; its changes cannot be shown")
        elif name in new_columns and name not in old_columns:
            notes.append(f"{table}: field {name} is newly published; its earlier values are unknown")
    return notes


def table_changes(table: str, old_rows: dict[str, dict], new_rows: dict[str, dict],
                  old_columns: list[str], new_columns: list[str], title) -> dict:
    """Everything that changed in one table: added, removed, id changes and field changes.

    `title(row)` names an item for people. Items matched as renumbered leave added/removed.
    """
    key = schema.PRIMARY_KEYS[table]
    fields = [n for n in schema.field_names(table) if n in old_columns and n in new_columns]
    content = [n for n in fields if n != key]
    added_ids = set(new_rows) - set(old_rows)
    removed_ids = set(old_rows) - set(new_rows)
    pairs, warnings = match_ids({i: old_rows[i] for i in removed_ids},
                                {i: new_rows[i] for i in added_ids}, content, table)
    rows, changed_items = [], 0
    for item_id in sorted(set(old_rows) & set(new_rows), key=schema.id_order):
        found = change_rows(table, item_id, title(new_rows[item_id]), old_rows[item_id],
                            new_rows[item_id], content)
        changed_items += bool(found)
        rows += found
    id_changes = []
    for old_id, new_id, score in pairs:
        old, new = old_rows[old_id], new_rows[new_id]
        rows += change_rows(table, new_id, title(new), old, new, [key, *content])
        id_changes.append({"table": table, "old_id": old_id, "new_id": new_id,
                           "title": title(new), "similarity": percent(score)})
    rows.sort(key=lambda r: (schema.id_order(r["id"]), schema.field_names(table).index(r["field"])))
    return {"added": sorted(added_ids - {n for _, n, _ in pairs}, key=schema.id_order),
            "removed": sorted(removed_ids - {o for o, _, _ in pairs}, key=schema.id_order),
            "id_changes": id_changes, "field_changes": rows, "changed_items": changed_items,
            "warnings": published_warnings(table, old_columns, new_columns) + warnings}

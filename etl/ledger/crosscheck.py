"""A snapshot's CSV and JSON copies of each table must hold the same rows, field for field."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from etl import schema
from etl.ledger import tables

MAX_PER_TABLE = 5  # disagreements listed per table before "and N more"


def csv_json_problems(folder: Path, manifest: dict) -> list[str]:
    """Each table's JSON must hold the CSV's rows, every field equal: the CSV read back as the
    pipeline reads it (tables.read_table) and written as JSON the way the snapshot writes it.
    One line per disagreement, naming the JSON file; the tables are those row_counts lists."""
    problems: list[str] = []
    counts = manifest.get("row_counts")
    for table in sorted(counts) if isinstance(counts, dict) else []:
        csv_path, json_path = folder / f"{table}.csv", folder / f"{table}.json"
        if table not in schema.TABLES or not (csv_path.is_file() and json_path.is_file()):
            continue
        try:
            frame = tables.read_table(csv_path, table)
            expected = json.loads(tables.table_json_bytes(frame, table,
                                                          tables.read_header(csv_path)))
            found = json.loads(json_path.read_bytes().decode("utf-8"))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, csv.Error) as error:
            problems.append(f"{csv_path}: cannot compare it with {json_path.name} "
                            f"({error.__class__.__name__}: {error})")
            continue
        if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
            problems.append(f"{json_path}: not a list of records")
            continue
        differences = _table_differences(expected, found, schema.PRIMARY_KEYS[table],
                                         csv_path.name)
        for difference in differences[:MAX_PER_TABLE]:
            problems.append(f"{json_path}: {difference} (the CSV and JSON were edited apart)")
        if len(differences) > MAX_PER_TABLE:
            problems.append(f"{json_path}: ... and {len(differences) - MAX_PER_TABLE} more "
                            f"rows that differ from {csv_path.name}")
    return problems


def _table_differences(expected: list[dict], found: list[dict], key: str,
                       csv_name: str) -> list[str]:
    """What the JSON records say that the CSV's do not, row by row, in CSV order."""
    if [r.get(key) for r in expected] != [r.get(key) for r in found]:
        ours, theirs = {r.get(key) for r in expected}, {r.get(key) for r in found}
        lines = [f"{key} {k!r} is missing, {csv_name} has it"
                 for k in sorted(ours - theirs, key=str)]
        lines += [f"{key} {k!r} is not in {csv_name}" for k in sorted(theirs - ours, key=str)]
        return lines or [f"the rows are in another order than {csv_name}'s (by {key})"]
    lines = []
    for csv_row, json_row in zip(expected, found):
        for name in sorted(set(csv_row) | set(json_row)):
            if name not in json_row or name not in csv_row or \
                    not _same_value(csv_row[name], json_row[name]):
                lines.append(f"{key} {csv_row.get(key)!r} field {name!r} is "
                             f"{json_row.get(name, '(absent)')!r}, {csv_name} gives "
                             f"{csv_row.get(name, '(absent)')!r}")
                break
    return lines


def _same_value(a, b) -> bool:
    # True and 1 are equal in Python, but not the same JSON value.
    return type(a) is type(b) and (a == b if not isinstance(a, float)
                                   else math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12))

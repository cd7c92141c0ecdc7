"""Canonical table files: fixed column order, sorted keys, UTF-8 with BOM, formula-safe cells."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from etl import schema

# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
DEFUSE_PREFIX = "'"


def defuse(text: str) -> str:
    """Make a text cell inert in Excel/WPS; reversible by `restore` (a leading ' is doubled too)."""
    if text.startswith(FORMULA_TRIGGERS) or text.startswith(DEFUSE_PREFIX):
        return DEFUSE_PREFIX + text
    return text


def restore(text: str) -> str:
    return text[1:] if text.startswith(DEFUSE_PREFIX) else text


def _cell(value, kind: str) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if kind == "integer":
        return str(int(value))
    if kind == "number":
        number = float(value)
        return str(int(number)) if number.is_integer() else repr(round(number, 6))
    if kind == "boolean":
        return "true" if bool(value) else "false"
    if kind == "date":
        return value if isinstance(value, str) else value.isoformat()
    return defuse(str(value))


def canonical_rows(frame: pd.DataFrame, table: str, columns: list[str] | None = None) -> list[list[str]]:
    """Rows as text in canonical column order, sorted by the table's key."""
    types = schema.field_types(table)
    names = [n for n in schema.field_names(table) if columns is None or n in columns]
    key = schema.PRIMARY_KEYS[table]
    ordered = frame.sort_values(key, kind="stable") if len(frame) else frame
    data = {n: ordered[n].tolist() if n in ordered else [None] * len(ordered) for n in names}
    return [[_cell(data[n][i], types[n]) for n in names] for i in range(len(ordered))]


def table_csv_bytes(frame: pd.DataFrame, table: str, columns: list[str] | None = None) -> bytes:
    """CSV bytes: UTF-8 with BOM so Excel and WPS open Chinese text, "\\n" line endings."""
    names = [n for n in schema.field_names(table) if columns is None or n in columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(names)
    writer.writerows(canonical_rows(frame, table, columns))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_json_bytes(frame: pd.DataFrame, table: str, columns: list[str] | None = None) -> bytes:
    """JSON array of records in canonical order; text is not defused (JSON is not a formula host)."""
    types = schema.field_types(table)
    names = [n for n in schema.field_names(table) if columns is None or n in columns]
    records = []
    for row in canonical_rows(frame, table, columns):
        record = {}
        for name, text in zip(names, row):
            kind = types[name]
            if text == "":
                record[name] = None
            elif kind == "integer":
                record[name] = int(text)
            elif kind == "number":
                record[name] = float(text)
            elif kind == "boolean":
                record[name] = text == "true"
            elif kind == "string":
                record[name] = restore(text)
            else:
                record[name] = text
        records.append(record)
    return (json.dumps(records, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write_table(frame: pd.DataFrame, path: Path, table: str, columns: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(table_csv_bytes(frame, table, columns))
    return path


def read_header(path: Path) -> list[str]:
    """The columns a canonical CSV holds, in file order: the fields that were published."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def repeated_keys(frame: pd.DataFrame, table: str) -> list[str]:
    """Key values that occur more than once, sorted; a canonical table has none."""
    key = schema.PRIMARY_KEYS[table]
    return sorted(set(frame.loc[frame[key].duplicated(), key].astype(str)))


def read_table(path: Path, table: str) -> pd.DataFrame:
    """Read a canonical CSV back into typed columns (dates as datetime.date, text restored)."""
    types = schema.field_types(table)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for name in frame.columns:
        kind = types.get(name, "string")
        column = frame[name]
        empty = column == ""
        if kind == "string":
            frame[name] = [None if e else restore(v) for v, e in zip(column, empty)]
        elif kind == "integer":
            frame[name] = pd.array([None if e else int(v) for v, e in zip(column, empty)], dtype="Int64")
        elif kind == "number":
            frame[name] = pd.array([None if e else float(v) for v, e in zip(column, empty)], dtype="Float64")
        elif kind == "boolean":
            frame[name] = pd.array([None if e else v == "true" for v, e in zip(column, empty)], dtype="boolean")
        elif kind == "date":
            frame[name] = [None if e else pd.Timestamp(v).date() for v, e in zip(column, empty)]
    for name in schema.field_names(table):
        if name not in frame.columns:
            frame[name] = None
    return frame[[n for n in schema.field_names(table)]]

"""Validate stage: type every cell, check rules and vocabularies, stop the publish on errors."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

from etl import schema
from etl.privacy import safepath
from etl.read import values
from etl.config import Config
from etl.errors import Location, Problem, UnsafePath, ValidationFailed
from etl.ledger.manifests import canonical_json

# A deadline cell holding words instead of a date is a note such as 长期坚持, not a mistake;
# a cell with digits that still is no date is a typo worth stopping for.
DIGITS = re.compile(r"[0-9０-９]")
# pandas and some exports write a numeric id as "2.0"; the same id typed elsewhere is "2".
WHOLE_NUMBER_TEXT = re.compile(r"([0-9]+)\.0+")
# Fields holding an issue or opinion id, in both tables: normalised the same way everywhere.
ID_FIELDS = frozenset({"issue_id", "feedback_id"})
PERCENT_HINT = "a 92% cell is stored as 0.92; store scores as 0–100"


def normalize_id(text: str | None) -> str | None:
    """An id as text, with an exported whole number such as "2.0" written as "2"."""
    if text is None:
        return None
    match = WHOLE_NUMBER_TEXT.fullmatch(text)
    return match.group(1) if match else text


class _RowChecker:
    """Types one table's rows, collecting problems instead of stopping at the first."""

    def __init__(self, table: str, config: Config):
        self.table = table
        self.config = config
        self.types = schema.field_types(table)
        self.required = [f.name for f in schema.TABLES[table] if f.required]
        self.key = schema.PRIMARY_KEYS[table]
        # Normalised again here, so a Config built in code matches the way a loaded one does.
        self.status_words = {schema.status_key(word): status
                             for word, status in config.status_words.items()}
        self.problems: list[Problem] = []
        self.seen_keys: dict[str, int] = {}
        self.failed_fields: set[str] = set()  # of the current row: one error per cell is enough
        # Every row's typed cells, rejected rows too (as far as they could be typed), for the
        # checks across rows and tables.
        self.typed_rows: list[tuple[dict, dict]] = []
        self.note_from_deadline: str | None = None  # of the current row

    def problem(self, level: str, code: str, message: str, record: dict, field: str = "",
                value="") -> None:
        loc = record["loc"]
        column = record.get("columns", {}).get(field, field)
        location = Location(source=loc.get("source", ""), file=loc.get("file", ""),
                            sheet=loc.get("sheet", ""), row=loc.get("row"), column=column)
        self.problems.append(Problem(level, code, message, location, "" if value is None else str(value)))
        if level == "error" and field:
            self.failed_fields.add(field)

    def check(self, record: dict) -> dict | None:
        """Return the typed cells, or None when the row has errors (it goes to rejected rows)."""
        before = sum(p.level == "error" for p in self.problems)
        self.failed_fields = set()
        self.note_from_deadline = None
        cells = record.get("cells", {})
        typed: dict = {}
        for name, kind in self.types.items():
            raw = cells.get(name)
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            typed_value = self._typed(name, kind, raw, record, typed)
            if typed_value is not None:
                typed[name] = typed_value
        if self.note_from_deadline:
            # Words in the deadline cell (长期坚持) and a 时限说明 column: keep both, deadline first.
            notes = [self.note_from_deadline, typed.get("deadline_note")]
            typed["deadline_note"] = "；".join(dict.fromkeys(note for note in notes if note))
        self.typed_rows.append((record, typed))
        for name in self.required:
            if typed.get(name) in (None, "") and name not in self.failed_fields:
                self.problem("error", "missing", f"required field {name} is empty", record, name)
        self._check_key(typed, record)
        if self.table == "issues":
            self._check_issue(typed, record)
        failed = sum(p.level == "error" for p in self.problems) > before
        return None if failed else typed

    def _typed(self, name: str, kind: str, raw, record: dict, typed: dict):
        try:
            if kind == "string":
                text = values.normalize_text(raw)
                if name == "status":
                    return self._status(text, record)
                if name in ID_FIELDS:
                    return normalize_id(text)
                return text
            if kind == "date":
                return self._date(name, raw, record, typed)
            if kind == "number":
                number = values.parse_number(raw)
                if name == "satisfaction" and number is not None and not 0 <= number <= 100:
                    self.problem("error", "out_of_range", "satisfaction must be between 0 and 100",
                                 record, name, raw)
                    return None
                if name == "satisfaction" and number is not None and 0 < number < 1:
                    self.problem("error", "fraction_score",
                                 f"satisfaction {number:g} looks like a percentage cell; "
                                 f"{PERCENT_HINT}", record, name, raw)
                    return None
                return number
            if kind == "integer":
                number = values.parse_int(raw)
                if number is not None and number < 0:
                    self.problem("error", "out_of_range", f"{name} cannot be negative", record, name, raw)
                    return None
                return number
            if kind == "boolean":
                return values.parse_bool(raw, schema.BOOLEAN_WORDS)
        except ValueError as error:
            self.problem("error", f"bad_{kind}", f"{name}: {error}", record, name, raw)
        return None

    def _status(self, text: str | None, record: dict) -> str | None:
        if text is None:
            return None
        status = self.status_words.get(schema.status_key(text))
        if status is None:
            known = "、".join(sorted({w for w in self.status_words if not w.isascii()}))
            self.problem("error", "unknown_status",
                         f"unknown status word; known words: {known}; add it under status_words "
                         "in the config if it is a new one", record, "status", text)
        return status

    def _date(self, name: str, raw, record: dict, typed: dict) -> str | None:
        try:
            parsed = values.parse_date(raw)
        except ValueError:
            text = values.normalize_text(raw) or ""
            if name == "deadline" and not DIGITS.search(text):
                self.note_from_deadline = text
                return None
            raise
        return parsed.isoformat() if parsed else None

    def _check_key(self, typed: dict, record: dict) -> None:
        key_value = typed.get(self.key)
        if key_value is None:
            return
        try:
            safepath.check_id(str(key_value), what=self.key)
        except UnsafePath as error:
            self.problem("error", "unsafe_id", error.message, record, self.key, key_value)
            return
        row = record["loc"].get("row")
        if key_value in self.seen_keys:
            self.problem("error", "duplicate_id",
                         f"{self.key} {key_value!r} is used again (first at row "
                         f"{self.seen_keys[key_value]}); ids must be unique and never reused",
                         record, self.key, key_value)
        else:
            self.seen_keys[key_value] = row

    def _check_issue(self, typed: dict, record: dict) -> None:
        as_of = self.config.as_of.isoformat()
        status = typed.get("status")
        for name in ("identified_on", "completed_on", "replied_on"):
            if typed.get(name) and typed[name] > as_of:
                self.problem("warning", "future_date", f"{name} is after the publish date {as_of}",
                             record, name, typed[name])
        if status == "done" and not typed.get("completed_on"):
            self.problem("warning", "done_without_date", "status is done but completed_on is empty",
                         record, "completed_on")
        if status in ("open", "in_progress") and typed.get("completed_on"):
            self.problem("warning", "date_without_done",
                         "completed_on is filled but the status is not done", record, "completed_on",
                         typed["completed_on"])
        deadline, identified = typed.get("deadline"), typed.get("identified_on")
        if deadline and identified and deadline < identified:
            self.problem("warning", "deadline_before_identified",
                         "deadline is before the date the issue was identified", record, "deadline",
                         deadline)


def _read_records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _write_jsonl(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def _write_rejected(path: Path, rejected: list[tuple[str, dict, list[Problem]]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["table", "file", "sheet", "row", "reasons", "cells"])
        for table, record, problems in rejected:
            loc = record["loc"]
            writer.writerow([table, loc.get("file", ""), loc.get("sheet", ""), loc.get("row", ""),
                             "; ".join(p.describe() for p in problems),
                             json.dumps(record.get("cells", {}), ensure_ascii=False, sort_keys=True)])


def _cross_checks(checkers: dict) -> None:
    """Checks that need both tables or the whole table: case collisions and dangling links.

    They compare typed cells, so an id read as the number 1 from a workbook and as the text
    "1" (or "1.0") from a CSV is the same id.
    """
    issue_ids = {typed["issue_id"] for _record, typed in checkers["issues"].typed_rows
                 if typed.get("issue_id")}
    for table, checker in checkers.items():
        key = schema.PRIMARY_KEYS[table]
        first: dict[str, str] = {}
        for record, typed in checker.typed_rows:
            value = typed.get(key)
            if not value:
                continue
            earlier = first.setdefault(safepath.fold(str(value)), str(value))
            if earlier == str(value):
                continue
            try:
                safepath.check_unique_casefold([earlier, str(value)], what=key)
            except UnsafePath as error:
                checkers[table].problem("error", "case_collision", error.message, record, key, value)
    checker = checkers["feedback"]
    for record, typed in checker.typed_rows:
        linked = typed.get("issue_id")
        if linked and linked not in issue_ids:
            checker.problem("warning", "unknown_issue",
                            "issue_id names no issue in the issue list", record, "issue_id", linked)


def _unmapped_warnings(sources_path: Path, checkers: dict) -> None:
    """One warning per source column with values that no field takes: it is not published."""
    if not sources_path.exists():
        return
    for entry in json.loads(sources_path.read_text(encoding="utf-8")):
        table = entry.get("table", "issues")
        checker = checkers.get(table)
        if checker is None:
            continue
        for header in entry.get("unmapped_columns", []):
            location = Location(source=entry.get("name", ""),
                                file=entry.get("file") or entry.get("url", ""),
                                sheet=entry.get("sheet", ""), row=entry.get("header_row") or None,
                                column=header)
            checker.problems.append(Problem(
                "warning", "unmapped_column",
                f"column {header!r} has values but maps to no field of {table}, so it is "
                f"neither checked nor published; if it holds one, map it under "
                f"columns.{table} in the config", location))


def run(config: Config) -> Path:
    """Read extract/, write validate/ (typed rows, report, rejected rows); raise on errors."""
    source_dir = config.work_dir / "extract"
    out_dir = config.work_dir / "validate"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    records = {table: _read_records(source_dir / f"{table}.jsonl") for table in schema.TABLES}
    checkers = {table: _RowChecker(table, config) for table in schema.TABLES}
    rejected: list[tuple[str, dict, list[Problem]]] = []
    for table, rows in records.items():
        checker = checkers[table]
        kept = []
        for record in rows:
            start = len(checker.problems)
            typed = checker.check(record)
            if typed is None:
                rejected.append((table, record, [p for p in checker.problems[start:]
                                                 if p.level == "error"]))
            else:
                kept.append({"loc": record["loc"], "cells": typed})
        _write_jsonl(out_dir / f"{table}.jsonl", kept)
    if not records["issues"]:
        checkers["issues"].problems.append(Problem(
            "error", "no_issues", "no issue rows were read; check the issue source and its header row",
            Location(source="issues")))
    _cross_checks(checkers)
    _unmapped_warnings(source_dir / "sources.json", checkers)

    problems = [p for checker in checkers.values() for p in checker.problems]
    report = {
        "errors": [_problem_dict(p) for p in problems if p.level == "error"],
        "warnings": [_problem_dict(p) for p in problems if p.level == "warning"],
        "rows": {table: len(rows) for table, rows in records.items()},
        "rejected": len(rejected),
    }
    (out_dir / "report.json").write_bytes(canonical_json(report))
    _write_rejected(out_dir / "rejected_rows.csv", rejected)
    if report["errors"]:
        raise ValidationFailed(problems, report_path=str(out_dir))
    return out_dir


def _problem_dict(problem: Problem) -> dict:
    loc = problem.location
    return {"level": problem.level, "code": problem.code, "message": problem.message,
            "source": loc.source, "file": loc.file, "sheet": loc.sheet, "row": loc.row,
            "column": loc.column, "value": problem.value}

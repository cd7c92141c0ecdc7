"""Validate stage: type every cell, check rules and vocabularies, stop the publish on errors."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

from etl import safepath, schema, values
from etl.config import Config
from etl.errors import Location, Problem, UnsafePath, ValidationFailed

# A deadline cell holding words instead of a date is a note such as 长期坚持, not a mistake;
# a cell with digits that still is no date is a typo worth stopping for.
DIGITS = re.compile(r"[0-9０-９]")


class _RowChecker:
    """Types one table's rows, collecting problems instead of stopping at the first."""

    def __init__(self, table: str, config: Config):
        self.table = table
        self.config = config
        self.types = schema.field_types(table)
        self.required = [f.name for f in schema.TABLES[table] if f.required]
        self.key = schema.PRIMARY_KEYS[table]
        self.problems: list[Problem] = []
        self.seen_keys: dict[str, int] = {}
        self.failed_fields: set[str] = set()  # of the current row: one error per cell is enough

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
        cells = record.get("cells", {})
        typed: dict = {}
        for name, kind in self.types.items():
            raw = cells.get(name)
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            typed_value = self._typed(name, kind, raw, record, typed)
            if typed_value is not None:
                typed[name] = typed_value
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
                return text
            if kind == "date":
                return self._date(name, raw, record, typed)
            if kind == "number":
                number = values.parse_number(raw)
                if name == "satisfaction" and number is not None and not 0 <= number <= 100:
                    self.problem("error", "out_of_range", "satisfaction must be between 0 and 100",
                                 record, name, raw)
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
        word = re.sub(r"\s+", "", text)
        status = self.config.status_words.get(word) or self.config.status_words.get(word.lower())
        if status is None:
            known = "、".join(sorted({w for w in self.config.status_words if not w.isascii()}))
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
                typed.setdefault("deadline_note", text)
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


def _cross_checks(issues: list[dict], feedback: list[dict], checkers: dict) -> None:
    """Checks that need both tables or the whole table: case collisions and dangling links."""
    issue_ids = {r["cells"]["issue_id"] for r in issues if r.get("cells", {}).get("issue_id")}
    for table, records in (("issues", issues), ("feedback", feedback)):
        key = schema.PRIMARY_KEYS[table]
        first: dict[str, str] = {}
        for record in records:
            value = record.get("cells", {}).get(key)
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
    for record in feedback:
        linked = record.get("cells", {}).get("issue_id")
        if linked and linked not in issue_ids:
            checker.problem("warning", "unknown_issue",
                            "issue_id names no issue in the issue list", record, "issue_id", linked)


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
    _cross_checks(records["issues"], records["feedback"], checkers)

    problems = [p for checker in checkers.values() for p in checker.problems]
    report = {
        "errors": [_problem_dict(p) for p in problems if p.level == "error"],
        "warnings": [_problem_dict(p) for p in problems if p.level == "warning"],
        "rows": {table: len(rows) for table, rows in records.items()},
        "rejected": len(rejected),
    }
    (out_dir / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8")
    _write_rejected(out_dir / "rejected_rows.csv", rejected)
    if report["errors"]:
        raise ValidationFailed(problems, report_path=str(out_dir))
    return out_dir


def _problem_dict(problem: Problem) -> dict:
    loc = problem.location
    return {"level": problem.level, "code": problem.code, "message": problem.message,
            "source": loc.source, "file": loc.file, "sheet": loc.sheet, "row": loc.row,
            "column": loc.column, "value": problem.value}

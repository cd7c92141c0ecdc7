"""Validate stage: type every cell, check rules and vocabularies, stop the publish on errors."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

from etl import schema
from etl.config import Config
from etl.errors import Location, Problem, UnsafePath, ValidationFailed
from etl.ledger.manifests import canonical_json
from etl.privacy import safepath
from etl.read import annotate, cleanup, values
from etl.site import words

# A deadline cell holding words instead of a date is a note such as 长期坚持, not a mistake;
# a cell with digits that still is no date is a typo worth stopping for.
DIGITS = re.compile(r"[0-9０-９]")
# pandas and some exports write a numeric id as "2.0"; the same id typed elsewhere is "2".
WHOLE_NUMBER_TEXT = re.compile(r"([0-9]+)\.0+")
# Fields holding an issue or opinion id, in both tables: normalised the same way everywhere.
ID_FIELDS = frozenset({"issue_id", "feedback_id"})


def normalize_id(text: str | None) -> str | None:
    """An id as text, with an exported whole number such as "2.0" written as "2"."""
    if text is None:
        return None
    match = WHOLE_NUMBER_TEXT.fullmatch(text)
    return match.group(1) if match else text


class Messages:
    """Problem messages in the site's language, from the `messages` of templates/text.yml."""

    def __init__(self, language: str):
        self.language = language
        self.text = words.section("messages", language)

    def __call__(self, code: str, **params) -> str:
        return self.text[code].format(**params)


class _RowChecker:
    """Types one table's rows, collecting problems instead of stopping at the first."""

    def __init__(self, table: str, config: Config, say: Messages):
        self.table = table
        self.config = config
        self.say = say
        self.types = schema.field_types(table)
        self.required = [f.name for f in schema.TABLES[table] if f.required]
        self.key = schema.PRIMARY_KEYS[table]
        # Normalised again here, so a Config built in code matches the way a loaded one does.
        self.status_words = {schema.status_key(word): status
                             for word, status in config.status_words.items()}
        self.defaults = dict(config.defaults.get(table, {}))
        self.defaults_used: dict[str, int] = {}
        self.dates = {source.name: source.dates or config.dates for source in config.sources}
        self.aliases = {"unit": config.aliases.unit, "area": config.aliases.area}
        self.problems: list[Problem] = []
        self.seen_keys: dict[str, int] = {}
        self.failed_fields: set[str] = set()  # of the current row: one error per cell is enough
        # Every row's typed cells, rejected rows too (as far as they could be typed), for the
        # checks across rows and tables.
        self.typed_rows: list[tuple[dict, dict]] = []
        self.note_from_deadline: str | None = None  # of the current row
        self.cut_notes: list[str] = []  # of the current row

    def problem(self, level: str, code: str, record: dict, field: str = "", value="",
                **params) -> None:
        loc = record["loc"]
        column = record.get("columns", {}).get(field, field)
        location = Location(source=loc.get("source", ""), file=loc.get("file", ""),
                            sheet=loc.get("sheet", ""), row=loc.get("row"), column=column)
        message = self.say(code, field=field, value=value, **params)
        self.problems.append(Problem(level, code, message, location,
                                     "" if value is None else str(value)))
        if level == "error" and field:
            self.failed_fields.add(field)

    def check(self, record: dict) -> tuple[dict | None, bool]:
        """The typed cells (None when the row has errors: it goes to rejected rows), and
        whether the row is left out because it did not exist yet at as_of (cut_at_as_of)."""
        before = sum(p.level == "error" for p in self.problems)
        self.failed_fields = set()
        self.note_from_deadline = None
        cells = self._with_defaults(record.get("cells", {}))
        typed: dict = {}
        for name, kind in self.types.items():
            raw = cells.get(name)
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            if (marker := cleanup.empty_cell_marker(raw)) is not None:
                self._marker_problem(name, marker, record)
                continue
            typed_value = self._typed(name, kind, raw, record)
            if typed_value is not None:
                typed[name] = typed_value
        if self.note_from_deadline:
            # Words in the deadline cell (长期坚持) and a 时限说明 column: keep both, deadline first.
            notes = [self.note_from_deadline, typed.get("deadline_note")]
            typed["deadline_note"] = "；".join(dict.fromkeys(note for note in notes if note))
        cut = self._as_of(typed, record)
        if cut is None:
            return None, sum(p.level == "error" for p in self.problems) == before
        typed = cut
        self.typed_rows.append((record, typed))
        for name in self.required:
            if typed.get(name) in (None, "") and name not in self.failed_fields:
                self.problem("error", "missing", record, name)
        self._check_key(typed, record)
        if self.table == "issues":
            self._check_issue(typed, record)
        failed = sum(p.level == "error" for p in self.problems) > before
        return (None if failed else typed), False

    def _with_defaults(self, cells: dict) -> dict:
        """The row's cells with the config's `defaults` filled into its empty ones."""
        if not self.defaults:
            return cells
        filled = dict(cells)
        for name, default in self.defaults.items():
            raw = filled.get(name)
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                filled[name] = default
                self.defaults_used[name] = self.defaults_used.get(name, 0) + 1
        return filled

    def _marker_problem(self, name: str, marker: dict, record: dict) -> None:
        formula = marker.get("formula") or ""
        if "error" in marker:
            note = self.say("formula_note", formula=formula) if formula else ""
            self.problem("error", "error_cell", record, name, marker["error"],
                         cell=marker["cell"], error=marker["error"], formula_note=note)
        else:
            self.problem("error", "formula_without_value", record, name, formula,
                         cell=marker["cell"], formula=formula)

    def _typed(self, name: str, kind: str, raw, record: dict):
        try:
            if kind == "string":
                text = values.normalize_text(raw)
                if name == "status":
                    return self._status(text, record)
                if name in ID_FIELDS:
                    return normalize_id(text)
                if name in cleanup.NAME_FIELDS and text is not None:
                    return cleanup.canonical_name(name, text, self.aliases)
                return text
            if kind == "date":
                return self._date(name, raw, record)
            if kind == "number":
                number = values.parse_number(raw)
                if name == "satisfaction" and number is not None and not 0 <= number <= 100:
                    self.problem("error", "satisfaction_range", record, name, raw)
                    return None
                if name == "satisfaction" and number is not None and 0 < number < 1:
                    self.problem("error", "fraction_score", record, name, raw)
                    return None
                return number
            if kind == "integer":
                number = values.parse_int(raw)
                if number is not None and number < 0:
                    self.problem("error", "negative", record, name, raw)
                    return None
                return number
            if kind == "boolean":
                return values.parse_bool(raw, schema.BOOLEAN_WORDS)
        except values.CellError as error:
            params = {key: value for key, value in error.params.items() if key != "value"}
            self.problem("error", error.code, record, name, raw, **params)
        return None

    def _status(self, text: str | None, record: dict) -> str | None:
        if text is None:
            return None
        status = self.status_words.get(schema.status_key(text))
        if status is None:
            # The words of the site's language: Chinese words on a Chinese site, else ASCII ones.
            chinese = self.say.language == "zh"
            known = sorted({w for w in self.status_words if w.isascii() != chinese})
            self.problem("error", "unknown_status", record, "status", text,
                         known=("、" if chinese else ", ").join(known))
        return status

    def _date(self, name: str, raw, record: dict) -> str | None:
        dates = self.dates.get(record["loc"].get("source", ""), self.config.dates)
        try:
            parsed = values.parse_date(raw, formats=dates.formats,
                                       default_year=dates.default_year, order=dates.order)
        except values.CellError:
            text = values.normalize_text(raw) or ""
            if name == "deadline" and not DIGITS.search(text):
                self.note_from_deadline = text
                return None
            raise
        return parsed.isoformat() if parsed else None

    def _as_of(self, typed: dict, record: dict) -> dict | None:
        """Dates after as_of: errors, or with cut_at_as_of the row as it stood at as_of."""
        as_of = self.config.as_of.isoformat()
        if not self.config.cut_at_as_of:
            for name in cleanup.dates_after(self.table, typed, as_of):
                self.problem("error", "after_as_of", record, name, typed[name], as_of=as_of)
            return typed
        cut, notes = cleanup.cut_row(self.table, typed, as_of)
        for note in notes:
            self.problem("warning", "cut_at_as_of", record, value="", as_of=as_of,
                         what=self.say(note))
        return cut

    def _check_key(self, typed: dict, record: dict) -> None:
        key_value = typed.get(self.key)
        if key_value is None:
            return
        try:
            safepath.check_id(str(key_value), what=self.key)
        except UnsafePath as error:
            self.problem("error", "unsafe_id", record, self.key, key_value, detail=error.message)
            return
        row = record["loc"].get("row")
        if key_value in self.seen_keys:
            self.problem("error", "duplicate_id", record, self.key, key_value,
                         first_row=self.seen_keys[key_value])
        else:
            self.seen_keys[key_value] = row

    def _check_issue(self, typed: dict, record: dict) -> None:
        status = typed.get("status")
        if status == "done" and not typed.get("completed_on"):
            self.problem("warning", "done_without_date", record, "completed_on")
        if status in ("open", "in_progress") and typed.get("completed_on"):
            self.problem("warning", "date_without_done", record, "completed_on",
                         typed["completed_on"])
        deadline, identified = typed.get("deadline"), typed.get("identified_on")
        if deadline and identified and deadline < identified:
            self.problem("warning", "deadline_before_identified", record, "deadline", deadline)


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
                checkers[table].problem("error", "case_collision", record, key, value,
                                        detail=error.message)
    checker = checkers["feedback"]
    for record, typed in checker.typed_rows:
        linked = typed.get("issue_id")
        if linked and linked not in issue_ids:
            checker.problem("warning", "unknown_issue", record, "issue_id", linked)
    _near_duplicate_names(checkers)


def _near_duplicate_names(checkers: dict) -> None:
    """One warning per pair of unit (or area) names that look like one name spelt two ways."""
    say = checkers["issues"].say
    for kind in cleanup.ALIAS_FIELDS:
        first_row: dict[str, tuple[_RowChecker, dict]] = {}
        for checker in checkers.values():
            for record, typed in checker.typed_rows:
                if typed.get(kind):
                    first_row.setdefault(typed[kind], (checker, record))
        for name, other in cleanup.near_duplicates(first_row):
            checker, record = first_row[other]
            checker.problem("warning", "near_duplicate", record, kind, other, name=name,
                            other=other, kind=say(f"kind_{kind}"), kind_key=kind)


def _unmapped_warnings(sources_path: Path, checkers: dict, say: Messages) -> None:
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
                say("unmapped_column", header=repr(header), table=table), location))


def run(config: Config) -> Path:
    """Read extract/, write validate/ (typed rows, report, rejected rows, an annotated copy of
    each workbook with problems); raise on errors."""
    source_dir = config.work_dir / "extract"
    out_dir = config.work_dir / "validate"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    say = Messages(config.language)
    patterns = cleanup.compile_patterns(config.skip_rows.patterns)
    records = {table: _read_records(source_dir / f"{table}.jsonl") for table in schema.TABLES}
    checkers = {table: _RowChecker(table, config, say) for table in schema.TABLES}
    rejected: list[tuple[str, dict, list[Problem]]] = []
    skipped: list[dict] = []
    for table, rows in records.items():
        checker = checkers[table]
        kept = []
        for record in rows:
            loc = record["loc"]
            if (reason := cleanup.skip_reason(record.get("cells", {}), patterns)) is not None:
                checker.problem("warning", "skipped_row", record, value=reason)
                skipped.append({"table": table, "file": loc.get("file", ""),
                                "sheet": loc.get("sheet", ""), "row": loc.get("row"),
                                "reason": "total", "value": reason})
                continue
            start = len(checker.problems)
            typed, dropped = checker.check(record)
            if dropped:
                skipped.append({"table": table, "file": loc.get("file", ""),
                                "sheet": loc.get("sheet", ""), "row": loc.get("row"),
                                "reason": "after_as_of", "value": ""})
            elif typed is None:
                rejected.append((table, record, [p for p in checker.problems[start:]
                                                 if p.level == "error"]))
            else:
                kept.append({"loc": record["loc"], "cells": typed})
        _write_jsonl(out_dir / f"{table}.jsonl", kept)
    if not records["issues"]:
        checkers["issues"].problems.append(Problem("error", "no_issues", say("no_issues"),
                                                   Location(source="issues")))
    _cross_checks(checkers)
    _unmapped_warnings(source_dir / "sources.json", checkers, say)

    problems = [p for checker in checkers.values() for p in checker.problems]
    report = {
        "errors": [_problem_dict(p) for p in problems if p.level == "error"],
        "warnings": [_problem_dict(p) for p in problems if p.level == "warning"],
        "rows": {table: len(rows) for table, rows in records.items()},
        "rejected": len(rejected),
        "skipped": skipped,
        "defaults": {table: dict(sorted(checker.defaults_used.items()))
                     for table, checker in checkers.items() if checker.defaults_used},
    }
    annotated = annotate.write_all(config, problems, source_dir / "sources.json", out_dir)
    report["annotated"] = [path.name for path in annotated]
    (out_dir / "report.json").write_bytes(canonical_json(report))
    _write_rejected(out_dir / "rejected_rows.csv", rejected)
    if report["errors"]:
        raise ValidationFailed(problems, report_path=str(out_dir), words=say.text,
                               annotated=[str(path) for path in annotated])
    return out_dir


def _problem_dict(problem: Problem) -> dict:
    loc = problem.location
    return {"level": problem.level, "code": problem.code, "message": problem.message,
            "source": loc.source, "file": loc.file, "sheet": loc.sheet, "row": loc.row,
            "column": loc.column, "value": problem.value}

"""The auditor's workbook of a comparison: one sheet per kind of change, same bytes every run."""

from __future__ import annotations

import datetime as dt

from etl import schema
from etl.ledger import workbook
from etl.ledger.workbook import EPOCH, cell_text  # noqa: F401  (cell_text: used and re-exported)
from etl.site import figures
from etl.site import words

# The workbook's own words; the site's language picks them (Chinese unless told otherwise).
# Sheet names, headers and summary words: the `workbook` section of templates/text.yml.

WAS_NOW = ("issue_id", "title", "old", "new")
# (section, its columns): one sheet each, in this order, after the summary; empty ones stay,
# headers only, so an auditor sees that a kind of change was looked for and not found.
SHEETS = (
    ("removed", ("issue_id", "title", "unit", "status")),
    ("id_changes", ("table", "old_id", "new_id", "title", "similarity")),
    ("added", ("issue_id", "title", "unit", "status")),
    ("field_changes", ("table", "id", "title", "field", "field_name", "old", "new")),
    ("status_changes", WAS_NOW),
    ("regressions", WAS_NOW),
    ("deadline_extensions", ("issue_id", "title", "old", "new", "new_note")),
    ("deadlines_earlier", WAS_NOW),
    ("unit_changes", WAS_NOW),
    ("owner_changes", WAS_NOW),
    ("feedback_removed", ("feedback_id",)),
    ("feedback_added", ("feedback_id",)),
    ("feedback_changes", ("feedback_id", "field", "field_name", "old", "new")),
    ("figure_changes", ("figure", "key", "old", "new", "change")),
    ("warnings", ("warning",)),
)
WIDE = {"title": 48, "old": 40, "new": 40, "warning": 100, "figure": 24, "field": 16}
STATUS_COLUMNS = {"removed": ("status",), "added": ("status",), "status_changes": ("old", "new"),
                  "regressions": ("old", "new")}
FILE_NAME = "changes.xlsx"  # beside changes.json in the work dir and in the site's data/


def _field_title(table: str, name: str, language: str) -> str:
    fields = {f.name: f for f in schema.TABLES[table]}
    return words.field_title(name, language, table) if name in fields else name


def _row(section: str, item, columns: tuple, vocab: dict, language: str) -> list:
    record = item if isinstance(item, dict) else {columns[0]: item}
    statuses = words.status_labels(language)
    kinds = schema.field_types(record.get("table") or "feedback") if "field" in record else {}
    row = []
    for column in columns:
        value = record.get(column)
        if column == "table":
            value = vocab.get(value, value)
        elif column == "field_name":
            value = record.get("field")
        elif column == "field":
            value = _field_title(record.get("table") or "feedback", value, language)
        elif column == "figure":
            value = figures.label(record.get("key"), language)
        elif column in ("old", "new") and record.get("field") == "status":
            value = statuses.get(value, value)
        elif column in ("old", "new") and kinds.get(record.get("field")) == "boolean":
            value = vocab.get(value, value)
        elif column in STATUS_COLUMNS.get(section, ()):
            value = statuses.get(value, value)
        row.append(cell_text(value))
    return row


def _summary(result: dict, vocab: dict) -> list[list]:
    counts = result.get("counts", {})
    rows = [[vocab["old_snapshot"], result["old"]["snapshot_id"]],
            [vocab["new_snapshot"], result["new"]["snapshot_id"]],
            [vocab["old_as_of"], result["old"].get("as_of")],
            [vocab["new_as_of"], result["new"].get("as_of")]]
    rows += [[vocab[name], counts[name]] for name in (
        "issues_old", "issues_new", "feedback_old", "feedback_new", "issues_changed",
        "feedback_changed") if name in counts]
    rows += [[vocab[section], len(result.get(section, []))] for section, _ in SHEETS]
    return [[cell_text(label), value if isinstance(value, int) else cell_text(value)]
            for label, value in rows]


def _timestamp(result: dict) -> dt.datetime:
    """The new snapshot's date: fixed for a comparison, so reruns give the same bytes."""
    try:
        return workbook.stamp_of(result["new"]["as_of"])
    except (KeyError, TypeError):
        return EPOCH


def workbook_bytes(result: dict, language: str = "zh") -> bytes:
    """The whole comparison as .xlsx bytes: a summary sheet, then one sheet per kind of change."""
    vocab = words.section("workbook", language)
    stamp = _timestamp(result)
    book = workbook.new_book(stamp)
    summary = book.active
    summary.title = vocab["summary"]
    for row in [[vocab["item"], vocab["value"]], *_summary(result, vocab)]:
        summary.append(row)
    sheets = [(summary, (36, 40))]
    for section, columns in SHEETS:
        sheet = book.create_sheet(vocab[section])
        sheet.append([cell_text(vocab[c if c != "issue_id" else "id"]) for c in columns])
        for item in result.get(section, []):
            sheet.append(_row(section, item, columns, vocab, language))
        sheets.append((sheet, tuple(WIDE.get(c, 18) for c in columns)))
    for sheet, widths in sheets:
        workbook.style_sheet(sheet, widths)
    return workbook.book_bytes(book, stamp)

"""An annotated copy of a staff workbook: bad cells filled, each problem as the cell's comment.

Staff open `validate/annotated-<file>.xlsx` in WPS or Excel, fix the cells it marks in their own
file and publish again. An .xlsx/.xlsm source is copied with openpyxl, so its layout, formulas
and other sheets stay; any other file source (CSV, .xls, .ods, JSON) becomes a new workbook with
its rows at the row numbers the errors name. Sources read from a URL get no copy: the fix is
made where the feed comes from.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from etl.errors import Problem
from etl.read.table import header_key

ERROR_FILL = "FFC7CE"    # Excel's own light red for bad values
WARNING_FILL = "FFEB9C"  # and its light yellow for neutral ones
AUTHOR = "Gongshi"
PREFIX = "annotated-"
# Formats whose rows are numbered as a person sees them in a sheet (JSON numbers records).
ANNOTATED_FORMATS = ("xlsx", "xlsm", "xls", "ods", "csv")


def write_all(config, problems: list[Problem], sources_path: Path, out_dir: Path) -> list[Path]:
    """One annotated workbook per file source with problems on its rows; their paths."""
    if not sources_path.is_file():
        return []
    entries = {entry["name"]: entry
               for entry in json.loads(sources_path.read_text(encoding="utf-8"))}
    by_source: dict[str, list[Problem]] = defaultdict(list)
    for problem in problems:
        if problem.location.row is not None and problem.location.source in entries:
            by_source[problem.location.source].append(problem)
    written = []
    for source in config.sources:
        found = by_source.get(source.name)
        entry = entries.get(source.name)
        if not found or entry is None or source.kind != "file" or source.path is None \
                or entry.get("format") not in ANNOTATED_FORMATS:
            continue
        target = out_dir / f"{PREFIX}{Path(source.path.name).stem}.xlsx"
        annotate(source, entry, found, target, config)
        written.append(target)
    return written


def annotate(source, entry: dict, problems: list[Problem], target: Path, config=None) -> Path:
    """Write `target`: the source's sheet with every problem's cell filled and commented."""
    if entry.get("format") in ("xlsx", "xlsm"):
        book, sheet = _copy_of_workbook(source.path, entry.get("sheet") or "")
    else:
        book, sheet = _workbook_from_rows(source, entry, config)
    header_row = entry.get("header_row") or 1
    columns = {header_key(cell.value): cell.column
               for cell in sheet[header_row] if cell.value not in (None, "")}
    notes: dict[tuple[int, int], list[Problem]] = defaultdict(list)
    for problem in problems:
        loc = problem.location
        column = columns.get(header_key(loc.column), 1) if loc.column else 1
        notes[(loc.row, column)].append(problem)
    _mark(sheet, notes)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def _mark(sheet, notes: dict[tuple[int, int], list[Problem]]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    for (row, column), found in sorted(notes.items()):
        cell = sheet.cell(row=row, column=column)
        colour = ERROR_FILL if any(p.level == "error" for p in found) else WARNING_FILL
        cell.fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
        text = "\n".join(dict.fromkeys(p.message for p in found))
        comment = Comment(text, AUTHOR)
        comment.width, comment.height = 320, min(60 + 40 * len(found), 400)
        cell.comment = comment


def _copy_of_workbook(path: Path, sheet_name: str):
    import openpyxl

    book = openpyxl.load_workbook(path, keep_vba=False, keep_links=False)
    sheet = book[sheet_name] if sheet_name in book.sheetnames else book.worksheets[0]
    book.active = book.worksheets.index(sheet)
    return book, sheet


def _workbook_from_rows(source, entry: dict, config):
    """A new workbook holding the file's header and rows where a person sees them."""
    import openpyxl

    from etl.read.sources import read_bytes

    known = set(config.columns.get(source.table, {})) | set(source.columns) if config else set()
    table = read_bytes(source.path.read_bytes(), name=source.path.name, source_name=source.name,
                       fmt=entry.get("format") or source.format, sheet=entry.get("sheet") or "",
                       encoding=source.encoding, header_row=entry.get("header_row") or None,
                       known_headers=known)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = (table.sheet or Path(source.path.name).stem)[:31] or "Sheet1"
    header_row = table.header_row or 1
    for column, header in enumerate(table.headers, start=1):
        _put(sheet.cell(row=header_row, column=column), header)
    for number, cells in table.rows:
        for column, value in enumerate(cells, start=1):
            if value is not None:
                _put(sheet.cell(row=number, column=column), value)
    return book, sheet


def _put(cell, value) -> None:
    """A value as plain content: text that starts with = is text here, never a formula."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        cell.value = value
        return
    cell.value = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False) \
        if isinstance(value, (dict, list)) else str(value)
    cell.data_type = "s"

"""Excel-friendly copies of the public issue lists: .xlsx in the site's language.

The canonical data stays the snapshot's CSV (UTF-8 with BOM, English field names and codes);
these workbooks are for reading and filtering: headers and status words in the site language,
dates as dates, numbers as numbers, every text cell made inert like the CSV's (a formula typed
into a source never runs), and the same bytes on every rebuild (etl/ledger/workbook.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from etl import schema
from etl.ledger import workbook
from etl.site import figures, pages, words

WIDE = {"description": 48, "measures": 48, "result": 40, "reply": 40, "target": 32, "title": 32}
DATE_FORMAT = "yyyy-mm-dd"
LIST_FILE = "issues.xlsx"  # the one name of a list's workbook, in the folder of its page


def _cell(name: str, value, kind: str, language: str):
    """A value as Excel should hold it: a date, a number, or inert text in the site's words."""
    if value is None:
        return None
    if name == "status" or isinstance(value, bool):
        return workbook.cell_text(pages.display(name, value, language))
    if kind == "date" and isinstance(value, dt.date):
        return value
    if kind in ("integer", "number") and isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else float(value)
    return workbook.cell_text(value)


def list_bytes(issues: list[dict], published: list[str], as_of, language: str = "zh",
               extra: tuple = ()) -> bytes:
    """One issue list as .xlsx: every published field in canonical order, then `extra`
    columns given as (heading, issue -> value); one sheet, its header row frozen."""
    types = schema.field_types("issues")
    columns = [name for name in schema.field_names("issues") if name in published]
    stamp = workbook.stamp_of(as_of)
    book = workbook.new_book(stamp)
    sheet = book.active
    sheet.title = words.section("workbook", language)["issue_list"]
    sheet.append([workbook.cell_text(words.field_title(name, language)) for name in columns]
                 + [workbook.cell_text(heading) for heading, _ in extra])
    for issue in issues:
        row = [_cell(name, issue.get(name), types[name], language) for name in columns]
        row += [_cell("", value(issue), "number", language) for _, value in extra]
        sheet.append(row)
    for row in sheet.iter_rows(min_row=2):
        for cell, name in zip(row, columns):
            if types[name] == "date" and cell.value is not None:
                cell.number_format = DATE_FORMAT
    workbook.style_sheet(sheet, [WIDE.get(name, 14) for name in columns] + [14] * len(extra))
    return workbook.book_bytes(book, stamp)


def write_list(folder: Path, issues: list[dict], published: list[str], as_of, language: str,
               extra: tuple = ()) -> Path:
    """Write a list's workbook beside its page; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LIST_FILE
    path.write_bytes(list_bytes(issues, published, as_of, language, extra))
    return path


def link_line(text: dict, href: str = LIST_FILE) -> str:
    """The Markdown line a list page ends with: a link to its workbook."""
    return f"\n[{text['download_xlsx']}]({href})\n"


def write_site(site) -> None:
    """The page writer (writers.PAGES): each public list as .xlsx beside its page, linked from
    it: all issues (linked from the data page), overdue, rework and each unit. Runs after those
    pages are written."""
    as_of, language, published = site.metrics["as_of"], site.language, site.published
    days_late = site.metrics["days_late"]
    late = ((site.text["days_late"], lambda issue: days_late.get(issue["issue_id"])),)
    write_list(site.pages_dir / "data", site.issues, published, as_of, language)
    for name, extra in (("overdue", late), ("rework", ())):
        folder = site.pages_dir / name
        write_list(folder, site.listed(name), published, as_of, language, extra)
        with (folder / "index.md").open("a", encoding="utf-8") as page:
            page.write(link_line(site.text))
    folder = pages.GROUP_DIRS["unit"]
    members: dict[str, list[dict]] = {}
    for issue in site.issues:  # one pass, not one per unit: 100,000 issues stay quick
        members.setdefault(issue.get("unit") or figures.MISSING_GROUP, []).append(issue)
    for group in site.metrics["groups"]["unit"]:
        page_dir = site.pages_dir / folder / group["slug"]
        if not (page_dir / "index.md").is_file():  # no unit pages on this site
            continue
        write_list(page_dir, members.get(group["name"], []), published, as_of, language)
        with (page_dir / "index.md").open("a", encoding="utf-8") as page:
            page.write(link_line(site.text))

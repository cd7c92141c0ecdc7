"""Deterministic .xlsx writing shared by every workbook we publish: same rows, same bytes.

openpyxl stamps the clock time into the document properties and into every zip entry; here
both carry one fixed time the caller names (a snapshot's date), and every text cell is made
inert the way our CSV makes it (tables.defuse), so a formula typed into a source never runs.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from etl.ledger import tables

EPOCH = dt.datetime(1980, 1, 1)  # the earliest time a zip entry can carry


def cell_text(value) -> str:
    """A cell's text: no characters XML forbids, and formula triggers defused as in our CSV."""
    text = "" if value is None else str(value)
    return tables.defuse(ILLEGAL_CHARACTERS_RE.sub(" ", text))


def stamp_of(day) -> dt.datetime:
    """The fixed time of a workbook made for `day` (a date or ISO text); EPOCH if unreadable."""
    try:
        stamp = dt.datetime.combine(dt.date.fromisoformat(str(day)[:10]), dt.time())
    except (TypeError, ValueError):
        return EPOCH
    return max(stamp, EPOCH)


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed time: ZipFile stamps the clock time otherwise."""

    stamp = EPOCH

    def writestr(self, name, data, compress_type=None, compresslevel=None):
        if not isinstance(name, zipfile.ZipInfo):
            name = zipfile.ZipInfo(name, date_time=self.stamp.timetuple()[:6])
            name.compress_type = zipfile.ZIP_DEFLATED
            name.external_attr = 0o644 << 16
        super().writestr(name, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        # openpyxl writes each sheet from a temporary file, which would carry its mtime.
        with open(filename, "rb") as handle:
            self.writestr(arcname or Path(filename).name, handle.read())


def new_book(stamp: dt.datetime) -> Workbook:
    """An empty workbook whose document times are `stamp`, not now."""
    book = Workbook()
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "gongshi"
    return book


def style_sheet(sheet, widths) -> None:
    """Bold header row frozen at the top, the given column widths, wrapped top-aligned cells."""
    bold = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = width
        sheet[f"{letter}1"].font = bold
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def book_bytes(book: Workbook, stamp: dt.datetime) -> bytes:
    """The workbook as .xlsx bytes, every zip entry stamped with `stamp`."""
    buffer = io.BytesIO()
    archive = _FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED)
    archive.stamp = stamp
    ExcelWriter(book, archive).save()
    return buffer.getvalue()

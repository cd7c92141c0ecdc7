"""The .xlsx copies of the public lists: site-language headers and words, inert cells, same bytes."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from etl.site import downloads, words

PUBLISHED = ["issue_id", "title", "unit", "feedback_count", "immediate", "deadline", "status",
             "satisfaction"]  # canonical order, the order the workbook's columns take
ISSUES = [
    {"issue_id": "QH-1", "title": "=HYPERLINK(\"http://x\")", "unit": "县住建局", "immediate": True,
     "deadline": dt.date(2026, 6, 30), "status": "merged", "feedback_count": 2,
     "satisfaction": 92.5},
    {"issue_id": "QH-2", "title": "+1 路灯", "unit": "@县交通局", "immediate": None,
     "deadline": None, "status": "done", "feedback_count": None, "satisfaction": 80.0},
]


def _sheet(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_headers_statuses_and_flags_are_in_the_site_language():
    for language, status, flag in (("zh", "合并办理", "是"), ("en", "Merged", "Yes")):
        sheet = _sheet(downloads.list_bytes(ISSUES, PUBLISHED, "2026-11-20", language))
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == [words.field_title(name, language) for name in PUBLISHED]
        assert rows[1][4] == flag and rows[1][6] == status
        assert rows[2][6] == words.status_labels(language)["done"] and rows[2][4] is None
        assert sheet.title == words.section("workbook", language)["issue_list"]


def test_cells_are_formula_safe_and_typed():
    sheet = _sheet(downloads.list_bytes(ISSUES, PUBLISHED, "2026-11-20", "zh",
                                        extra=(("逾期天数", lambda issue: 12),)))
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    # Text that would start a formula keeps a leading ', as in the canonical CSV.
    assert rows[0][1] == "'=HYPERLINK(\"http://x\")" and rows[1][1] == "'+1 路灯"
    assert rows[1][2] == "'@县交通局"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    # Dates are dates, numbers numbers, empty cells empty; the extra column comes last.
    assert rows[0][5] == dt.datetime(2026, 6, 30) and sheet["F2"].number_format == "yyyy-mm-dd"
    assert rows[0][3] == 2 and rows[0][7] == 92.5 and rows[1][7] == 80 and rows[1][5] is None
    assert rows[0][-1] == 12


def test_same_inputs_give_the_same_bytes():
    first = downloads.list_bytes(ISSUES, PUBLISHED, "2026-11-20", "zh")
    assert downloads.list_bytes(ISSUES, PUBLISHED, "2026-11-20", "zh") == first
    assert downloads.list_bytes(ISSUES, PUBLISHED, "2026-11-21", "zh") != first  # dated by as_of

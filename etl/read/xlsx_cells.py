"""Workbook cells calamine reads as empty: formulas with no computed value, and Excel errors.

calamine gives a cell's cached value, so a formula a program wrote without calculating it
(openpyxl, many export scripts) and an error such as #N/A both come back as "". Reading the
sheet's XML once finds them, so validate can say "formula without a value" or "#N/A" instead
of "required field is empty". Only .xlsx/.xlsm; a workbook with no formula and no error cell
costs one scan of its bytes.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_CELL_REFERENCE = re.compile(r"([A-Z]+)([0-9]+)")


def cell_position(reference: str) -> tuple[int, int]:
    """0-based (row, column) of an A1 reference."""
    match = _CELL_REFERENCE.fullmatch(reference)
    if not match:
        raise ValueError(f"not a cell reference: {reference!r}")
    column = 0
    for letter in match.group(1):
        column = column * 26 + ord(letter) - ord("A") + 1
    return int(match.group(2)) - 1, column - 1


def _sheet_path(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    relation = next((sheet.get(RELATIONSHIP) for sheet in workbook.iter(f"{MAIN}sheet")
                     if sheet.get("name") == sheet_name), None)
    if relation is None:
        return None
    relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for item in relations:
        if item.get("Id") == relation:
            target = item.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join("xl", target))
    return None


def unvalued_cells(data: bytes, sheet_name: str) -> dict[tuple[int, int], dict]:
    """(row, column) -> marker for each cell of the sheet holding no usable value:
    {"formula": "=...", "cell": "B5"} for a formula without a computed value, and
    {"error": "#N/A", "cell": "C7"} (plus "formula" when it has one) for an error value.

    A formula whose computed value is the empty string (t="str", Excel's ="" ) is a real
    empty cell, not a missing value.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        path = _sheet_path(archive, sheet_name)
        if path is None or path not in archive.namelist():
            return {}
        xml = archive.read(path)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return {}
    if b"<f" not in xml and b't="e"' not in xml:
        return {}
    found: dict[tuple[int, int], dict] = {}
    shared: dict[str, str] = {}
    for _event, cell in ElementTree.iterparse(io.BytesIO(xml)):
        if cell.tag != f"{MAIN}c":
            continue
        reference = cell.get("r")
        formula_element = cell.find(f"{MAIN}f")
        value_element = cell.find(f"{MAIN}v")
        value = value_element.text if value_element is not None else None
        formula = _formula_text(formula_element, shared)
        kind = cell.get("t", "n")
        if reference and kind == "e":
            marker = {"error": value or "#VALUE!", "cell": reference}
            if formula:
                marker["formula"] = formula
            found[cell_position(reference)] = marker
        elif reference and formula_element is not None and not value and kind != "str":
            found[cell_position(reference)] = {"formula": formula or "=?", "cell": reference}
        cell.clear()
    return found


def _formula_text(element, shared: dict[str, str]) -> str:
    """The formula as Excel shows it (=...); a shared formula's followers take its first text."""
    if element is None:
        return ""
    text = element.text or ""
    index = element.get("si")
    if element.get("t") == "shared" and index is not None:
        if text:
            shared[index] = text
        text = text or shared.get(index, "")
    return f"={text}" if text else ""

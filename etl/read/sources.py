"""Read one source (xlsx/xls/ods, CSV, JSON; file or URL) into rows that remember where they came from."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json

from etl.errors import Location, SourceError
from etl.read.formats import EXPORT_HINT, detect_format
from etl.read import adapters, paging, xlsx_cells
from etl.read.table import RawTable, header_key  # noqa: F401  (re-exported)
from etl.read.values import normalize_text

SPREADSHEET_FORMATS = ("xlsx", "xls", "xlsm", "ods")
HEADER_SEARCH_ROWS = 10  # title rows above the header are rarely more than two or three
DELIMITERS = (",", "\t", ";")


def _where(source_name: str, name: str, sheet: str = "", row: int | None = None) -> Location:
    return Location(source=source_name, file=name, sheet=sheet, row=row)


# --- header row ---------------------------------------------------------------------------

def find_header_row(rows: list[tuple[int, list]], known_headers, header_row: int | None,
                    where: Location) -> int:
    """Index into rows of the header: configured, or the first early row naming known headers."""
    if not rows:
        raise SourceError("no row has any content", location=where, hint=EXPORT_HINT)
    if header_row is not None:
        for index, (number, _cells) in enumerate(rows):
            if number == header_row:
                return index
        raise SourceError(f"header_row {header_row} is empty or beyond the last row "
                          f"({rows[-1][0]})", location=where,
                          hint="set header_row to the row holding the column names, or remove "
                               "it to let extract find the header")
    keys = {header_key(name) for name in known_headers} - {""}
    if not keys:
        return 0
    best_index, best_count = None, 0
    for index, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        count = len({header_key(cell) for cell in cells if cell is not None} & keys)
        if count >= 2:
            return index
        if count > best_count:
            best_index, best_count = index, count
    if best_index is not None:
        return best_index
    preview = "; ".join(f"row {number}: " + " | ".join(str(c) for c in cells if c is not None)[:80]
                        for number, cells in rows[:3])
    raise SourceError(f"no header row found in the first {HEADER_SEARCH_ROWS} rows: none names "
                      f"a known column such as 序号, 问题描述, 责任单位 ({preview})",
                      location=where,
                      hint="set header_row for this source, or map its headers under columns")


def _table_from_grid(grid: list[tuple[int, list]], *, source_name: str, name: str, sheet: str,
                     known_headers, header_row: int | None, meta: dict) -> RawTable:
    where = _where(source_name, name, sheet)
    non_empty = [(number, cells) for number, cells in grid
                 if any(cell is not None for cell in cells)]
    index = find_header_row(non_empty, known_headers, header_row, where)
    header_number, header_cells = non_empty[index]
    headers = [normalize_text(cell) or "" for cell in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    spreadsheet = meta.get("format") in SPREADSHEET_FORMATS
    for number, cells in non_empty[index + 1:]:
        _check_headerless_values(cells, headers, spreadsheet,
                                 Location(source_name, name, sheet, number))
        for position, cell in enumerate(cells[:width]):
            if isinstance(cell, str) and "\x00" in cell:
                # A NUL splits one name into two (县行政审\0批局) and breaks downstream tools.
                raise SourceError("a NUL character (byte 0) is inside this cell",
                                  location=Location(source_name, name, sheet, number,
                                                    headers[position]),
                                  hint="the export is damaged here: export the file again, or "
                                       "retype this cell")
    # Every row with content is kept; a value under no header has stopped the read above.
    rows = [(number, (list(cells[:width]) + [None] * width)[:width])
            for number, cells in non_empty[index + 1:]]
    return RawTable(source=source_name, file=name, sheet=sheet, headers=headers, rows=rows,
                    meta=meta, header_row=header_number)


def column_letter(position: int) -> str:
    """Excel's name of a 0-based column: A .. Z, AA .. ZZ, AAA ..."""
    letters = ""
    position += 1
    while position:
        position, remainder = divmod(position - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _check_headerless_values(cells: list, headers: list[str], spreadsheet: bool,
                             where: Location) -> None:
    """A value in a column without a header would vanish unseen: stop and name its cell."""
    width = len(headers)
    for position, cell in enumerate(cells):
        if cell is None or cell == "" or (position < width and headers[position]):
            continue
        if not spreadsheet and position >= width:
            raise SourceError(
                f"{len(cells)} fields but the header has {width} — an unquoted comma? the "
                f"value {str(cell)[:40]!r} is beyond the last column", location=where,
                hint="put quotes around a value that contains the delimiter (Excel and WPS "
                     "do this when they save as CSV), or add a header for the extra column")
        column = f"column {column_letter(position)}" if spreadsheet else f"field {position + 1}"
        raise SourceError(
            f"a value in {column}, which has no header ({str(cell)[:40]!r})", location=where,
            hint="give the column a header (and map it under columns if it holds a field), or "
                 "delete the stray value")


# --- spreadsheets -------------------------------------------------------------------------

def _spreadsheet_cell(value):
    """Cells as extract writes them: ISO dates, whole floats as int, stripped text, None if empty."""
    if isinstance(value, str):
        return normalize_text(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dt.date):  # datetime too: "YYYY-MM-DD", or with the time if not midnight
        return normalize_text(value)
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return value


def _fill_merged(grid: list[list], merged, header_index: int) -> None:
    """Copy a merged cell's value down its column (calamine gives it only to the top-left cell).

    Only below the header, and only in the range's first column: spreading a value sideways
    would put it under a different field.
    """
    for (top, left), (bottom, _right) in merged or ():
        if top <= header_index or top >= len(grid):
            continue
        value = grid[top][left] if left < len(grid[top]) else None
        for row in grid[top + 1: bottom + 1]:
            if left < len(row) and row[left] is None:
                row[left] = value


def _mark_unvalued_cells(grid: list[list], data: bytes, sheet: str) -> None:
    """Put a marker ({"formula"|"error", "cell"}) where calamine read a formula without a
    value or an error such as #N/A as empty, so validate reports what the cell really holds."""
    for (row, column), marker in xlsx_cells.unvalued_cells(data, sheet).items():
        while row >= len(grid):
            grid.append([None] * (len(grid[0]) if grid else 0))
        cells = grid[row]
        if column >= len(cells):
            cells.extend([None] * (column + 1 - len(cells)))
        if cells[column] is None:
            cells[column] = marker


def read_spreadsheet(data: bytes, *, name: str, source_name: str, fmt: str, sheet: str = "",
                     known_headers=frozenset(), header_row: int | None = None,
                     meta: dict) -> RawTable:
    """One sheet via python-calamine: the configured one, else the first with any content."""
    import python_calamine  # a compiled extension; loaded only when a workbook is read

    where = _where(source_name, name)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise SourceError("the workbook is password-protected", location=where,
                          hint="save an unprotected copy and point the config at it")
    except (python_calamine.CalamineError, ValueError, OSError) as error:
        raise SourceError(f"cannot open the {fmt} workbook: {error}", location=where,
                          hint="open it in Excel or WPS and save it again as .xlsx; if that "
                               "fails, " + EXPORT_HINT)
    with book:
        names = list(book.sheet_names)
        try:
            if sheet:
                if sheet not in names:
                    raise SourceError(f"no sheet named {sheet!r}; the workbook has: "
                                      + ", ".join(repr(n) for n in names), location=where,
                                      hint="set sheet to one of the names above")
                candidates = [sheet]
            else:
                # Hidden sheets often hold drop-down lists; look at them only if nothing else has data.
                visible = [m.name for m in book.sheets_metadata
                           if m.visible == python_calamine.SheetVisibleEnum.Visible]
                candidates = visible + [n for n in names if n not in visible]
            chosen, values, merged = "", [], None
            for candidate in candidates:
                worksheet = book.get_sheet_by_name(candidate)
                values = worksheet.to_python(skip_empty_area=False)
                if any(cell not in ("", None) for row in values for cell in row):
                    chosen, merged = candidate, worksheet.merged_cell_ranges
                    break
        except python_calamine.CalamineError as error:
            raise SourceError(f"cannot read the workbook's sheets: {error}", location=where,
                              hint="open it in Excel or WPS and save it again as .xlsx")
    if not chosen:
        what = f"sheet {sheet!r} is empty" if sheet else \
            "every sheet is empty (" + ", ".join(repr(n) for n in names) + ")"
        raise SourceError(what, location=_where(source_name, name, sheet),
                          hint="check that the export contains the list, or set sheet")
    grid = [[_spreadsheet_cell(cell) for cell in row] for row in values]
    if fmt in ("xlsx", "xlsm"):
        _mark_unvalued_cells(grid, data, chosen)
    where = _where(source_name, name, chosen)
    non_empty = [(i + 1, row) for i, row in enumerate(grid) if any(c is not None for c in row)]
    header_index = non_empty[find_header_row(non_empty, known_headers, header_row, where)][0] - 1
    _fill_merged(grid, merged, header_index)
    meta = {**meta, "sheet": chosen}
    return _table_from_grid([(i + 1, row) for i, row in enumerate(grid)], source_name=source_name,
                            name=name, sheet=chosen, known_headers=known_headers,
                            header_row=header_index + 1, meta=meta)


# --- text: CSV and JSON -------------------------------------------------------------------

def _decode_failure(data: bytes, start: int, message: str, where: Location,
                    hint: str) -> SourceError:
    line = data[:start].count(b"\n") + 1
    return SourceError(f"{message} at byte {start} (line {line})",
                       location=Location(where.source, where.file, row=line), hint=hint)


def decode_text(data: bytes, encoding: str, where: Location) -> tuple[str, str]:
    """Text and the encoding used: BOM, then strict UTF-8, then strict GB18030, else fail."""
    if encoding and encoding != "auto":
        try:
            text = data.decode(encoding)
        except LookupError:
            raise SourceError(f"unknown encoding {encoding!r}", location=where,
                              hint="set encoding to auto, utf-8 or gb18030")
        except UnicodeDecodeError as error:
            raise _decode_failure(data, error.start, f"not valid {encoding}", where,
                                  "set encoding: auto, or save the file as UTF-8 CSV")
        return text.lstrip("\ufeff"), encoding
    for bom, codec in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec.replace("-sig", "")), codec
            except UnicodeDecodeError as error:
                raise _decode_failure(data, error.start + len(bom), f"starts with a {codec} "
                                      f"byte-order mark but is not valid {codec}", where,
                                      "save the file again as UTF-8 CSV")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as gb_error:
            if gb_error.end == len(data) and gb_error.start >= utf8_error.start:
                # Everything decodes up to a half character at the end: an interrupted copy.
                line = data[: gb_error.start].count(b"\n") + 1
                raise SourceError(
                    "the file ends in the middle of a character: it looks truncated",
                    location=Location(where.source, where.file, row=line),
                    hint="copy or download the file again; re-saving will not bring the end back")
            # The decoder that got further is the likelier intended encoding: point there.
            utf8_line = data[: utf8_error.start].count(b"\n") + 1
            gb_line = data[: gb_error.start].count(b"\n") + 1
            raise SourceError(
                f"cannot decode as UTF-8 (bad byte at {utf8_error.start}, line {utf8_line}) or "
                f"GB18030 (bad byte at {gb_error.start}, line {gb_line})",
                location=Location(where.source, where.file, row=max(utf8_line, gb_line)),
                hint="save the file as UTF-8 CSV (in Excel: Save As > CSV UTF-8), or set "
                     "encoding for this source if you know it")


def sniff_delimiter(text: str, name: str = "") -> str:
    """Comma, tab or semicolon: the one with the highest typical count per line."""
    if name.lower().endswith(".tsv"):
        return "\t"
    lines = [line for line in text[:65536].splitlines()[:20] if line.strip()]
    best, best_score = ",", 0
    for delimiter in DELIMITERS:
        counts = sorted(line.count(delimiter) for line in lines)
        score = counts[len(counts) // 2] if counts else 0
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_csv(data: bytes, *, name: str, source_name: str, encoding: str = "auto",
             known_headers=frozenset(), header_row: int | None = None, meta: dict) -> RawTable:
    """A CSV whose row numbers count records as Excel shows them (a quoted line break stays in one)."""
    where = _where(source_name, name)
    text, used = decode_text(data, encoding, where)
    # strict: an unclosed quote must fail, not swallow every row after it into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text, name),
                        strict=True)
    grid = []
    try:
        for number, record in enumerate(reader, start=1):
            grid.append((number, [normalize_text(cell) for cell in record]))
    except csv.Error as error:
        raise SourceError(f"broken CSV: {error}", location=_where(source_name, name, "",
                                                                    len(grid) + 1),
                          hint="check for an unclosed quote near this row, or save the file "
                               "again from Excel as CSV")
    # Excel and WPS write every field of every row; a short last row with no final line
    # break is a file cut off mid-copy, and padding it would publish empty cells.
    if len(grid) >= 2 and not text.endswith(("\n", "\r")) and len(grid[-1][1]) < len(grid[-2][1]):
        raise SourceError(
            f"the file ends in the middle of row {grid[-1][0]} ({len(grid[-1][1])} of "
            f"{len(grid[-2][1])} fields): it looks truncated",
            location=_where(source_name, name, "", grid[-1][0]),
            hint="copy or export the file again; a complete export ends with a whole row")
    return _table_from_grid(grid, source_name=source_name, name=name, sheet="",
                            known_headers=known_headers, header_row=header_row,
                            meta={**meta, "encoding": used, "sheet": ""})


def _json_cell(value):
    if isinstance(value, str):
        return normalize_text(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def read_json(data: bytes, *, name: str, source_name: str, encoding: str = "auto",
              meta: dict) -> RawTable:
    """A list of objects, or {"records"|"data"|"items": [...]}; row = 1-based record number."""
    where = _where(source_name, name)
    text, used = decode_text(data, encoding, where)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(f"not valid JSON: {error.msg} at line {error.lineno} column "
                          f"{error.colno}", location=where,
                          hint="check the URL returns the data list, or fetch the file again")
    records = document
    if isinstance(document, dict):
        records = next((document[key] for key in ("records", "data", "items")
                        if isinstance(document.get(key), list)), None)
    if not isinstance(records, list):
        raise SourceError("JSON must be a list of records or an object with a records, data "
                          "or items list", location=where,
                          hint="point the config at the endpoint that returns the list")
    headers: dict[str, None] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise SourceError(f"record {number} is a {type(record).__name__}, not an object",
                              location=_where(source_name, name, "", number),
                              hint="every record must be an object of field: value")
        headers.update(dict.fromkeys(str(key).strip() for key in record))
    names = list(headers)
    rows = []
    for number, record in enumerate(records, start=1):
        cleaned = {str(key).strip(): value for key, value in record.items()}
        cells = [_json_cell(cleaned.get(header)) for header in names]
        if any(cell is not None for cell in cells):
            rows.append((number, cells))
    return RawTable(source=source_name, file=name, sheet="", headers=names, rows=rows,
                    meta={**meta, "encoding": used, "sheet": ""})


# --- entry points -------------------------------------------------------------------------

def read_bytes(data: bytes, *, name: str, source_name: str, fmt: str = "auto", sheet: str = "",
               encoding: str = "auto", header_row: int | None = None,
               known_headers=frozenset()) -> RawTable:
    """Parse raw bytes of any supported format; every failure is a SourceError naming the file."""
    found = detect_format(data, name, fmt, source_name=source_name)
    meta = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "format": found,
            "encoding": "", "sheet": ""}
    if found in SPREADSHEET_FORMATS:
        return read_spreadsheet(data, name=name, source_name=source_name, fmt=found, sheet=sheet,
                                known_headers=known_headers, header_row=header_row, meta=meta)
    if found == "json":
        return read_json(data, name=name, source_name=source_name, encoding=encoding, meta=meta)
    return read_csv(data, name=name, source_name=source_name, encoding=encoding,
                    known_headers=known_headers, header_row=header_row, meta=meta)


def _read_file(source, config, key: str) -> bytes:
    path = source.path
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"file not found: {path}", location=Location(source=source.name),
                          hint=f"put the export there or fix {key}.path in {config.path.name}")
    except (IsADirectoryError, PermissionError) as error:
        raise SourceError(f"cannot read {path}: {error.strerror}",
                          location=Location(source=source.name),
                          hint=f"check {key}.path in {config.path.name}")


def _adapter_table(source, data: bytes, name: str, encoding: str) -> RawTable:
    table = adapters.to_raw_table(source.kind, data, name=name, source_name=source.name,
                                  encoding=None if encoding == "auto" else encoding,
                                  unit_fallback=source.unit_fallback)
    table.meta = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
                  "format": source.kind, "encoding": "", "sheet": "", **(table.meta or {})}
    return table


def read_source(source, config) -> list[RawTable]:
    """Read one configured source (file or URL) into its raw table(s)."""
    known = set(config.columns.get(source.table, {})) | set(source.columns)
    key = config.source_key(source)
    if source.kind not in ("file", "http") and source.path is not None:
        # A feed adapter reading a saved export: the file's bytes, as a download would give.
        data = _read_file(source, config, key)
        return [_adapter_table(source, data, source.path.name, source.encoding)]
    if source.kind == "file":
        path = source.path
        data = _read_file(source, config, key)
        table = read_bytes(data, name=path.name, source_name=source.name, fmt=source.format,
                           sheet=source.sheet, encoding=source.encoding,
                           header_row=source.header_row, known_headers=known)
        return [table]

    def parse(data: bytes, name: str, fetched: dict) -> RawTable:
        # The configured encoding wins; otherwise the charset the server declared, then detection.
        encoding = source.encoding if source.encoding != "auto" else \
            fetched.get("encoding") or "auto"
        if source.kind == "http":
            return read_bytes(data, name=name, source_name=source.name,
                              fmt=source.format, sheet=source.sheet,
                              encoding=encoding, header_row=source.header_row,
                              known_headers=known)
        return _adapter_table(source, data, name, encoding)

    # One request, or one per page (paging.read); rows, errors and sources.json name the URL
    # without the credentials it may carry.
    table, fetched = paging.read(source, config.work_dir / "http-cache", parse)
    fetched = dict(fetched or {})
    # Validators only, never the HTTP status: a revalidated, unchanged source (304) must give
    # the same sources.json, and so the same snapshot id, as the first download (200).
    table.meta["fetched"] = {item: fetched.get(item) for item in ("etag", "last_modified")}
    return [table]

"""Turn Open311 GeoReport v2 (JSON, XML) and 311 CSV exports into raw tables of canonical fields.

Each adapter emits canonical field names as headers (schema.DEFAULT_COLUMNS maps every
canonical name to itself), so the same column mapping and validation serve these feeds.
Dates become ISO text "YYYY-MM-DD" taken from the local date as written in the feed: time
zones are not converted, because a request logged at 23:30 local time belongs to that day
for the people who logged it. A date the adapter cannot read is passed on as written, so
validation reports it against its row instead of the whole source failing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import xml.etree.ElementTree as ElementTree
from xml.parsers import expat

from etl.errors import Location, SourceError
from etl.read.table import RawTable


# Canonical field <- Open311 GeoReport v2 field.  area is the zipcode only, never the
# address: that is often the requester's own house, personal data that must not be published
# (nor even extracted). completed_on is filled only for closed requests (updated_datetime also
# moves on edits).
OPEN311_COLUMNS = {
    "issue_id": "service_request_id",
    "description": "description",
    "category": "service_name",
    "area": "zipcode",
    "unit": "agency_responsible",
    "identified_on": "requested_datetime",
    "deadline": "expected_datetime",
    "status": "status",
    "completed_on": "updated_datetime",
    "result": "status_notes",
}

# Canonical field <- 311 open-data CSV header (NYC spelling; matched ignoring case, spaces
# and underscores, so the Socrata API spelling "unique_key" works too).
CSV311_COLUMNS = {
    "issue_id": "Unique Key",
    "title": "Descriptor",
    "description": "Complaint Type",
    "category": "Complaint Type",
    "area": "Borough",
    "unit": "Agency",
    "identified_on": "Created Date",
    "deadline": "Due Date",
    "status": "Status",
    "completed_on": "Closed Date",
    "result": "Resolution Description",
}

ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")
US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s.*)?$")


def to_raw_table(kind: str, data: bytes, *, name: str, source_name: str,
                 encoding: str | None = None, unit_fallback: str = "") -> RawTable:
    """Parse one downloaded body (or saved export) of an adapter kind; name is its URL or file.

    unit_fallback: the unit of a request that names none (`service_name`: its service or
    complaint type; other text: that unit); empty leaves it missing, so validation rejects it.
    """
    adapter = ADAPTERS.get(kind)
    if adapter is None:
        raise SourceError(f"no adapter for kind {kind!r} (adapters: {', '.join(KINDS)})",
                          location=Location(source=source_name, file=name),
                          hint="set kind to one of the adapters, or to http for generic JSON/CSV")
    table = adapter(data, name=name, source_name=source_name, encoding=encoding)
    if unit_fallback:
        _fill_unit(table, unit_fallback)
    return table


UNIT_FROM_SERVICE = "service_name"


def _fill_unit(table: RawTable, fallback: str) -> None:
    """Give each row without a unit the fallback; counted in meta, since it is a guess."""
    unit, category = table.headers.index("unit"), table.headers.index("category")
    filled = 0
    for _number, cells in table.rows:
        if cells[unit] is None:
            cells[unit] = cells[category] if fallback == UNIT_FROM_SERVICE else fallback
            filled += cells[unit] is not None
    table.meta["unit_fallback"] = {"rule": fallback, "rows": filled}


def _fail(message: str, name: str, source_name: str, row: int | None = None,
          hint: str = "") -> SourceError:
    return SourceError(message, location=Location(source=source_name, file=name, row=row),
                       hint=hint or "open the URL in a browser and check that it serves this "
                       "feed; if the server is broken, wait for it to be fixed before publishing")


def iso_date(text: str | None) -> str | None:
    """ISO "YYYY-MM-DD" of the local date as written in an ISO 8601 or US (MM/DD/YYYY) stamp."""
    if text is None:
        return None
    for pattern, order in ((ISO_DATE, (1, 2, 3)), (US_DATE, (3, 1, 2))):
        match = pattern.match(text)
        if match:
            year, month, day = (int(match.group(index)) for index in order)
            try:
                return dt.date(year, month, day).isoformat()
            except ValueError:
                return text
    return text


# --- Open311 ---------------------------------------------------------------------------------

def _open311_table(records: list[dict], kind: str, name: str, source_name: str) -> RawTable:
    headers = list(OPEN311_COLUMNS)
    rows = []
    for number, record in enumerate(records, start=1):
        status = record.get("status")
        closed = status is not None and status.strip().lower() == "closed"
        cells = {
            "issue_id": record.get("service_request_id"),
            # GeoReport makes description optional; the service name is then the best summary.
            "description": record.get("description") or record.get("service_name"),
            "category": record.get("service_name"),
            "area": record.get("zipcode"),
            "unit": record.get("agency_responsible"),
            "identified_on": iso_date(record.get("requested_datetime")),
            "deadline": iso_date(record.get("expected_datetime")),
            "status": status,
            "completed_on": iso_date(record.get("updated_datetime")) if closed else None,
            "result": record.get("status_notes"),
        }
        rows.append((number, [cells[header] for header in headers]))
    meta = {"format": kind, "records": len(rows), "source_columns": dict(OPEN311_COLUMNS),
            "dates": "local date as written, time zone not converted"}
    return RawTable(source=source_name, file=name, sheet="", headers=headers, rows=rows,
                    meta=meta)


def _scalar(value, field: str, number: int, name: str, source_name: str) -> str | None:
    """A JSON value as stripped text, so JSON and XML of the same feed give equal cells."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    raise _fail(f"record {number}: field {field!r} is a nested {type(value).__name__}, "
                "expected text or a number", name, source_name, number)


def _open311_json_records(data: bytes, name: str, source_name: str) -> list[dict]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(f"not UTF-8 (Open311 JSON must be): bad byte at offset {exc.start}",
                    name, source_name)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        record = _failing_json_record(text)
        where = f" in record {record}" if record else ""
        raise _fail(f"not valid JSON{where} (line {exc.lineno}, column {exc.colno}): "
                    f"{exc.msg}", name, source_name, record)
    if isinstance(parsed, dict) and isinstance(parsed.get("service_requests"), list):
        parsed = parsed["service_requests"]  # some servers wrap the list; the spec does not
    if not isinstance(parsed, list):
        raise _fail(f"expected a JSON list of service requests, got a {type(parsed).__name__}",
                    name, source_name)
    _raise_open311_errors(parsed, name, source_name)
    records = []
    for number, item in enumerate(parsed, start=1):
        if not isinstance(item, dict):
            raise _fail(f"record {number} is a {type(item).__name__}, expected an object",
                        name, source_name, number)
        records.append({field: _scalar(item.get(field), field, number, name, source_name)
                        for field in _OPEN311_FIELDS})
    return records


_OPEN311_FIELDS = ("service_request_id", "status", "status_notes", "service_name",
                   "description", "agency_responsible", "requested_datetime",
                   "updated_datetime", "expected_datetime", "zipcode")


def _raise_open311_errors(items: list, name: str, source_name: str) -> None:
    """GeoReport v2 reports failures as a list of {code, description}; name them plainly."""
    if not items or not all(isinstance(item, dict) for item in items):
        return
    if all("code" in item and "service_request_id" not in item for item in items):
        described = "; ".join(f"{item.get('code')} {item.get('description', '')}".strip()
                              for item in items)
        raise _fail(f"the Open311 server answered with an error: {described}", name,
                    source_name, hint="check the URL parameters and the api_key in the config")


def _failing_json_record(text: str) -> int | None:
    """1-based number of the array element where JSON parsing fails, to point at the record."""
    decoder = json.JSONDecoder()
    length = len(text)
    index = _skip_space(text, 0)
    if index >= length or text[index] != "[":
        return None
    index += 1
    number = 0
    while True:
        index = _skip_space(text, index)
        if index < length and text[index] == "]" and number == 0:
            return None
        number += 1
        try:
            _, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            return number
        index = _skip_space(text, index)
        if index < length and text[index] == ",":
            index += 1
            continue
        return number if index >= length or text[index] != "]" else None


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index


class _Refused(Exception):
    """The XML declares a DOCTYPE or entities, which a data feed never needs."""


def _check_xml_safe(data: bytes, name: str, source_name: str) -> None:
    """Parse once with expat refusing DOCTYPE and entity declarations (billion laughs, XXE)."""
    parser = expat.ParserCreate()
    requests_seen = [0]
    depth = [0]

    def refuse(*_args):
        raise _Refused()

    def start(tag, _attributes):
        depth[0] += 1
        if depth[0] == 2 and _local(tag) == "request":
            requests_seen[0] += 1

    def end(_tag):
        depth[0] -= 1

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _Refused:
        raise _fail("the XML contains a DOCTYPE or ENTITY declaration, which is refused: "
                    "entities can expand without limit or read local files", name, source_name,
                    hint="ask the publisher for plain GeoReport v2 XML without a DOCTYPE")
    except expat.ExpatError as exc:
        record = requests_seen[0] or None
        where = f" in record {record}" if record else ""
        raise _fail(f"not well-formed XML{where} (line {exc.lineno}, column {exc.offset + 1}): "
                    f"{expat.ErrorString(exc.code)}", name, source_name, record)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _open311_xml_records(data: bytes, name: str, source_name: str) -> list[dict]:
    _check_xml_safe(data, name, source_name)
    # Safe now: with no DOCTYPE there is nothing for ElementTree to expand.
    root = ElementTree.fromstring(data)
    if _local(root.tag) == "errors":
        described = "; ".join(
            " ".join(filter(None, ((child.findtext("code") or "").strip(),
                                   (child.findtext("description") or "").strip())))
            for child in root)
        raise _fail(f"the Open311 server answered with an error: {described}", name,
                    source_name, hint="check the URL parameters and the api_key in the config")
    if _local(root.tag) != "service_requests":
        raise _fail(f"expected <service_requests> as the XML root, found <{_local(root.tag)}>",
                    name, source_name)
    records = []
    for element in root:
        if _local(element.tag) != "request":
            continue
        fields = {_local(child.tag): (child.text or "").strip() or None for child in element}
        records.append({field: fields.get(field) for field in _OPEN311_FIELDS})
    return records


# --- 311 CSV ---------------------------------------------------------------------------------

def _header_key(header: str) -> str:
    return re.sub(r"[\s_]+", " ", header.strip().lower())


def _csv311_table(data: bytes, name: str, source_name: str, encoding: str) -> RawTable:
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = data[:getattr(exc, "start", 0)].count(b"\n") + 1
        raise _fail(f"cannot decode the CSV as {encoding} near line {line}: {exc}", name,
                    source_name, hint="set encoding for this source in the config")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    row_number = 1
    try:
        header = next(reader, None)
        if header is None:
            raise _fail("the CSV is empty", name, source_name)
        positions = {_header_key(cell): index for index, cell in enumerate(header)}
        if _header_key("Unique Key") not in positions:
            raise _fail("the CSV has no 'Unique Key' column; found "
                        + ", ".join(repr(cell) for cell in header[:12]), name, source_name, 1,
                        hint="use a 311 open-data export, or kind: http with a columns mapping")
        rows = []
        for values in reader:
            row_number += 1
            if not any(value.strip() for value in values):
                continue  # blank lines carry no record
            if len(values) != len(header):
                raise _fail(f"{len(values)} fields but the header has "
                            f"{len(header)}; the export may be cut short or badly quoted",
                            name, source_name, row_number)
            rows.append((row_number, _csv311_cells(values, positions)))
    except csv.Error as exc:
        raise _fail(f"malformed CSV: {exc}", name, source_name,
                    row_number + 1)
    meta = {"format": "csv311", "records": len(rows), "source_columns": dict(CSV311_COLUMNS),
            "dates": "local date as written, time zone not converted"}
    return RawTable(source=source_name, file=name, sheet="", headers=list(CSV311_COLUMNS),
                    rows=rows, meta=meta, header_row=1)


def _borough(value: str | None) -> str | None:
    # NYC writes "Unspecified" when it does not know the borough; the ZIP code says more.
    return None if value is None or value.lower() == "unspecified" else value


def _csv311_cells(values: list[str], positions: dict[str, int]) -> list:
    def cell(header: str) -> str | None:
        index = positions.get(_header_key(header))
        return (values[index].strip() or None) if index is not None else None

    complaint, descriptor = cell("Complaint Type"), cell("Descriptor")
    cells = {
        "issue_id": cell("Unique Key"),
        "title": descriptor,
        "description": " - ".join(part for part in (complaint, descriptor) if part) or None,
        "category": complaint,
        "area": _borough(cell("Borough")) or cell("Incident Zip"),
        "unit": cell("Agency"),
        "identified_on": iso_date(cell("Created Date")),
        "deadline": iso_date(cell("Due Date")),
        "status": cell("Status"),
        "completed_on": iso_date(cell("Closed Date")),
        "result": cell("Resolution Description"),
    }
    return [cells[header] for header in CSV311_COLUMNS]


# The adapter registry: a new feed kind is one entry here plus its parser. The config's
# `sources[].kind` choices and the CONFIG.md reference are read from it.
ADAPTERS = {
    "open311": lambda data, *, name, source_name, encoding: _open311_table(
        _open311_json_records(data, name, source_name), "open311", name, source_name),
    "open311_xml": lambda data, *, name, source_name, encoding: _open311_table(
        _open311_xml_records(data, name, source_name), "open311_xml", name, source_name),
    "csv311": lambda data, *, name, source_name, encoding: _csv311_table(
        data, name, source_name, encoding or "utf-8-sig"),
}
KINDS = tuple(ADAPTERS)

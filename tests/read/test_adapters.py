"""Open311 JSON/XML and 311 CSV adapters on the synthetic fixtures in tests/cases/http/."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl import schema
from etl.read import adapters
from etl.errors import SourceError
from etl.read.sources import RawTable

CASES = Path(__file__).resolve().parents[1] / "cases" / "http"
URL = "https://311.riverton.example/open311/v2/requests.json"


def table(kind: str, data: bytes, name: str = URL) -> RawTable:
    return adapters.to_raw_table(kind, data, name=name, source_name="riverton")


def records(raw: RawTable) -> dict[str, dict]:
    """Rows keyed by issue_id, as {header: value} with the row number under "_row"."""
    result = {}
    for number, values in raw.rows:
        cells = dict(zip(raw.headers, values, strict=True))
        result[cells["issue_id"]] = {"_row": number, **cells}
    return result


@pytest.fixture(scope="module")
def open311_json() -> RawTable:
    return table("open311", (CASES / "open311_requests.json").read_bytes())


@pytest.fixture(scope="module")
def csv311() -> RawTable:
    return table("csv311", (CASES / "nyc311_export.csv").read_bytes(),
                 name="https://data.example/311.csv")


# --- Open311 -------------------------------------------------------------------------------

def test_open311_headers_are_canonical_fields(open311_json):
    assert isinstance(open311_json, RawTable)
    assert open311_json.source == "riverton" and open311_json.file == URL
    assert open311_json.sheet == ""
    known = schema.DEFAULT_COLUMNS["issues"]
    assert all(known.get(header) == header for header in open311_json.headers)
    assert [number for number, _ in open311_json.rows] == list(range(1, 11))
    assert open311_json.meta["records"] == 10


def test_open311_closed_request(open311_json):
    assert records(open311_json)["638344"] == {
        "_row": 1,
        "issue_id": "638344",  # a JSON number in the feed, text here as in the XML
        "description": "Deep pothole in the right lane near the bus stop",
        "category": "Pothole",
        "area": "40501",  # the zipcode, never the address "1200 Elm St"
        "unit": "Department of Public Works",
        "identified_on": "2024-03-01",
        "deadline": "2024-03-08",
        "status": "closed",
        "completed_on": "2024-03-04",
        "result": "Pothole filled with hot asphalt; crew 4.",
    }


def test_open311_open_request_uses_local_date_and_zipcode(open311_json):
    row = records(open311_json)["638345"]
    # 23:30 at -05:00 is already 2024-03-02 in UTC; the local date as written is kept.
    assert row["identified_on"] == "2024-03-01"
    assert row["area"] == "40502"
    assert row["status"] == "open"
    assert row["completed_on"] is None  # updated_datetime of an open request is no completion
    assert row["result"] is None


def test_open311_never_reads_the_address(open311_json):
    # A request's address is often the requester's home: personal data, kept out of every cell.
    assert "address" not in adapters.OPEN311_COLUMNS.values()
    cells = {cell for _, values in open311_json.rows for cell in values}
    assert not {"1200 Elm St", "88 Birch Ln", "Oak Ave & 3rd St"} & cells
    data = b'[{"service_request_id": "1", "status": "open", "address": "12 Home Rd"}]'
    for raw in (table("open311", data),
                table("open311_xml", b"<service_requests><request><service_request_id>1"
                                     b"</service_request_id><status>open</status><address>12 Home"
                                     b" Rd</address></request></service_requests>")):
        row = records(raw)["1"]
        assert row["area"] is None and "12 Home Rd" not in row.values()


def test_open311_zulu_dates_and_missing_deadline(open311_json):
    rows = records(open311_json)
    assert rows["638346"]["identified_on"] == "2024-03-02"
    assert rows["638346"]["completed_on"] == "2024-03-05"
    assert rows["638346"]["result"] == "Graffiti removed & wall repainted."
    assert rows["638348"]["deadline"] is None
    assert rows["638349"]["description"] == "Raised slab outside the Café Verde, trip hazard"


def test_open311_xml_and_json_give_identical_tables(open311_json):
    from_xml = table("open311_xml", (CASES / "open311_requests.xml").read_bytes())
    assert from_xml.headers == open311_json.headers
    assert from_xml.rows == open311_json.rows


def test_statuses_of_the_feeds_are_in_the_vocabulary(open311_json, csv311):
    words = schema.DEFAULT_STATUS_WORDS
    for raw in (open311_json, csv311):
        index = raw.headers.index("status")
        # The way validate looks a word up: both sides through schema.status_key.
        vocabulary = {schema.status_key(word): status for word, status in words.items()}
        for _, values in raw.rows:
            word = values[index]
            if word != "Unspecified":
                assert vocabulary.get(schema.status_key(word)), word


def test_open311_dates_that_cannot_be_read_pass_through_for_validation():
    data = b'[{"service_request_id": "1", "status": "open", "requested_datetime": "yesterday",' \
           b' "expected_datetime": "2024-02-30T10:00:00Z"}]'
    row = records(table("open311", data))["1"]
    assert row["identified_on"] == "yesterday"
    assert row["deadline"] == "2024-02-30T10:00:00Z"


def test_open311_json_wrapped_in_service_requests_is_accepted():
    data = b'{"service_requests": [{"service_request_id": 7, "status": "open"}]}'
    assert records(table("open311", data))["7"]["status"] == "open"


def test_malformed_json_names_the_url_and_the_record():
    data = b'[{"service_request_id": "1"},\n {"service_request_id": "2"},\n' \
           b' {"service_request_id": "3", "status": open}]'
    with pytest.raises(SourceError) as caught:
        table("open311", data)
    message = str(caught.value)
    assert URL in message
    assert "not valid JSON in record 3 (line 3," in message
    assert caught.value.location.row == 3


def test_json_record_that_is_not_an_object():
    with pytest.raises(SourceError, match="record 2 is a list, expected an object"):
        table("open311", b'[{"service_request_id": "1"}, ["x"]]')


def test_open311_error_answer_is_reported():
    data = b'[{"code": 403, "description": "Invalid api_key"}]'
    with pytest.raises(SourceError, match="answered with an error: 403 Invalid api_key"):
        table("open311", data)
    xml = b"<errors><error><code>404</code><description>Not found</description></error></errors>"
    with pytest.raises(SourceError, match="answered with an error: 404 Not found"):
        table("open311_xml", xml)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<service_requests><request><service_request_id>&lol3;</service_request_id></request>
</service_requests>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<service_requests><request><description>&secret;</description></request></service_requests>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY,
                                  b'<!DOCTYPE service_requests SYSTEM "x.dtd"><service_requests/>'])
def test_xml_doctype_and_entities_are_refused(data):
    with pytest.raises(SourceError) as caught:
        table("open311_xml", data, name="https://311.riverton.example/requests.xml")
    message = str(caught.value)
    assert "DOCTYPE or ENTITY declaration, which is refused" in message
    assert "https://311.riverton.example/requests.xml" in message


def test_malformed_xml_names_the_record():
    data = (b"<service_requests><request><service_request_id>1</service_request_id></request>"
            b"<request><service_request_id>2</service_request_id></request>"
            b"<request><status>open</stat></request></service_requests>")
    with pytest.raises(SourceError) as caught:
        table("open311_xml", data)
    assert "not well-formed XML in record 3 (line 1," in str(caught.value)
    assert caught.value.location.row == 3


def test_xml_with_another_root_is_refused():
    with pytest.raises(SourceError, match="expected <service_requests>.*found <html>"):
        table("open311_xml", b"<html><body>maintenance</body></html>")


# --- 311 CSV -------------------------------------------------------------------------------

def test_csv311_headers_and_row_numbers(csv311):
    assert csv311.headers == ["issue_id", "title", "description", "category", "area", "unit",
                              "identified_on", "deadline", "status", "completed_on", "result"]
    # Row 1 is the header; a quoted line break inside row 8 does not shift later rows.
    assert [number for number, _ in csv311.rows] == list(range(2, 12))
    assert csv311.header_row == 1


def test_csv311_closed_complaint(csv311):
    assert records(csv311)["59893012"] == {
        "_row": 2,
        "issue_id": "59893012",
        "title": "Trash",
        "description": "Dirty Condition - Trash",
        "category": "Dirty Condition",
        "area": "BROOKLYN",
        "unit": "DSNY",
        "identified_on": "2024-01-05",
        "deadline": "2024-01-12",
        "status": "Closed",
        "completed_on": "2024-01-08",
        "result": "The Department of Sanitation cleaned the location, and the condition was "
                  "corrected.",
    }


def test_csv311_open_complaint_late_at_night(csv311):
    row = records(csv311)["59893013"]
    assert row["identified_on"] == "2024-01-05"  # 11:58:30 PM stays on the 5th
    assert row["deadline"] == "2024-01-06"
    assert row["status"] == "In Progress"
    assert row["completed_on"] is None and row["result"] is None
    assert records(csv311)["59893015"]["deadline"] is None


def test_csv311_unspecified_borough_falls_back_to_zip(csv311):
    rows = records(csv311)
    assert rows["59893021"]["area"] == "11432"
    assert rows["59893018"]["area"] is None
    assert rows["59893018"]["result"].endswith("\nNo further action is needed.")


def test_csv311_socrata_api_spelling():
    data = (b"unique_key,created_date,closed_date,agency,complaint_type,descriptor,status,"
            b"due_date,resolution_description,borough\n"
            b"1,2024-01-05T09:15:00.000,,NYPD,Noise,Loud Music,Open,,,QUEENS\n")
    row = records(table("csv311", data))["1"]
    assert row["identified_on"] == "2024-01-05"
    assert row["description"] == "Noise - Loud Music" and row["area"] == "QUEENS"


def test_csv311_without_unique_key_is_refused():
    with pytest.raises(SourceError, match="no 'Unique Key' column; found 'id', 'status'"):
        table("csv311", b"id,status\n1,Open\n")


def test_csv311_short_row_names_the_row():
    data = (CASES / "nyc311_export.csv").read_bytes()
    cut = data[:data.rindex(b"\n", 0, len(data) - 1)]  # drop the last line ...
    cut = cut[:-40]  # ... and cut the one before it in the middle
    with pytest.raises(SourceError) as caught:
        table("csv311", cut, name="https://data.example/311.csv")
    message = str(caught.value)
    assert "https://data.example/311.csv" in message
    assert "row 10: 18 fields but the header has 21" in message


def test_csv311_bad_quoting_names_the_row():
    data = b'Unique Key,Status\n1,Open\n2,"Clo"sed\n'
    with pytest.raises(SourceError, match="row 3: malformed CSV") as caught:
        table("csv311", data)
    assert caught.value.location.row == 3


def test_csv311_not_utf8():
    with pytest.raises(SourceError, match="cannot decode the CSV as utf-8-sig near line 2"):
        table("csv311", "Unique Key,Status\n1,已完成\n".encode("gbk"))
    raw = adapters.to_raw_table("csv311", "Unique Key,Status\n1,已完成\n".encode("gbk"),
                                name="x", source_name="s", encoding="gb18030")
    assert raw.rows == [(2, ["1"] + [None] * 7 + ["已完成", None, None])]


def test_unknown_kind():
    with pytest.raises(SourceError, match="no adapter for kind 'geojson'"):
        table("geojson", b"{}")


def test_iso_date():
    assert adapters.iso_date("2024-03-01T23:30:00-05:00") == "2024-03-01"
    assert adapters.iso_date("01/05/2024 11:58:30 PM") == "2024-01-05"
    assert adapters.iso_date("1/5/2024") == "2024-01-05"
    assert adapters.iso_date("13/45/2024 01:00:00 AM") == "13/45/2024 01:00:00 AM"
    assert adapters.iso_date(None) is None


# --- saved exports (path) and the unit fallback -------------------------------------------------

def _saved_feed_config(write_config, tmp_path, **source):
    import shutil
    from etl.config import load_config
    shutil.copy(CASES / source.pop("fixture"), tmp_path / "feed")
    path = write_config(sources=[{"name": "riverton", "path": "feed", **source}])
    return load_config(path)


@pytest.mark.parametrize("kind, fixture", [("open311", "open311_requests.json"),
                                           ("open311_xml", "open311_requests.xml"),
                                           ("csv311", "nyc311_export.csv")])
def test_every_adapter_reads_a_saved_export_by_path(write_config, tmp_path, kind, fixture):
    from etl.read.sources import read_source
    config = _saved_feed_config(write_config, tmp_path, kind=kind, fixture=fixture)
    (raw,) = read_source(config.sources[0], config)
    from_bytes = table(kind, (CASES / fixture).read_bytes(), name="feed")
    assert (raw.headers, raw.rows, raw.file) == (from_bytes.headers, from_bytes.rows, "feed")
    assert raw.meta["format"] == kind and len(raw.meta["sha256"]) == 64


@pytest.mark.parametrize("given, problem", [
    ({"path": "feed", "url": "https://311.example/requests.json"}, "not both"),
    ({}, "not neither")])
def test_a_feed_adapter_takes_a_path_or_a_url(write_config, given, problem):
    from etl.config import load_config
    from etl.errors import ConfigError
    path = write_config(sources=[{"name": "riverton", "kind": "open311", **given}])
    with pytest.raises(ConfigError, match=f"sources\\[0\\].path: give either path .*{problem}"):
        load_config(path)


def _without_agency() -> bytes:
    import json
    records = json.loads((CASES / "open311_requests.json").read_text(encoding="utf-8"))
    for record in records:
        record.pop("agency_responsible", None)
    return json.dumps(records).encode("utf-8")


@pytest.mark.parametrize("fallback", ["", "service_name", "311 Call Center"])
def test_open311_without_agency_responsible_gets_the_configured_unit(fallback):
    raw = adapters.to_raw_table("open311", _without_agency(), name=URL, source_name="sf",
                                unit_fallback=fallback)
    rows = records(raw)
    expected = {"": None, "service_name": "Pothole", "311 Call Center": "311 Call Center"}
    assert rows["638344"]["unit"] == expected[fallback]
    assert all(row["unit"] is not None for row in rows.values()) == bool(fallback)
    if fallback:
        assert raw.meta["unit_fallback"] == {"rule": fallback, "rows": len(rows)}


def test_unit_fallback_never_replaces_a_named_agency():
    raw = adapters.to_raw_table("open311", (CASES / "open311_requests.json").read_bytes(),
                                name=URL, source_name="riverton", unit_fallback="service_name")
    assert records(raw)["638344"]["unit"] == "Department of Public Works"


def test_unit_fallback_from_the_config_lets_such_a_feed_publish_its_rows(write_config, tmp_path):
    import json
    from etl import extract, validate
    from etl.config import load_config
    from etl.errors import ValidationFailed
    (tmp_path / "feed").write_bytes(_without_agency())
    source = {"name": "sf", "kind": "open311", "path": "feed"}
    config = load_config(write_config(sources=[source], as_of="2024-04-01"))
    extract.run(config)
    with pytest.raises(ValidationFailed, match="unit"):  # without it, every row lacks a unit
        validate.run(config)
    config = load_config(write_config(sources=[{**source, "unit_fallback": "service_name"}],
                                      as_of="2024-04-01"))
    extract.run(config)
    report = validate.run(config) / "report.json"
    assert json.loads(report.read_text(encoding="utf-8"))["rows"]["issues"] == 10

"""Sources: encodings, title rows, merged cells, dates, broken files, each error naming the file."""

import codecs
import datetime as dt
import io
import json
import time
import zipfile

import openpyxl
import pytest

from etl import schema
from etl.config import load_config
from etl.errors import Location, SourceError
from etl.read.sources import decode_text, header_key, read_bytes, read_source, sniff_delimiter

KNOWN = frozenset(schema.DEFAULT_COLUMNS["issues"])
TITLE = "清河县作风问题整改清单"
HEADER = ["序号", "问题描述", "责任单位", "整改时限", "满意度"]


def csv_text(rows, delimiter=","):
    return "\n".join(delimiter.join(row) for row in rows) + "\n"


def workbook_bytes(build) -> bytes:
    """An xlsx made by `build(workbook)`, returned as bytes."""
    book = openpyxl.Workbook()
    build(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def issue_sheet(book):
    sheet = book.active
    sheet.title = "整改清单"
    sheet["A1"] = TITLE
    sheet.merge_cells("A1:E1")
    sheet.append(HEADER)
    sheet.append([1, "会议多", "县住建局", dt.date(2014, 6, 30), 92.0])
    sheet.append([2, "文件多", None, dt.datetime(2014, 7, 1, 0, 0), 85.5])
    sheet.append([3, "检查多", None, dt.datetime(2014, 7, 2, 9, 30), None])
    sheet.merge_cells("C3:C5")  # 责任单位 written once for three rows
    sheet.append([None, None, None, None, None])
    sheet.append([4, "  窗口服务差\r\n排队久 ", "县政务中心", "2014年6月30日", "80分"])


def read(data, name="问题整改清单.csv", **options):
    return read_bytes(data, name=name, source_name="issues", known_headers=KNOWN, **options)


# --- CSV encodings ------------------------------------------------------------------------

GBK_ROWS = [[TITLE, "", "", "", ""], HEADER, ["1", "会议多", "县住建局", "2014年6月30日", "92"],
            ["2", "文件多", "县交通局", "2014.6.30", ""]]


def test_gbk_csv_with_title_row():
    table = read(csv_text(GBK_ROWS).encode("gbk"))
    assert table.meta["encoding"] == "gb18030"
    assert table.headers == HEADER
    assert table.header_row == 2
    assert table.rows == [(3, ["1", "会议多", "县住建局", "2014年6月30日", "92"]),
                          (4, ["2", "文件多", "县交通局", "2014.6.30", None])]
    assert table.sheet == "" and table.file == "问题整改清单.csv"


@pytest.mark.parametrize("encoded, expected", [
    (codecs.BOM_UTF8 + csv_text(GBK_ROWS).encode("utf-8"), "utf-8-sig"),
    (csv_text(GBK_ROWS).encode("utf-8"), "utf-8"),
    (codecs.BOM_UTF16_LE + csv_text(GBK_ROWS, "\t").encode("utf-16-le"), "utf-16-le"),
    (codecs.BOM_UTF16_BE + csv_text(GBK_ROWS, "\t").encode("utf-16-be"), "utf-16-be"),
])
def test_csv_encodings(encoded, expected):
    table = read(encoded)
    assert table.meta["encoding"] == expected
    assert table.headers == HEADER  # the BOM is not glued to the first header
    assert table.rows[0] == (3, ["1", "会议多", "县住建局", "2014年6月30日", "92"])


def test_undecodable_bytes_fail_loudly():
    data = csv_text([HEADER]).encode("utf-8") + b"1,\xff\xfe\xff,x\n"
    with pytest.raises(SourceError) as caught:
        read(data, name="台账.csv")
    text = str(caught.value)
    assert text.startswith("file 台账.csv, row 2: cannot decode as UTF-8 (bad byte at 58, line 2) "
                           "or GB18030 (bad byte at 54, line 1)")
    assert "save the file as UTF-8 CSV" in text


def test_configured_encoding_is_strict():
    data = csv_text(GBK_ROWS).encode("gbk")
    assert read(data, encoding="gbk").meta["encoding"] == "gbk"
    with pytest.raises(SourceError, match="not valid utf-8 at byte"):
        read(data, encoding="utf-8")
    with pytest.raises(SourceError, match="unknown encoding"):
        read(data, encoding="klingon")


def test_decode_text_prefers_utf8_over_gb18030():
    # Valid UTF-8 Chinese is also valid GB18030 byte soup; UTF-8 must win.
    assert decode_text("整改".encode("utf-8"), "auto", Location()) == ("整改", "utf-8")


@pytest.mark.parametrize("delimiter", [",", "\t", ";"])
def test_delimiter_sniffed(delimiter):
    text = csv_text([HEADER, ["1", "会议多, 文山会海", "县住建局", "2014-6-30", "92"]], delimiter)
    if delimiter == ",":
        text = text.replace("会议多, 文山会海", '"会议多, 文山会海"')
    assert sniff_delimiter(text) == delimiter
    assert read(text.encode()).rows[0][1][1] == "会议多, 文山会海"


def test_extra_csv_fields_name_the_row():
    # An unquoted comma splits one value in two: the last field would vanish unseen.
    with pytest.raises(SourceError) as caught:
        read("序号,问题描述,责任单位\n1,甲,县住建局\n2,路灯不亮,已修复,县交通局\n".encode())
    assert str(caught.value).startswith(
        "file 问题整改清单.csv, row 3: 4 fields but the header has 3 — an unquoted comma? the "
        "value '县交通局' is beyond the last column\n  what to do: put quotes around a value")
    # A footer note beside the table is no exception: it would be dropped the same way.
    with pytest.raises(SourceError, match="row 3: 4 fields but the header has 2"):
        read("序号,问题描述\n1,甲\n,,,填表人：张三\n".encode())
    # Empty trailing fields carry nothing and pass.
    assert read("序号,问题描述\n1,甲,,\n".encode()).rows == [(2, ["1", "甲"])]
    with pytest.raises(SourceError, match="no row has any content"):
        read(b",,\n,,\n")


def test_csv_value_under_an_empty_header_names_the_field():
    with pytest.raises(SourceError, match=r"row 2: a value in field 2, which has no header \('x'\)"):
        read("序号,,问题描述\n1,x,甲\n".encode())


def test_spreadsheet_value_in_a_column_without_header_names_the_column():
    def build(book):
        issue_sheet(book)
        book.active["G4"] = "备注：已督办"

    with pytest.raises(SourceError) as caught:
        read(workbook_bytes(build), name="问题整改清单.xlsx")
    assert str(caught.value).startswith(
        "file 问题整改清单.xlsx, sheet 整改清单, row 4: a value in column G, which has no header "
        "('备注：已督办')\n  what to do: give the column a header")


def test_column_letters():
    from etl.read.sources import column_letter
    assert [column_letter(i) for i in (0, 6, 25, 26, 51, 52, 701, 702)] == \
        ["A", "G", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_csv_rows_count_records_not_lines_and_skip_blank_rows():
    text = ('序号,问题描述,责任单位\n1,"第一行\r\n第二行",县住建局\n,,\n\n'
            '2,"a ""quoted"" word",县交通局\n')
    table = read(text.encode())
    assert table.rows == [(2, ["1", "第一行\n第二行", "县住建局"]),
                          (5, ["2", 'a "quoted" word', "县交通局"])]


# --- spreadsheets -------------------------------------------------------------------------

def test_xlsx_title_row_merged_cells_and_dates():
    table = read(workbook_bytes(issue_sheet), name="问题整改清单.xlsx")
    assert table.sheet == "整改清单" and table.meta["sheet"] == "整改清单"
    assert table.meta["format"] == "xlsx" and table.meta["encoding"] == ""
    assert table.header_row == 2
    assert table.headers == HEADER
    assert table.rows == [
        (3, [1, "会议多", "县住建局", "2014-06-30", 92]),
        (4, [2, "文件多", "县住建局", "2014-07-01", 85.5]),
        (5, [3, "检查多", "县住建局", "2014-07-02 09:30:00", None]),
        (7, [4, "窗口服务差\n排队久", "县政务中心", "2014年6月30日", "80分"]),
    ]


def test_xlsx_header_row_configured_and_not_found():
    data = workbook_bytes(issue_sheet)
    assert read(data, name="a.xlsx", header_row=2).headers == HEADER
    with pytest.raises(SourceError, match="header_row 40 is empty or beyond the last row"):
        read(data, name="a.xlsx", header_row=40)

    def unknown_headers(book):
        book.active.append(["甲", "乙"])
        book.active.append([1, 2])
    with pytest.raises(SourceError, match="no header row found in the first 10 rows"):
        read(workbook_bytes(unknown_headers), name="a.xlsx")


def test_sheet_choice():
    def build(book):
        book.active.title = "说明"  # left empty, as exports often are
        second = book.create_sheet("数据")
        second.append(HEADER)
        second.append([1, "会议多", "县住建局", "2014-6-30", 90])

    data = workbook_bytes(build)
    assert read(data, name="a.xlsx").sheet == "数据"
    assert read(data, name="a.xlsx", sheet="数据").rows == [
        (2, [1, "会议多", "县住建局", "2014-6-30", 90])]
    with pytest.raises(SourceError) as caught:
        read(data, name="a.xlsx", sheet="Sheet9")
    assert "no sheet named 'Sheet9'; the workbook has: '说明', '数据'" in str(caught.value)
    with pytest.raises(SourceError, match="sheet '说明' is empty"):
        read(data, name="a.xlsx", sheet="说明")


def test_hidden_sheet_is_not_chosen_first():
    def build(book):
        issue_sheet(book)
        lists = book.create_sheet("下拉选项", 0)
        lists.append(["序号", "责任单位"])
        lists.append([1, "县住建局"])
        lists.sheet_state = "hidden"

    assert read(workbook_bytes(build), name="a.xlsx").sheet == "整改清单"


def test_all_sheets_empty():
    with pytest.raises(SourceError, match=r"every sheet is empty \('Sheet'\)"):
        read(workbook_bytes(lambda book: None), name="空.xlsx")


# --- broken and disguised files -----------------------------------------------------------

HTML = b"<!DOCTYPE html>\n<html><head><title>login</title></head><body>please log in</body></html>"


@pytest.mark.parametrize("name", ["台账.csv", "清单.xlsx", "清单.xls"])
def test_html_instead_of_spreadsheet(name):
    with pytest.raises(SourceError) as caught:
        read(codecs.BOM_UTF8 + HTML, name=name)
    text = str(caught.value)
    assert text.startswith(f"file {name}: this looks like an HTML page, not a spreadsheet")
    assert "export the list again as .xlsx or .csv" in text


def test_truncated_xlsx():
    data = workbook_bytes(issue_sheet)
    with pytest.raises(SourceError, match="truncated or damaged") as caught:
        read(data[: len(data) // 2], name="清单.xlsx")
    assert "file 清单.xlsx" in str(caught.value)


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("清单.csv", "序号\n1\n")
    with pytest.raises(SourceError, match="a zip archive, not a workbook"):
        read(buffer.getvalue(), name="清单.xlsx")


@pytest.mark.parametrize("data", [b"", b"  \r\n", codecs.BOM_UTF8, codecs.BOM_UTF8 + b"\n"])
def test_empty_file(data):
    with pytest.raises(SourceError, match="^file 台账.csv: the file is empty"):
        read(data, name="台账.csv")


def test_text_named_xlsx_and_format_mismatch():
    with pytest.raises(SourceError, match="named as xlsx but holds plain text"):
        read(b"a,b\n1,2\n", name="x.xlsx")
    with pytest.raises(SourceError, match="the config says format csv but the content is xlsx"):
        read(workbook_bytes(issue_sheet), name="x.csv", fmt="csv")
    # A workbook saved under a .csv name is still a workbook when nobody insists otherwise.
    assert read(workbook_bytes(issue_sheet), name="x.csv").meta["format"] == "xlsx"


def test_csv_with_only_unknown_headers_fails_with_preview():
    with pytest.raises(SourceError, match=r"none names a known column .*row 1: 甲 \| 乙"):
        read("甲,乙\n1,2\n".encode())


# --- JSON ---------------------------------------------------------------------------------

def test_json_records():
    records = [{"序号": 1, "问题描述": " 会议多 "}, {"序号": 2.0, "责任单位": "县住建局", "extra": [1]},
               {}]
    for document in (records, {"records": records}, {"data": records}, {"items": records}):
        table = read(json.dumps(document, ensure_ascii=False).encode(), name="api.json")
        assert table.headers == ["序号", "问题描述", "责任单位", "extra"]
        assert table.rows == [(1, [1, "会议多", None, None]), (2, [2, None, "县住建局", "[1]"])]
        assert table.meta["format"] == "json"


@pytest.mark.parametrize("document, message", [
    ({"rows": []}, "must be a list of records"),
    ([1, 2], "record 1 is a int, not an object"),
])
def test_json_bad_shapes(document, message):
    with pytest.raises(SourceError, match=message):
        read(json.dumps(document).encode(), name="api.json")


def test_json_syntax_error():
    with pytest.raises(SourceError, match="not valid JSON"):
        read(b'[{"a": 1},', name="api.json")


# --- read_source --------------------------------------------------------------------------

def test_read_source_missing_file_names_path_and_key(config):
    with pytest.raises(SourceError) as caught:
        read_source(config.sources[1], config)
    text = str(caught.value)
    assert "file not found:" in text and text.endswith("fix sources[1].path in gongshi.yml")
    assert "sources/feedback.csv" in text


def test_read_source_uses_source_columns_to_find_header(write_config, tmp_path):
    config = load_config(write_config(sources=[{
        "name": "issues", "path": "sources/清单.csv", "columns": {"编号（新）": "issue_id",
                                                                  "问题内容": "description"}}]))
    (tmp_path / "sources" / "清单.csv").write_bytes(
        "标题,,\n编号(新),问题内容,备注\nA1,会议多,\n".encode("gbk"))
    [table] = read_source(config.sources[0], config)
    assert table.header_row == 2 and table.file == "清单.csv"
    assert table.rows == [(3, ["A1", "会议多", None])]


def test_header_key_ignores_width_and_space():
    assert header_key(" 编号（新） ") == header_key("编号(新)") == "编号(新)"
    assert header_key("整改\n时限") == header_key("整改时限")
    assert header_key("ISSUE_ID") == "issue_id"


# --- size ---------------------------------------------------------------------------------

ROWS_50K = 50_000


@pytest.mark.slow
def test_50k_row_csv_and_xlsx():
    lines = [TITLE, ",".join(HEADER)]
    lines += [f"{n},问题描述第{n}条,县住建局,2014-06-30,{n % 100}" for n in range(1, ROWS_50K + 1)]
    started = time.perf_counter()
    table = read("\n".join(lines).encode("gbk"))
    csv_seconds = time.perf_counter() - started
    assert len(table.rows) == ROWS_50K and table.rows[-1][0] == ROWS_50K + 2

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("清单")
    sheet.append([TITLE])
    sheet.append(HEADER)
    day = dt.date(2014, 6, 30)
    for n in range(1, ROWS_50K + 1):
        sheet.append([n, f"问题描述第{n}条", "县住建局", day, n % 100])
    buffer = io.BytesIO()
    book.save(buffer)
    started = time.perf_counter()
    table = read(buffer.getvalue(), name="清单.xlsx")
    xlsx_seconds = time.perf_counter() - started
    assert len(table.rows) == ROWS_50K
    assert table.rows[-1] == (ROWS_50K + 2, [ROWS_50K, f"问题描述第{ROWS_50K}条", "县住建局",
                                             "2014-06-30", 0])
    print(f"50k rows: csv {csv_seconds:.2f}s, xlsx {xlsx_seconds:.2f}s")


def test_public_url_drops_userinfo_and_masks_secret_parameters():
    from etl.read.formats import public_url
    assert public_url("https://data.example.gov/a/list.csv?year=2026&format=csv") == \
        "https://data.example.gov/a/list.csv?year=2026&format=csv"
    assert public_url("https://me:p@ss@data.example.gov:8443/x.json") == \
        "https://data.example.gov:8443/x.json"
    assert public_url("https://h/x?API_KEY=1&apikey=2&access_token=3&Signature=4&sig=5"
                      "&client_secret=6&password=7&Authorization=8&api%5Fkey=9&page=2&token=") == \
        "https://h/x?API_KEY=***&apikey=***&access_token=***&Signature=***&sig=***" \
        "&client_secret=***&password=***&Authorization=***&api%5Fkey=***&page=2&token=***"
    assert public_url("https://h/x?flag&q=a+b%20c#token=abc") == "https://h/x?flag&q=a+b%20c"


# --- cells calamine reads as empty: formulas without a value, Excel errors ------------------

def _with_cells(cells: str) -> bytes:
    """A workbook whose row 2 is given as raw sheet XML (what Excel or a script wrote)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "问题描述", "责任单位", "满意度"])
    sheet.append([1, "placeholder", "县局", 90])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                start = data.index(b'<row r="2"')
                end = data.index(b"</row>", start) + len(b"</row>")
                data = data[:start] + f'<row r="2">{cells}</row>'.encode() + data[end:]
            target.writestr(item, data)
    return output.getvalue()


def test_formula_without_value_and_error_cells_are_marked():
    data = _with_cells('<c r="A2" t="n"><v>1</v></c>'
                       '<c r="B2"><f>A2&amp;"x"</f><v /></c>'
                       '<c r="C2" t="e"><f>NA()</f><v>#N/A</v></c>'
                       '<c r="D2" t="e"><v>#DIV/0!</v></c>')
    table = read_bytes(data, name="清单.xlsx", source_name="issues",
                       known_headers={"序号", "问题描述"})
    [(number, cells)] = table.rows
    assert number == 2
    assert cells == [1, {"formula": '=A2&"x"', "cell": "B2"},
                     {"error": "#N/A", "formula": "=NA()", "cell": "C2"},
                     {"error": "#DIV/0!", "cell": "D2"}]


def test_formulas_with_values_and_empty_string_results_are_plain_cells():
    data = _with_cells('<c r="A2" t="n"><v>1</v></c>'
                       '<c r="B2" t="str"><f>"甲"&amp;"乙"</f><v>甲乙</v></c>'
                       '<c r="C2" t="str"><f>IF(A2=1,"","x")</f><v></v></c>'
                       '<c r="D2"><f>45+45</f><v>90</v></c>')
    table = read_bytes(data, name="清单.xlsx", source_name="issues",
                       known_headers={"序号", "问题描述"})
    assert table.rows == [(2, [1, "甲乙", None, 90])]


def test_the_demo_configs_commented_examples_load(tmp_path):
    """site_data/gongshi.yml shows source kinds, columns and status_words in comments; with the
    comment marks removed they must load as they are (the demo itself stays as published)."""
    from pathlib import Path
    lines = (Path(__file__).resolve().parents[2] / "site_data" / "gongshi.yml").read_text(
        encoding="utf-8").splitlines()
    starts = {"  # - name: hotline": ("  #   ", "  # - "), "# columns:": ("#   ", "# status_words:")}
    uncommented, inside = [], None
    for line in lines:
        if line in starts:
            inside = starts[line]
        elif inside and not line.startswith(inside):
            inside = None
        uncommented.append(line.replace("# ", "", 1) if inside else line)
    (tmp_path / "gongshi.yml").write_text("\n".join(uncommented) + "\n", encoding="utf-8")
    config = load_config(tmp_path / "gongshi.yml")
    hotline, city = config.sources[2:]
    assert (hotline.kind, hotline.paging.page_size, hotline.paging.max_pages,
            hotline.unit_fallback) == ("open311", 500, 40, "service_name")
    assert (city.kind, city.paging.style) == ("csv311", "socrata")
    assert config.columns["issues"]["整改责任单位"] == "unit"
    assert config.columns["issues"]["问题编号"] == "issue_id"  # the built-in names stay
    assert config.status_words["基本完成"] == "in_progress"

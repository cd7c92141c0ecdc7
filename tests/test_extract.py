"""Extract stage: header mapping, exact output shape, provenance, atomic and deterministic writes."""

import datetime as dt
import json

import openpyxl
import pytest

from etl import extract
from etl.config import load_config
from etl.errors import SourceError

ISSUE_SOURCE = {"name": "issues", "table": "issues", "path": "sources/问题整改清单.xlsx"}
FEEDBACK_SOURCE = {"name": "feedback", "table": "feedback", "path": "sources/意见建议台账.csv"}


def write_issues_xlsx(path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet["A1"] = "清河县作风问题整改清单"
    sheet.merge_cells("A1:G1")
    sheet.append(["序号", "问题描述", "责任单位", "整改时限", "满意度", "备注", "整改进展", "空列"])
    sheet.append([1, "会议多", "县住建局", "2014年6月30日", 92.0, None, "已完成", None])
    sheet.append([2, "文件多", "县交通局", dt.date(2014, 7, 1), None, "无", "整改中", None])
    book.save(path)


def write_feedback_csv(path):
    text = ("清河县意见建议台账,,,\n"
            "意见编号,收到日期,来源渠道,是否答复\n"
            "F001,2014/6/1,书记信箱,是\n"
            "F002,41791,热线,否\n")
    path.write_bytes(text.encode("gbk"))


@pytest.fixture
def demo(write_config, tmp_path):
    config = load_config(write_config(sources=[ISSUE_SOURCE, FEEDBACK_SOURCE]))
    write_issues_xlsx(tmp_path / "sources" / "问题整改清单.xlsx")
    write_feedback_csv(tmp_path / "sources" / "意见建议台账.csv")
    return config


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_output_shape(demo):
    folder = extract.run(demo)
    assert folder == demo.work_dir / "extract"
    assert sorted(p.name for p in folder.iterdir()) == ["feedback.jsonl", "issues.jsonl",
                                                         "sources.json"]
    first_line = (folder / "issues.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert first_line == (
        '{"cells": {"deadline": "2014年6月30日", "description": "会议多", "issue_id": 1, '
        '"satisfaction": 92, "status": "已完成", "unit": "县住建局"}, "columns": {"deadline": '
        '"整改时限", "description": "问题描述", "issue_id": "序号", "satisfaction": "满意度", '
        '"status": "整改进展", "unit": "责任单位"}, "loc": {"file": "问题整改清单.xlsx", "row": 3, '
        '"sheet": "Sheet1", "source": "issues"}}')
    issues = lines(folder / "issues.jsonl")
    assert [row["loc"]["row"] for row in issues] == [3, 4]
    assert issues[1]["cells"] == {"issue_id": 2, "description": "文件多", "unit": "县交通局",
                                  "deadline": "2014-07-01", "status": "整改中"}
    assert "satisfaction" in issues[1]["columns"]  # named even when empty, for error messages

    feedback = lines(folder / "feedback.jsonl")
    assert feedback[1] == {
        "loc": {"source": "feedback", "file": "意见建议台账.csv", "sheet": "", "row": 4},
        "cells": {"feedback_id": "F002", "received_on": "41791", "channel": "热线",
                  "replied": "否"},
        "columns": {"feedback_id": "意见编号", "received_on": "收到日期", "channel": "来源渠道",
                    "replied": "是否答复"}}


def test_sources_json(demo, tmp_path):
    extract.run(demo)
    entries = json.loads((demo.work_dir / "extract" / "sources.json").read_text(encoding="utf-8"))
    assert [entry["name"] for entry in entries] == ["feedback", "issues"]
    feedback, issues = entries
    raw = (tmp_path / "sources" / "意见建议台账.csv").read_bytes()
    import hashlib
    assert feedback == {
        "name": "feedback", "kind": "file", "table": "feedback", "file": "意见建议台账.csv",
        "sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw), "rows": 2,
        "format": "csv", "encoding": "gb18030", "sheet": "", "header_row": 2,
        "unmapped_columns": [],
        "fetched": {"etag": None, "last_modified": None}}
    assert issues["format"] == "xlsx" and issues["sheet"] == "Sheet1" and issues["rows"] == 2
    assert issues["unmapped_columns"] == ["备注"]  # 空列 has no value: nothing is lost


def test_same_bytes_every_run(demo):
    folder = extract.run(demo)
    first = {p.name: p.read_bytes() for p in folder.iterdir()}
    extract.run(demo)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == first
    assert not [p for p in demo.work_dir.iterdir() if p.name.startswith(".extract")]


def test_several_sources_of_one_table_append_in_config_order(write_config, tmp_path):
    sources = [{"name": "z-first", "path": "sources/b.csv"}, {"name": "a-second", "path": "sources/a.csv"}]
    config = load_config(write_config(sources=sources))
    (tmp_path / "sources" / "b.csv").write_text("序号,问题描述,责任单位,整改进展\nB1,乙,丙,完成\n",
                                                encoding="utf-8")
    (tmp_path / "sources" / "a.csv").write_text("序号,问题描述,责任单位,整改进展\nA1,甲,丙,完成\n",
                                                encoding="utf-8")
    folder = extract.run(config)
    assert [row["cells"]["issue_id"] for row in lines(folder / "issues.jsonl")] == ["B1", "A1"]
    assert (folder / "feedback.jsonl").read_bytes() == b""
    names = [e["name"] for e in json.loads((folder / "sources.json").read_text(encoding="utf-8"))]
    assert names == ["a-second", "z-first"]


def test_width_and_space_insensitive_headers_and_source_columns(write_config, tmp_path):
    sources = [{"name": "issues", "path": "sources/a.csv", "columns": {"编号（新）": "issue_id"}}]
    config = load_config(write_config(sources=sources))
    (tmp_path / "sources" / "a.csv").write_text("编号 (新),问题 描述,责任单位　,Status\nA1,甲,乙,done\n",
                                                encoding="utf-8")
    row = lines(extract.run(config) / "issues.jsonl")[0]
    assert row["cells"] == {"issue_id": "A1", "description": "甲", "unit": "乙", "status": "done"}
    assert row["columns"]["issue_id"] == "编号 (新)"


def test_two_headers_for_one_field(write_config, tmp_path):
    config = load_config(write_config(sources=[{"name": "issues", "path": "sources/a.csv"}]))
    (tmp_path / "sources" / "a.csv").write_text("序号,编号,问题描述\n1,A1,甲\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        extract.run(config)
    assert str(caught.value) == (
        "file a.csv, row 1: columns '序号' and '编号' both map to the field 'issue_id'\n"
        "  what to do: delete or rename one of the two columns in the source, or map one to "
        "another field under sources[0].columns")


def test_missing_key_column(write_config, tmp_path):
    config = load_config(write_config(sources=[{"name": "issues", "path": "sources/a.csv"}]))
    (tmp_path / "sources" / "a.csv").write_text("标题行,,\n问题描述,责任单位,说明\n甲,乙,丙\n",
                                                encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        extract.run(config)
    text = str(caught.value)
    assert text.startswith("file a.csv, row 2: no column maps to the required field(s) "
                           "'issue_id' (the key), 'status' of issues; headers found: '问题描述', "
                           "'责任单位', '说明'")
    assert "columns.issues" in text and "sources[0].columns" in text and "序号" in text
    assert "整改进展" in text


def test_failed_extract_keeps_previous_output(demo, tmp_path):
    folder = extract.run(demo)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    (tmp_path / "sources" / "意见建议台账.csv").write_bytes(b"<html><body>502</body></html>")
    with pytest.raises(SourceError, match="HTML page"):
        extract.run(demo)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert sorted(p.name for p in demo.work_dir.iterdir()) == ["extract"]


def test_cli_reports_missing_file(demo, tmp_path, capsys):
    from etl.cli import main
    (tmp_path / "sources" / "问题整改清单.xlsx").unlink()
    assert main(["extract", "--config", str(demo.path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: source issues: file not found: ")
    assert "问题整改清单.xlsx" in error and "fix sources[0].path in gongshi.yml" in error


def test_http_source_goes_through_fetch(write_config, monkeypatch):
    from etl.read import http
    calls = []

    def fetch(source, cache_dir):
        calls.append((source.url, cache_dir.name))
        return ("序号,问题描述,责任单位,整改进展\n7,远程,县局,完成\n".encode("gbk"),
                {"etag": '"abc"', "last_modified": None, "status": 200, "other": 1})

    monkeypatch.setattr(http, "fetch", fetch)
    config = load_config(write_config(sources=[{"name": "remote", "kind": "http",
                                                "url": "https://example.org/list.csv"}]))
    folder = extract.run(config)
    assert calls == [("https://example.org/list.csv", "http-cache")]
    row = lines(folder / "issues.jsonl")[0]
    assert row["loc"] == {"source": "remote", "file": "https://example.org/list.csv", "sheet": "",
                          "row": 2}
    [entry] = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
    assert entry["url"] == "https://example.org/list.csv" and "file" not in entry
    assert entry["fetched"] == {"etag": '"abc"', "last_modified": None}  # no HTTP status
    assert entry["encoding"] == "gb18030"


def test_published_url_carries_no_credentials(write_config, monkeypatch):
    from etl.read import http
    secret_url = ("https://clerk:pa55word@example.org/export/list.csv?year=2026&api_key=K3Y"
                  "&X-Amz-Signature=S1G&accessToken=T0K&format=csv#access_token=FR4G")
    monkeypatch.setattr(http, "fetch", lambda source, cache_dir: (
        "序号,问题描述,责任单位,整改进展\n7,远程,县局,完成\n".encode("utf-8"),
        {"etag": None, "last_modified": None, "status": 200}))
    config = load_config(write_config(sources=[{"name": "remote", "kind": "http",
                                                "url": secret_url}]))
    folder = extract.run(config)
    public = "https://example.org/export/list.csv?year=2026&api_key=***&X-Amz-Signature=***" \
             "&accessToken=***&format=csv"
    [entry] = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
    assert entry["url"] == public
    assert lines(folder / "issues.jsonl")[0]["loc"]["file"] == public
    written = "".join(path.read_text(encoding="utf-8") for path in folder.iterdir())
    for secret in ("clerk", "pa55word", "K3Y", "S1G", "T0K", "FR4G"):
        assert secret not in written


def test_every_unmapped_required_field_is_one_error(write_config, tmp_path):
    config = load_config(write_config(sources=[{"name": "issues", "path": "sources/a.csv"}]))
    (tmp_path / "sources" / "a.csv").write_text(
        "序号,问题描述,备注\n" + "".join(f"{n},甲{n},丙\n" for n in range(1, 50)),
        encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        extract.run(config)
    text = str(caught.value)
    assert text.startswith("file a.csv, row 1: no column maps to the required field(s) 'unit', "
                           "'status' of issues; headers found: '序号', '问题描述', '备注'\n")
    assert "under columns.issues" in text and "or sources[0].columns" in text
    assert "unit: " in text and "责任单位" in text and "status: " in text and "整改进展" in text
    assert text.count("\n") == 1  # one message, not one per row


TRADITIONAL = {"序號": "序号", "牽頭單位": "牵头单位", "整改目標": "整改目标", "時限說明": "时限说明",
               "存在問題": "存在问题", "鄉鎮街道": "乡镇街道", "問題來源": "问题来源",
               "完成時限": "完成时限", "滿意度測評": "满意度测评", "聯繫電話": "联系电话"}


def test_traditional_headers_map_like_their_simplified_twins():
    from etl import schema
    for traditional, simplified in TRADITIONAL.items():
        tables = [t for t, columns in schema.DEFAULT_COLUMNS.items() if simplified in columns]
        assert tables, simplified
        for table in tables:
            columns = schema.DEFAULT_COLUMNS[table]
            assert columns.get(traditional) == columns[simplified], (table, traditional)


def test_traditional_export_is_read_whole(write_config, tmp_path):
    config = load_config(write_config(sources=[{"name": "issues", "path": "sources/a.csv"}]))
    (tmp_path / "sources" / "a.csv").write_text(
        "序號,存在問題,牽頭單位,整改進展,整改目標,完成時限,時限說明,鄉鎮街道,問題來源,滿意度測評\n"
        "1,路燈不亮,縣住建局,已完成,全部修復,2026-06-30,每年複查,城關鎮,熱線,95\n",
        encoding="utf-8")
    folder = extract.run(config)
    assert lines(folder / "issues.jsonl")[0]["cells"] == {
        "issue_id": "1", "description": "路燈不亮", "unit": "縣住建局", "status": "已完成",
        "target": "全部修復", "deadline": "2026-06-30", "deadline_note": "每年複查",
        "area": "城關鎮", "channel": "熱線", "satisfaction": "95"}
    [entry] = json.loads((folder / "sources.json").read_text(encoding="utf-8"))
    assert entry["unmapped_columns"] == []

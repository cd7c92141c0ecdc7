"""`python -m etl init`: guessed configs load, say what to confirm, and publish with no edits."""

from __future__ import annotations

import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openpyxl
import pytest
import yaml

from etl import cli, extract, validate

from etl import pipeline
from etl.config import load_config
from etl.errors import EtlError
from etl.read import guess, init_config
from etl.read.table import RawTable

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "site_data" / "sources"
CASES = ROOT / "tests" / "cases" / "http"
NYC = CASES / "nyc311_staff_export.csv"


def raw(headers: list[str], rows: list[list]) -> RawTable:
    return RawTable(source="s", file="f.csv", sheet="", headers=headers,
                    rows=[(number, row) for number, row in enumerate(rows, start=2)],
                    header_row=1)


def written(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def publish(config_path: Path):
    config = load_config(config_path)
    pipeline.publish(config, log=lambda *_: None)
    (snapshot,) = [folder for folder in config.snapshots_dir.iterdir()
                   if (folder / "manifest.json").is_file()]
    return json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))


# --- whole publishes from an init config, no edits ----------------------------------------------

def test_demo_workbook_and_csv_publish_straight_from_the_init_config(tmp_path, capsys):
    out = tmp_path / "campaign" / "gongshi.yml"
    assert cli.main(["init", str(DEMO / "问题整改清单.xlsx"), str(DEMO / "意见建议台账.csv"),
                     "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "sheet '整改清单', header on row 3, 600 rows" in printed
    assert "confirm before publishing:" in printed
    config = written(out)
    issues, feedback = config["sources"]
    assert (issues["table"], issues["sheet"], issues["header_row"]) == ("issues", "整改清单", 3)
    assert issues["columns"]["问题编号"] == "issue_id" and issues["columns"]["责任人"] == "owner"
    assert feedback["table"] == "feedback" and feedback["columns"]["反映人"] == "complainant"
    assert {"已完成": "done", "长期坚持": "long_term", "返工": "rework"}.items() \
        <= config["status_words"].items()
    text = out.read_text(encoding="utf-8")
    assert "#   联系方式: contact details" in text and "#   反映人: a name" in text
    assert "contact" not in config["publish"]["fields"]["feedback"]
    manifest = publish(out)
    assert manifest["row_counts"] == {"issues": 600, "feedback": 1300}


def test_311_csv_export_publishes_straight_from_the_init_config(tmp_path):
    shutil.copy(NYC, tmp_path / NYC.name)
    out = tmp_path / "gongshi.yml"
    init_config.run([str(tmp_path / NYC.name)], out)
    manifest = publish(out)
    assert manifest["row_counts"]["issues"] == 12


def test_311_csv_init_config(tmp_path):
    out = tmp_path / "gongshi.yml"
    lines = init_config.run([str(NYC)], out)
    config = written(out)
    (source,) = config["sources"]
    assert config["language"] == "en"
    assert source["kind"] == "file" and source["path"] == Path(
        __import__("os").path.relpath(NYC, tmp_path)).as_posix()
    assert source["columns"] == {
        "Unique Key": "issue_id", "Created Date": "identified_on", "Closed Date": "completed_on",
        "Agency": "unit", "Complaint Type": "category", "Descriptor": "description",
        "Status": "status", "Due Date": "deadline", "Resolution Description": "result",
        "Borough": "area"}
    # 12/25/2013 11:59:08 PM: month first, since a day above 12 was seen in that place.
    assert source["dates"] == {"formats": ["%m/%d/%Y %I:%M:%S %p"]}
    assert config["status_words"] == {"Closed": "done", "Open": "open", "Assigned": "in_progress",
                                      "Pending": "in_progress", "In Progress": "in_progress",
                                      "Started": "in_progress", "Unspecified": "open"}
    text = out.read_text(encoding="utf-8")
    for header in ("Incident Address", "Street Name", "Latitude", "Longitude", "Location"):
        assert f"#   {header}: " in text  # never published: not mapped at all
    assert "# not mapped, so not published: Agency Name" in text
    assert "'Unspecified' -> open" in "\n".join(lines)
    assert config["as_of"].isoformat() >= "2013-12-30"
    loaded = load_config(out)
    assert loaded.sources[0].dates.formats == ("%m/%d/%Y %I:%M:%S %p",)


def test_open311_feed_without_agency_gets_a_unit_fallback_and_validates(tmp_path):
    records = json.loads((CASES / "open311_requests.json").read_text(encoding="utf-8"))
    for record in records:
        record.pop("agency_responsible", None)
    feed = tmp_path / "requests.json"
    feed.write_text(json.dumps(records), encoding="utf-8")
    out = tmp_path / "gongshi.yml"
    lines = init_config.run([str(feed)], out)
    (source,) = written(out)["sources"]
    assert (source["kind"], source["path"], source["unit_fallback"]) == (
        "open311", "requests.json", "service_name")
    assert "columns" not in source  # the adapter names its fields itself
    assert any("unit_fallback" in line for line in lines)
    config = load_config(out)
    extract.run(config)
    report = json.loads((validate.run(config) / "report.json").read_text(encoding="utf-8"))
    assert report["rows"]["issues"] == len(records) and not report["errors"]


def test_init_reads_a_url(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    body = NYC.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/resource/erm2-nwe9.csv?token=secret"
        init_config.run([url], tmp_path / "gongshi.yml")
    finally:
        server.shutdown()
        server.server_close()
    (source,) = written(tmp_path / "gongshi.yml")["sources"]
    assert source["kind"] == "http" and source["url"] == url
    assert source["paging"] == {"style": "socrata"}  # a Socrata endpoint is read whole
    assert source["columns"]["Unique Key"] == "issue_id"
    assert "secret" not in (tmp_path / "gongshi.yml").read_text(encoding="utf-8").split(
        "\n", 1)[0]  # the header comment names the URL without its token


def test_workbook_list_on_a_later_sheet_below_title_rows(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "填报说明"
    book.active.append(["本表由各单位于每月25日前报送"])
    sheet = book.create_sheet("问题清单")
    sheet.append(["某县问题整改台账"])
    sheet.append(["序号", "问题描述", "牵头单位", "整改进展", "整改期限", "联系电话"])
    sheet.append(["1", "路灯不亮", "县住房和城乡建设局", "基本完成", "2026年6月30日", "13800138000"])
    sheet.append(["2", "井盖缺失", "县住建局", "整改中", "2026.7.31", "13900139000"])
    sheet.append(["3", "道路破损", "县 交通局", "已完成", "2026/8/1", "13700137000"])
    sheet.append(["4", "公交站牌", "县交通局", "已完成", "2026-08-02", ""])
    path = tmp_path / "台账.xlsx"
    book.save(path)
    out = tmp_path / "gongshi.yml"
    lines = init_config.run([str(path)], out)
    (source,) = written(out)["sources"]
    assert (source["sheet"], source["header_row"]) == ("问题清单", 2)
    assert source["columns"] == {"序号": "issue_id", "问题描述": "description",
                                 "牵头单位": "unit", "整改进展": "status",
                                 "整改期限": "deadline"}
    config = written(out)
    assert config["status_words"]["基本完成"] == "in_progress"
    text = out.read_text(encoding="utf-8")
    assert '"县 交通局": "县交通局"' in text  # the same name but for a space: proposed for real
    assert '# "县住建局": "县住房和城乡建设局"  # CONFIRM' in text  # similar: only suggested
    assert "#   联系电话: contact details" in text
    assert any("'基本完成' -> in_progress" in line for line in lines)
    assert load_config(out).aliases.unit == {"县 交通局": "县交通局"}


def test_init_never_overwrites_a_config(tmp_path, capsys):
    out = tmp_path / "gongshi.yml"
    out.write_text("as_of: 2026-01-01\n", encoding="utf-8")
    with pytest.raises(EtlError, match="already exists"):
        init_config.run([str(NYC)], out)
    assert cli.main(["init", str(NYC), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (f"error: {out} already exists\n"
                                       "  what to do: choose another --out, or add --force\n")
    assert out.read_text(encoding="utf-8") == "as_of: 2026-01-01\n"
    init_config.run([str(NYC)], out, force=True)
    assert load_config(out).sources[0].columns["Unique Key"] == "issue_id"


# --- the guesses -------------------------------------------------------------------------------

def test_status_words_proposed_from_their_wording():
    proposal = guess.guess(raw(["序号", "问题描述", "责任单位", "整改进展"],
                               [["1", "a", "u", "已完成"], ["2", "b", "u", "重新整改中"],
                                ["3", "c", "u", "待启动"], ["4", "d", "u", "已办结销号"],
                                ["5", "e", "u", "说不清"]]))
    assert proposal.statuses == {"已完成": ("done", True), "重新整改中": ("rework", False),
                                 "待启动": ("open", False), "已办结销号": ("done", False),
                                 "说不清": ("open", False)}
    assert len([line for line in proposal.confirm if "status word" in line]) == 4


def test_day_first_dates_are_recognised_and_never_mixed_with_month_first():
    proposal = guess.guess(raw(["ID", "Description", "Agency", "Status", "Created Date"],
                               [["1", "a", "u", "Open", "25/12/2013"],
                                ["2", "b", "u", "Open", "03/04/2014"]]))
    assert proposal.date_formats == {"%d/%m/%Y": ["Created Date"]}
    assert not any("also all fit" in line for line in proposal.confirm)


def test_ambiguous_slash_dates_ask_to_be_confirmed():
    proposal = guess.guess(raw(["ID", "Description", "Agency", "Status", "Created Date"],
                               [["1", "a", "u", "Open", "03/04/2014"]]))
    assert list(proposal.date_formats) == ["%m/%d/%Y"]
    assert any("also all fit %d/%m/%Y" in line for line in proposal.confirm)


def test_personal_data_found_by_values_in_an_unknown_column():
    proposal = guess.guess(raw(["序号", "问题描述", "责任单位", "整改进展", "备注"],
                               [["1", "a", "u", "已完成", "请回电 13800138000"],
                                ["2", "b", "u", "已完成", "13900139000"]]))
    assert proposal.personal == {"备注": "phone numbers"}
    assert "备注" not in proposal.columns and "备注" not in proposal.unmapped


def test_two_places_one_character_apart_are_never_aliases():
    assert guess.unit_aliases(["河东街道办事处", "河西街道办事处"]) == {}
    assert guess.unit_aliases(["县交通运输局", "县交通局", "县交通局"]) == {
        "县交通运输局": ("县交通局", False)}


def test_missing_required_fields_are_named():
    proposal = guess.guess(raw(["序号", "问题描述"], [["1", "a"]]))
    assert any("required field unit" in line for line in proposal.confirm)
    assert any("required field status" in line for line in proposal.confirm)

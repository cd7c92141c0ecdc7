"""Validate: typed cells, every error naming file, sheet, row, column and value."""

import csv
import json

import pytest

from etl import validate
from etl.errors import ValidationFailed


def record(row, cells, file="清单.xlsx", sheet="Sheet1"):
    columns = {name: {"issue_id": "序号", "status": "整改进展", "deadline": "整改时限",
                      "satisfaction": "满意度", "unit": "责任单位",
                      "description": "问题描述"}.get(name, name) for name in cells}
    return {"loc": {"source": "issues", "file": file, "sheet": sheet, "row": row},
            "cells": cells, "columns": columns}


def good(issue_id, **cells):
    base = {"issue_id": issue_id, "description": "办事窗口推诿扯皮", "unit": "县住建局",
            "status": "正在整改", "deadline": "2026年6月30日"}
    return {**base, **cells}


def write_extract(config, issues, feedback=()):
    folder = config.work_dir / "extract"
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in (("issues", issues), ("feedback", feedback)):
        with (folder / f"{table}.jsonl").open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_types_cells_and_routes_deadline_notes(config):
    write_extract(config, [
        record(4, good("QH-1", status="已銷號", completed_on="2026.5.1", satisfaction="95分",
                       feedback_count=3)),
        record(5, good("QH-2", deadline="长期坚持", status="长期坚持")),
        record(6, good("QH-3", deadline=46203, status=" 序时推进 ")),
    ])
    out = validate.run(config)
    rows = [r["cells"] for r in read_jsonl(out / "issues.jsonl")]
    assert rows[0]["status"] == "done" and rows[0]["completed_on"] == "2026-05-01"
    assert rows[0]["satisfaction"] == 95 and rows[0]["feedback_count"] == 3
    assert rows[1]["deadline_note"] == "长期坚持" and "deadline" not in rows[1]
    assert rows[1]["status"] == "long_term"
    assert rows[2]["deadline"] == "2026-06-30" and rows[2]["status"] == "in_progress"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["errors"] == [] and report["rejected"] == 0


def test_errors_name_file_sheet_row_column_and_value(config):
    write_extract(config, [
        record(4, good("QH-1")),
        record(5, good("QH-1")),
        record(6, good("QH-3", status="搁置")),
        record(7, good("QH-4", deadline="2026年13月45日")),
        record(8, good("QH-5", satisfaction=120)),
        record(9, good("", description="")),
    ])
    with pytest.raises(ValidationFailed) as caught:
        validate.run(config)
    lines = str(caught.value).splitlines()
    assert lines[0] == "validation found 6 error(s):"
    assert ("  - file 清单.xlsx, sheet Sheet1, row 5, column 序号: issue_id 'QH-1' is used again "
            "(first at row 4); ids must be unique and never reused (value 'QH-1')") in lines
    assert any(line.startswith("  - file 清单.xlsx, sheet Sheet1, row 6, column 整改进展: unknown "
                               "status word") and line.endswith("(value '搁置')") for line in lines)
    assert any("row 7, column 整改时限: deadline:" in line and "2026年13月45日" in line
               for line in lines)
    assert ("  - file 清单.xlsx, sheet Sheet1, row 8, column 满意度: satisfaction must be between "
            "0 and 100 (value '120')") in lines
    assert "  - file 清单.xlsx, sheet Sheet1, row 9, column 序号: required field issue_id is empty" \
        in lines
    report = json.loads((config.work_dir / "validate" / "report.json").read_text(encoding="utf-8"))
    assert len(report["errors"]) == 6
    with (config.work_dir / "validate" / "rejected_rows.csv").open(encoding="utf-8-sig") as handle:
        rejected = list(csv.DictReader(handle))
    assert [r["row"] for r in rejected] == ["5", "6", "7", "8", "9"]


def test_warnings_do_not_stop(config):
    write_extract(config, [record(4, good("QH-1", status="已完成"))],
                  [{"loc": {"source": "feedback", "file": "台账.csv", "sheet": "", "row": 2},
                    "cells": {"feedback_id": "F1", "channel": "短信", "issue_id": "QH-404"},
                    "columns": {"issue_id": "归入问题编号"}}])
    out = validate.run(config)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    codes = sorted(w["code"] for w in report["warnings"])
    assert codes == ["done_without_date", "unknown_issue"]


def test_unsafe_and_colliding_ids_are_errors(config):
    write_extract(config, [record(4, good("../etc")), record(5, good("qh-1")),
                           record(6, good("QH-1"))])
    with pytest.raises(ValidationFailed) as caught:
        validate.run(config)
    codes = sorted(p.code for p in caught.value.problems if p.level == "error")
    assert codes == ["case_collision", "unsafe_id"]


def test_empty_issue_list_is_an_error(config):
    write_extract(config, [])
    with pytest.raises(ValidationFailed, match="no issue rows were read"):
        validate.run(config)


def test_satisfaction_stored_as_a_fraction_is_an_error(config):
    write_extract(config, [
        record(4, good("QH-1", status="已完成", completed_on="2026-05-01", satisfaction=0.92)),
        record(5, good("QH-2", status="已完成", completed_on="2026-05-01", satisfaction=0)),
        record(6, good("QH-3", status="已完成", completed_on="2026-05-01", satisfaction=1)),
        record(7, good("QH-4", status="已完成", completed_on="2026-05-01", satisfaction="0.5")),
    ])
    with pytest.raises(ValidationFailed) as caught:
        validate.run(config)
    errors = [p for p in caught.value.problems if p.level == "error"]
    assert [(p.code, p.location.row, p.location.column) for p in errors] == [
        ("fraction_score", 4, "满意度"), ("fraction_score", 7, "满意度")]
    assert ("  - file 清单.xlsx, sheet Sheet1, row 4, column 满意度: satisfaction 0.92 looks like a "
            "percentage cell; a 92% cell is stored as 0.92; store scores as 0–100 (value '0.92')"
            ) in str(caught.value).splitlines()
    kept = [r["cells"] for r in read_jsonl(config.work_dir / "validate" / "issues.jsonl")]
    assert [(r["issue_id"], r["satisfaction"]) for r in kept] == [("QH-2", 0), ("QH-3", 1)]


def test_deadline_words_and_a_deadline_note_column_are_combined(config):
    write_extract(config, [
        record(4, good("QH-1", deadline="长期坚持", deadline_note="每年复查")),
        record(5, good("QH-2", deadline="长期坚持")),
        record(6, good("QH-3", deadline_note="每年复查")),
        record(7, good("QH-4", deadline="长期坚持", deadline_note="长期坚持")),
    ])
    rows = [r["cells"] for r in read_jsonl(validate.run(config) / "issues.jsonl")]
    assert [r.get("deadline_note") for r in rows] == ["长期坚持；每年复查", "长期坚持", "每年复查",
                                                       "长期坚持"]


def feedback_record(row, cells):
    return {"loc": {"source": "feedback", "file": "台账.csv", "sheet": "", "row": row},
            "cells": cells, "columns": {"issue_id": "归入问题编号"}}


def test_links_compare_typed_ids_across_workbook_and_csv(config):
    # The issue list is a workbook (numbers), the opinions a CSV (text, some from pandas).
    write_extract(config, [record(4, good(1)), record(5, good(2)), record(6, good("3.0"))], [
        feedback_record(2, {"feedback_id": "F1", "channel": "短信", "issue_id": "1"}),
        feedback_record(3, {"feedback_id": "F2", "channel": "短信", "issue_id": "2.0"}),
        feedback_record(4, {"feedback_id": "F3", "channel": "短信", "issue_id": 3}),
        feedback_record(5, {"feedback_id": "F4", "channel": "短信", "issue_id": "4"}),
        feedback_record(6, {"feedback_id": "5.00", "channel": "短信", "issue_id": "1.5"}),
    ])
    out = validate.run(config)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(w["code"], w["row"], w["value"]) for w in report["warnings"]] == [
        ("unknown_issue", 5, "4"), ("unknown_issue", 6, "1.5")]
    issues = [r["cells"]["issue_id"] for r in read_jsonl(out / "issues.jsonl")]
    feedback = [(r["cells"]["feedback_id"], r["cells"]["issue_id"])
                for r in read_jsonl(out / "feedback.jsonl")]
    assert issues == ["1", "2", "3"]
    assert feedback == [("F1", "1"), ("F2", "2"), ("F3", "3"), ("F4", "4"), ("5", "1.5")]


def test_ids_equal_after_normalising_are_duplicates(config):
    write_extract(config, [record(4, good(7)), record(5, good("7.0"))])
    with pytest.raises(ValidationFailed, match=r"row 5, column 序号: issue_id '7' is used again"):
        validate.run(config)


def test_status_words_with_spaces_and_capitals_match(write_config):
    from etl.config import load_config
    config = load_config(write_config(status_words={"基本 完成": "done", "Work Done": "done"}))
    write_extract(config, [
        record(4, good("QH-1", status="基本完成", completed_on="2026-05-01")),
        record(5, good("QH-2", status=" 基本　完成 ", completed_on="2026-05-01")),
        record(6, good("QH-3", status="work done", completed_on="2026-05-01")),
        record(7, good("QH-4", status="WORKDONE", completed_on="2026-05-01")),
        record(8, good("QH-5", status="In Progress")),  # a default word with a space
        record(9, good("QH-6", status="in progress")),
        record(10, good("QH-7", status="Closed", completed_on="2026-05-01")),
    ])
    rows = [r["cells"]["status"] for r in read_jsonl(validate.run(config) / "issues.jsonl")]
    assert rows == ["done"] * 4 + ["in_progress"] * 2 + ["done"]


def test_status_key_is_the_one_normal_form():
    from etl import schema
    assert schema.status_key(" Work\u3000Done\n") == "workdone" == schema.status_key("WORKDONE")
    assert schema.status_key("基本 完成") == "基本完成"


def test_unmapped_columns_with_values_are_warnings(config):
    write_extract(config, [record(4, good("QH-1"))])
    (config.work_dir / "extract" / "sources.json").write_text(json.dumps([
        {"name": "issues", "kind": "file", "table": "issues", "file": "清单.xlsx",
         "sheet": "Sheet1", "header_row": 2, "unmapped_columns": ["备注", "督办意见"]},
        {"name": "remote", "kind": "http", "table": "feedback", "url": "https://h/x.csv",
         "sheet": "", "header_row": 1, "unmapped_columns": ["附件"]},
    ], ensure_ascii=False), encoding="utf-8")
    out = validate.run(config)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(w["code"], w["file"], w["sheet"], w["row"], w["column"])
            for w in report["warnings"] if w["code"] == "unmapped_column"] == [
        ("unmapped_column", "清单.xlsx", "Sheet1", 2, "备注"),
        ("unmapped_column", "清单.xlsx", "Sheet1", 2, "督办意见"),
        ("unmapped_column", "https://h/x.csv", "", 1, "附件")]
    [first] = [w for w in report["warnings"] if w["column"] == "备注"]
    assert first["message"] == ("column '备注' has values but maps to no field of issues, so it is "
                                "neither checked nor published; if it holds one, map it under "
                                "columns.issues in the config")


def test_extract_then_validate_lists_an_unmapped_column(write_config, tmp_path, capsys):
    from etl import extract
    from etl.config import load_config
    config = load_config(write_config(sources=[{"name": "issues", "path": "sources/a.csv"}]))
    (tmp_path / "sources" / "a.csv").write_text(
        "序号,问题描述,责任单位,整改进展,备注,空列\n1,甲,乙,整改中,已督办,\n", encoding="utf-8")
    extract.run(config)
    assert capsys.readouterr() == ("", "")  # extract prints nothing
    report = json.loads((validate.run(config) / "report.json").read_text(encoding="utf-8"))
    assert [(w["file"], w["column"]) for w in report["warnings"]
            if w["code"] == "unmapped_column"] == [("a.csv", "备注")]

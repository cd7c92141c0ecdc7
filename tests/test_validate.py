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

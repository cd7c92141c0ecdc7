"""Transform: rework rule, feedback counts, redaction and the publication allow-list."""

import json

from etl import tables, transform


def write_validated(config, issues, feedback=()):
    folder = config.work_dir / "validate"
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in (("issues", issues), ("feedback", feedback)):
        with (folder / f"{table}.jsonl").open("w", encoding="utf-8") as handle:
            for cells in rows:
                handle.write(json.dumps({"loc": {}, "cells": cells}, ensure_ascii=False) + "\n")


def issue(issue_id, **cells):
    return {"issue_id": issue_id, "description": "窗口服务差", "unit": "县住建局",
            "status": "done", **cells}


def test_rework_allow_list_and_redaction(config):
    write_validated(config, [
        issue("B", satisfaction=79.5, owner="张三"),
        issue("A", satisfaction=80, description="请联系13800138000或身份证110101199003071234",
              result="=HYPERLINK(\"http://x\")"),
        issue("C", status="in_progress"),
    ], [
        {"feedback_id": "F1", "channel": "短信", "issue_id": "A", "complainant": "李四",
         "contact": "13900139000", "text": "电话13900139000"},
        {"feedback_id": "F2", "channel": "短信", "issue_id": "A"},
        {"feedback_id": "F3", "channel": "短信", "issue_id": "C"},
    ])
    out = transform.run(config)
    raw = (out / "issues.csv").read_text(encoding="utf-8-sig")
    header = raw.splitlines()[0].split(",")
    assert "owner" not in header and header[0] == "issue_id"
    assert "张三" not in raw and "13800138000" not in raw and "110101199003071234" not in raw
    assert "'=HYPERLINK" in raw  # defused in the CSV, restored when read back
    frame = tables.read_table(out / "issues.csv", "issues")
    assert frame["issue_id"].tolist() == ["A", "B", "C"]
    assert frame["status"].tolist() == ["done", "rework", "in_progress"]
    assert frame["result"][0] == "=HYPERLINK(\"http://x\")"
    assert frame["feedback_count"].tolist() == [2, 0, 1]
    feedback_raw = (out / "feedback.csv").read_text(encoding="utf-8-sig")
    assert "李四" not in feedback_raw and "13900139000" not in feedback_raw
    assert feedback_raw.splitlines()[0] == "feedback_id,received_on,channel,area,unit,replied,replied_on,issue_id"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["rework_from_satisfaction"] == 1
    assert report["redacted"]["issues"] == {"description": 1}

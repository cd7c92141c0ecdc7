"""Transform: rework rule, feedback counts, redaction and the publication allow-list."""

import json

import pytest

from etl import transform
from etl.ledger import tables
from etl.errors import EtlError


def write_validated(config, issues, feedback=(), errors=()):
    folder = config.work_dir / "validate"
    folder.mkdir(parents=True, exist_ok=True)
    report = {"errors": list(errors), "warnings": [], "rejected": len(errors),
              "rows": {"issues": len(issues) + len(errors), "feedback": len(feedback)}}
    (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False), encoding="utf-8")
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


def test_refuses_to_run_after_a_failed_validate(config):
    error = {"level": "error", "code": "unknown_status", "message": "unknown status word",
             "file": "清单.xlsx", "row": 5}
    write_validated(config, [issue("A")], errors=[error])
    with pytest.raises(EtlError) as caught:
        transform.run(config)
    text = str(caught.value)
    assert "validate/report.json lists 1 validation error(s)" in text
    assert "what to do: correct the source rows named in validate/report.json" in text
    assert not (config.work_dir / "tables").exists()


def test_refuses_to_run_before_validate(config):
    with pytest.raises(EtlError, match=r"validate/report.json does not exist: validate has not run"):
        transform.run(config)
    assert not (config.work_dir / "tables").exists()


def test_owner_is_redacted_when_published(write_config):
    from etl.config import load_config
    fields = ["issue_id", "description", "unit", "owner", "status"]
    config = load_config(write_config(publish={"fields": {"issues": fields}}))
    write_validated(config, [issue("A", owner="张三 13800138000"), issue("B", owner="李四")])
    out = transform.run(config)
    raw = (out / "issues.csv").read_text(encoding="utf-8-sig")
    assert raw.splitlines()[0] == "issue_id,description,unit,owner,status"
    assert "13800138000" not in raw and "李四" in raw
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["redacted"]["issues"] == {"owner": 1}

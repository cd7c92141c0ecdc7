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


@pytest.fixture
def english(write_config):
    """A config for an English site: every message in English."""
    from etl.config import load_config
    return load_config(write_config(language="en"))


def test_errors_name_file_sheet_row_column_and_value(english):
    config = english
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
    assert lines[0] == "validation found 6 error(s) of 6 kind(s):"
    assert lines[1:3] == [
        "  - 1 × issue_id QH-1 is used again (first at row 4); ids must be unique and never reused",
        "    file 清单.xlsx, sheet Sheet1, column 序号: rows 5 ('QH-1')"]
    assert any(line.startswith("  - 1 × unknown status word; known words: ") and "closed" in line
               and "未启动" not in line for line in lines)
    assert "    file 清单.xlsx, sheet Sheet1, column 整改进展: rows 6 ('搁置')" in lines
    assert "  - 1 × no such date (2026年13月45日); check the month and day" in lines
    assert "  - 1 × satisfaction must be between 0 and 100" in lines
    assert "    file 清单.xlsx, sheet Sheet1, column 满意度: rows 8 ('120')" in lines
    assert "  - 1 × required field issue_id is empty" in lines
    assert "    file 清单.xlsx, sheet Sheet1, column 序号: rows 9" in lines
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


def test_empty_issue_list_is_an_error(english):
    config = english
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
    assert ("  - 2 处：满意度 0.92 像是百分比单元格：92% 存成了 0.92；请按 0–100 填写"
            ) in str(caught.value).splitlines()
    assert "    文件 清单.xlsx，工作表 Sheet1，列 满意度: 行 4 ('0.92'), 7 ('0.5')" \
        in str(caught.value).splitlines()
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


def test_ids_equal_after_normalising_are_duplicates(english):
    config = english
    write_extract(config, [record(4, good(7)), record(5, good("7.0"))])
    with pytest.raises(ValidationFailed, match=r"issue_id 7 is used again(.|\n)*序号: rows 5"):
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


def test_unmapped_columns_with_values_are_warnings(english):
    config = english
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


# --- the config's row and cell options (issue 12) -----------------------------------------

def report_of(config):
    return json.loads((config.work_dir / "validate" / "report.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("total", ["合计", "合 计", "总计：203项", "小计(城关镇)", "總計"])
def test_total_rows_are_skipped_and_noted(config, total):
    write_extract(config, [record(4, good("QH-1")), record(5, {"issue_id": total})])
    out = validate.run(config)  # no "required field is empty" for the total row
    assert [r["cells"]["issue_id"] for r in read_jsonl(out / "issues.jsonl")] == ["QH-1"]
    report = report_of(config)
    assert report["errors"] == []
    assert [(s["row"], s["reason"], s["value"]) for s in report["skipped"]] == [(5, "total", total)]
    assert [(w["code"], w["row"]) for w in report["warnings"]] == [("skipped_row", 5)]
    with (out / "rejected_rows.csv").open(encoding="utf-8-sig") as handle:
        assert list(csv.DictReader(handle)) == []


def test_a_configured_pattern_skips_rows_and_words_inside_text_do_not(write_config):
    from etl.config import load_config
    config = load_config(write_config(skip_rows={"patterns": ["^说明[:：].*"]}))
    write_extract(config, [record(4, good("QH-1", description="合计划拨资金未到位")),
                           record(5, {"issue_id": "说明：本表截至11月"})])
    out = validate.run(config)
    assert [r["cells"]["description"] for r in read_jsonl(out / "issues.jsonl")] == \
        ["合计划拨资金未到位"]
    assert [s["row"] for s in report_of(config)["skipped"]] == [5]


def test_date_options_default_year_formats_and_order(write_config):
    from etl.config import load_config
    config = load_config(write_config(
        dates={"default_year": 2026, "formats": ["%m/%d/%Y %I:%M:%S %p"]},
        sources=[{"name": "issues", "path": "sources/issues.csv"},
                 {"name": "feed", "path": "sources/feed.csv", "dates": {"order": "dmy"}}]))
    write_extract(config, [
        record(4, good("QH-1", deadline="6月底")),
        record(5, good("QH-2", deadline="6月")),
        record(6, good("QH-3", deadline="6月15日")),
        record(7, good("QH-4", deadline="03/04/2026 10:15:00 PM")),
        {**record(8, good("QH-5", deadline="03/04/2026")), "loc": {
            "source": "feed", "file": "feed.csv", "sheet": "", "row": 8}},
    ])
    rows = [r["cells"]["deadline"] for r in read_jsonl(validate.run(config) / "issues.jsonl")]
    assert rows == ["2026-06-30", "2026-06-30", "2026-06-15", "2026-03-04", "2026-04-03"]


def test_without_a_default_year_a_month_end_says_which_option(english):
    write_extract(english, [record(4, good("QH-1", deadline="6月底")),
                            record(5, good("QH-2", deadline="03/04/2026"))])
    with pytest.raises(ValidationFailed) as caught:
        validate.run(english)
    assert sorted(p.code for p in caught.value.problems) == ["ambiguous_order", "no_year"]
    text = str(caught.value)
    assert "dates.default_year" in text and "dates.order" in text and "不是日期" not in text


def test_defaults_fill_empty_cells_and_are_counted(write_config):
    from etl.config import load_config
    config = load_config(write_config(defaults={"issues": {"status": "未启动"}}))
    write_extract(config, [record(4, good("QH-1", status="")),
                           record(5, {k: v for k, v in good("QH-2").items() if k != "status"}),
                           record(6, good("QH-3"))])
    rows = [r["cells"]["status"] for r in read_jsonl(validate.run(config) / "issues.jsonl")]
    assert rows == ["open", "open", "in_progress"]
    assert report_of(config)["defaults"] == {"issues": {"status": 2}}


def test_a_default_for_an_unknown_field_is_a_config_error(write_config):
    from etl.config import load_config
    from etl.errors import ConfigError
    with pytest.raises(ConfigError, match="defaults.issues.colour: not a field of issues"):
        load_config(write_config(defaults={"issues": {"colour": "red"}}))


def test_names_lose_cjk_spaces_take_aliases_and_near_duplicates_warn(write_config):
    from etl.config import load_config
    config = load_config(write_config(aliases={"unit": {"县交通运输局": "县交通局"},
                                               "area": {"城关": "城关镇"}}))
    write_extract(config, [
        record(4, good("QH-1", unit="县 交通局", area="城关")),
        record(5, good("QH-2", unit="县交通局", area="城关镇")),
        record(6, good("QH-3", unit="县交通运输局", area="东 坝 乡")),
        record(7, good("QH-4", unit="县住建局")),
        record(8, good("QH-5", unit="县住建")),
    ])
    out = validate.run(config)
    rows = [(r["cells"]["unit"], r["cells"].get("area")) for r in read_jsonl(out / "issues.jsonl")]
    assert rows == [("县交通局", "城关镇"), ("县交通局", "城关镇"), ("县交通局", "东坝乡"),
                    ("县住建局", None), ("县住建", None)]
    [warning] = [w for w in report_of(config)["warnings"] if w["code"] == "near_duplicate"]
    assert warning["row"] == 8 and "县住建局" in warning["message"] and "县住建" in \
        warning["message"] and "aliases.unit" in warning["message"]


def test_formula_and_error_markers_are_their_own_errors(english):
    write_extract(english, [record(4, good(
        "QH-1", description={"formula": '=A4&"x"', "cell": "C4"},
        unit={"error": "#N/A", "cell": "F4", "formula": "=VLOOKUP(A4,X!A:B,2,0)"},
        satisfaction={"error": "#DIV/0!", "cell": "H4"}))])
    with pytest.raises(ValidationFailed) as caught:
        validate.run(english)
    problems = {p.code: p for p in caught.value.problems}
    assert sorted(problems) == ["error_cell", "formula_without_value"]  # never "missing"
    formula = problems["formula_without_value"]
    assert "cell C4" in formula.message and '=A4&"x"' in formula.message
    errors = [p for p in caught.value.problems if p.code == "error_cell"]
    assert [(p.value, p.location.column) for p in errors] == [("#N/A", "责任单位"),
                                                              ("#DIV/0!", "满意度")]
    assert "=VLOOKUP(A4,X!A:B,2,0)" in errors[0].message


def test_errors_are_grouped_by_kind_with_counts_and_first_rows(english):
    rows = [record(4 + n, good(f"QH-{n}", unit="")) for n in range(203)]
    write_extract(english, rows)
    with pytest.raises(ValidationFailed) as caught:
        validate.run(english)
    lines = str(caught.value).splitlines()
    assert lines[:3] == [
        "validation found 203 error(s) of 1 kind(s):",
        "  - 203 × required field unit is empty",
        "    file 清单.xlsx, sheet Sheet1, column 责任单位: rows 4, 5, 6, 7, 8, 9, 10, 11 and "
        "195 more"]


def test_dates_after_as_of_are_errors(english):
    write_extract(english, [record(4, good("QH-1", status="已完成", completed_on="2026-12-01"))])
    with pytest.raises(ValidationFailed) as caught:
        validate.run(english)
    [problem] = caught.value.problems
    assert problem.code == "after_as_of" and "cut_at_as_of" in problem.message


def test_cut_at_as_of_shows_the_data_as_it_stood(write_config):
    from etl.config import load_config
    config = load_config(write_config(cut_at_as_of=True))
    write_extract(config, [
        record(4, good("QH-1", status="已完成", identified_on="2026-01-05",
                       completed_on="2026-12-01", satisfaction=90)),
        record(5, good("QH-2", identified_on="2026-12-02")),
        record(6, good("QH-3", status="已完成", completed_on="2026-11-01")),
    ], [feedback_record(2, {"feedback_id": "F1", "channel": "短信", "received_on": "2026-12-03"}),
        feedback_record(3, {"feedback_id": "F2", "channel": "短信", "replied": "是",
                            "replied_on": "2026-12-01"})])
    out = validate.run(config)
    issues = [r["cells"] for r in read_jsonl(out / "issues.jsonl")]
    assert [(r["issue_id"], r["status"], r.get("completed_on"), r.get("satisfaction"))
            for r in issues] == [("QH-1", "in_progress", None, None),
                                 ("QH-3", "done", "2026-11-01", None)]
    feedback = [r["cells"] for r in read_jsonl(out / "feedback.jsonl")]
    assert feedback == [{"feedback_id": "F2", "channel": "短信", "replied": False}]
    report = report_of(config)
    assert [(s["table"], s["row"], s["reason"]) for s in report["skipped"]] == [
        ("issues", 5, "after_as_of"), ("feedback", 2, "after_as_of")]


def test_english_site_messages_have_no_chinese_leftovers(english):
    write_extract(english, [record(4, good("QH-1", deadline="2026-6/30")),
                            record(5, good("QH-2", deadline="2026年6月")),
                            record(6, good("QH-3", feedback_count="三"))])
    with pytest.raises(ValidationFailed) as caught:
        validate.run(english)
    import re
    for problem in caught.value.problems:
        shown = problem.message.replace(problem.value, "")
        assert not re.search(r"[\u4e00-\u9fff]", shown), problem.message


def test_every_message_exists_in_every_language():
    from etl.config import LANGUAGES
    from etl.site import words
    keys = {language: set(words.section("messages", language)) for language in LANGUAGES}
    assert all(found == keys["zh"] for found in keys.values())

"""The annotated copy of a staff workbook: bad cells filled, the problem as the cell's comment."""

import json

import openpyxl
import pytest

from etl import extract, validate
from etl.config import load_config
from etl.errors import ValidationFailed
from etl.read import annotate


def _config(write_config, name):
    return load_config(write_config(sources=[{"name": "issues", "path": f"sources/{name}"}]))


def _publish_sources(config):
    extract.run(config)
    with pytest.raises(ValidationFailed) as caught:
        validate.run(config)
    return config, caught.value


def test_a_workbook_copy_marks_each_bad_cell_with_its_message(write_config, tmp_path):
    config = _config(write_config, "清单.xlsx")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "整改清单"
    sheet.append(["县整改清单"])
    sheet.append(["序号", "问题描述", "责任单位", "整改进展", "整改时限"])
    sheet.append(["QH-1", "窗口推诿", "县住建局", "正在整改", "2026-06-30"])
    sheet.append(["QH-2", "排队久", None, "正在整改", "2026年13月45日"])
    sheet.append(["QH-3", '=B3&"x"', "县交通局", "正在整改", "2026-06-30"])
    book.save(tmp_path / "sources" / "清单.xlsx")
    config, failure = _publish_sources(config)
    target = config.work_dir / "validate" / "annotated-清单.xlsx"
    assert str(target) in str(failure)  # the terminal names the copy
    marked = openpyxl.load_workbook(target)["整改清单"]
    assert marked["C4"].comment.text == "必填字段 unit 为空"
    assert "不存在的日期" in marked["E4"].comment.text
    assert "公式 =B3&\"x\"" in marked["B5"].comment.text
    assert marked["B5"].value == '=B3&"x"'  # the staff's own formula stays
    for cell in ("C4", "E4", "B5"):
        assert marked[cell].fill.start_color.rgb.endswith(annotate.ERROR_FILL)
    assert marked["A3"].comment is None and marked["B3"].fill.fill_type is None
    report = json.loads((config.work_dir / "validate" / "report.json").read_text("utf-8"))
    assert report["annotated"] == ["annotated-清单.xlsx"]


def test_a_csv_becomes_an_annotated_workbook_with_text_kept_as_text(write_config, tmp_path):
    config = _config(write_config, "清单.csv")
    (tmp_path / "sources" / "清单.csv").write_text(
        "序号,问题描述,责任单位,整改进展\nQH-1,=1+1,,正在整改\nQH-2,甲,乙,搁置\n",
        encoding="utf-8")
    config, _failure = _publish_sources(config)
    marked = openpyxl.load_workbook(config.work_dir / "validate" / "annotated-清单.xlsx").active
    assert [cell.value for cell in marked[1]] == ["序号", "问题描述", "责任单位", "整改进展"]
    assert marked["B2"].value == "=1+1" and marked["B2"].data_type == "s"  # never a formula
    assert marked["C2"].comment.text == "必填字段 unit 为空"
    assert "未知的状态词" in marked["D3"].comment.text

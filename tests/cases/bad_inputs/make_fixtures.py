"""Regenerate the committed bad-input fixtures: `PYTHONPATH=. .venv/bin/python tests/cases/bad_inputs/make_fixtures.py`.

Every fixture is small and deterministic (fixed zip timestamps, seeded random bytes), so a rerun
gives the same bytes and `git status` stays clean. The 50k-row files are not here: the test
generates them in its tmp folder (see GENERATORS in tests/test_bad_inputs.py).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile
from pathlib import Path

from etl.demo.synth_export import fixed_zip

HERE = Path(__file__).resolve().parent
STAMP = dt.datetime(2026, 11, 20, 17, 30)

TITLE = "测试县作风建设问题整改清单（截至2026年11月20日）"
ISSUE_HEADERS = ["问题编号", "问题描述", "问题类别", "乡镇街道", "责任单位", "整改时限", "整改进展",
                 "完成时间", "满意度"]
# Excel rows 3..6 (row 1 is the title, row 2 the header). Ids match the synthetic campaign's, so
# the feedback list still links to them.
GOOD_ROWS = [
    ["QH-2026-0001", "会议多文件多，基层疲于应付", "形式主义", "城关镇", "县政府办公室",
     dt.datetime(2026, 6, 30), "已完成", dt.datetime(2026, 5, 20), 92],
    ["QH-2026-0002", "窗口办事排长队，群众来回跑", "官僚主义", "新华街道", "县行政审批局",
     "2026年9月30日", "整改中", None, None],
    ["QH-2026-0003", "村级台账过多，重痕迹轻实效", "形式主义", "全县", "县委办公室",
     "长期坚持", "长期坚持", None, None],
    ["QH-2026-0004", "部分干部对群众诉求回应慢", "作风问题", "河东乡", "河东乡人民政府",
     dt.datetime(2026, 12, 31), "未启动", None, None],
]


def workbook(rows: list[list], *, title: str | None = TITLE, headers=ISSUE_HEADERS,
             sheet: str = "整改清单") -> bytes:
    """An .xlsx with an optional title row, a header row (if headers) and the rows."""
    from openpyxl import Workbook

    book = Workbook()
    worksheet = book.active
    worksheet.title = sheet
    if title:
        worksheet.append([title])
    if headers:
        worksheet.append(list(headers))
    for row in rows:
        worksheet.append(row)
    for cell in worksheet["F"] + worksheet["H"]:
        if isinstance(cell.value, dt.datetime):
            cell.number_format = 'yyyy"年"m"月"d"日"'
    book.properties.created = book.properties.modified = STAMP
    book.properties.creator = book.properties.lastModifiedBy = "测试"
    # Workbook.save would stamp "modified" with the current time; the writer keeps ours.
    from openpyxl.writer.excel import ExcelWriter

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return fixed_zip(buffer.getvalue(), STAMP)


def issues_with(changes: dict[tuple[int, int], object], extra: list[list] = ()) -> bytes:
    """The good rows with cells replaced: {(excel_row, column_index): value}; plus extra rows."""
    rows = [list(row) for row in GOOD_ROWS] + [list(row) for row in extra]
    for (excel_row, column), value in changes.items():
        rows[excel_row - 3][column] = value
    return workbook(rows)


FEEDBACK_HEADER = "意见编号,收到日期,来源渠道,乡镇街道,承办单位,是否答复,答复日期,归入问题编号,意见内容"
FEEDBACK_ROWS = [
    "YJ-2026-00001,2026-03-01,来信,城关镇,县政府办公室,是,2026-03-21,QH-2026-0001,会议太多",
    "YJ-2026-00002,2026-03-02,来电,新华街道,县行政审批局,否,,QH-2026-0002,排队太久",
    "YJ-2026-00003,2026-03-03,网络,河东乡,河东乡人民政府,否,,QH-2026-0004,回应太慢",
]


def feedback_text(rows=FEEDBACK_ROWS) -> str:
    return "\r\n".join([FEEDBACK_HEADER, *rows]) + "\r\n"


HTML_LOGIN = """<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>统一身份认证平台 - 登录</title></head>
<body>
<div class="login"><h1>请先登录</h1>
<form method="post" action="/cas/login"><input name="username"><input type="password" name="password">
<button>登录</button></form></div>
<script>window.location.href = "/cas/login?service=%2Fexport%2Ffeedback.csv";</script>
</body>
</html>
"""

# What many web systems send as "导出Excel": an HTML table with an Excel name.
HTML_TABLE = """<html xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:x="urn:schemas-microsoft-com:office:excel">
<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>
<body><table border="1">
<tr><th>问题编号</th><th>问题描述</th><th>责任单位</th><th>整改进展</th></tr>
<tr><td>QH-2026-0001</td><td>会议多文件多</td><td>县政府办公室</td><td>已完成</td></tr>
</table></body></html>
"""


def build() -> dict[str, bytes]:
    """File name -> bytes of every committed fixture."""
    files: dict[str, bytes] = {}
    good = workbook([list(row) for row in GOOD_ROWS])
    files["issues_ok.xlsx"] = good  # the base the others differ from; also sliced below

    # --- the file is not a readable workbook ---------------------------------------------
    files["random_bytes.xlsx"] = random.Random("gongshi bad inputs").randbytes(2048)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as target:
        for name, text in (("说明.txt", "附件：问题整改清单（见扫描件）\n"),
                           ("scan/page1.txt", "第一页\n")):
            info = zipfile.ZipInfo(name, date_time=STAMP.timetuple()[:6])
            target.writestr(info, text.encode("utf-8"))
    files["zip_not_workbook.xlsx"] = archive.getvalue()
    files["truncated.xlsx"] = good[: len(good) // 2]
    files["html_table.xlsx"] = HTML_TABLE.encode("utf-8")
    files["empty.xlsx"] = b""
    files["empty_sheet.xlsx"] = workbook([], title=None, headers=None, sheet="Sheet1")
    files["no_known_headers.xlsx"] = workbook(
        [["1", "会议多", "县政府办公室"], ["2", "排队久", "县行政审批局"]],
        title=None, headers=["甲", "乙", "丙"])

    # --- rows that are read but wrong ----------------------------------------------------
    files["duplicate_ids.xlsx"] = issues_with({(5, 0): "QH-2026-0002"})
    files["unknown_status.xlsx"] = issues_with({(4, 6): "基本完成"})
    files["bad_date.xlsx"] = issues_with({(6, 5): "2026年13月45日"})
    files["satisfaction_150.xlsx"] = issues_with({(3, 8): 150})
    files["dotdot_id.xlsx"] = issues_with({(4, 0): "../QH-2026-0002"})
    files["case_ids.xlsx"] = issues_with({}, extra=[[
        "qh-2026-0004", "同一问题的小写编号", "作风问题", "河东乡", "河东乡人民政府",
        dt.datetime(2026, 12, 31), "未启动", None, None]])
    # A formula saved without its computed value (as openpyxl and export scripts write it) and
    # an Excel error value: each its own error, never "required field is empty".
    files["formula_no_value.xlsx"] = issues_with({(4, 1): '=C4&"问题"'})
    files["error_cell.xlsx"] = issues_with({(5, 4): "#N/A"})
    # A 合计 total row under the items, plus one real error: only the real one is reported.
    files["total_row.xlsx"] = issues_with({(6, 5): "2026年13月45日"}, extra=[[
        "合计", None, None, None, None, None, None, None, None]])

    # --- the feedback CSV ----------------------------------------------------------------
    files["html_login.csv"] = HTML_LOGIN.encode("utf-8")
    files["empty.csv"] = b""
    # UTF-16 (as "Unicode text" from Excel) without its byte-order mark: neither UTF-8 nor GB18030.
    files["utf16le_no_bom.csv"] = feedback_text().encode("utf-16-le")
    # A Japanese office's Shift-JIS export: the half-width katakana ｳ (0xB3) before a comma is
    # no GB18030 sequence, so the bytes truly fail both decoders (checked in the test).
    files["shift_jis.csv"] = ("意見番号,受付日,経路,担当部署\r\n"
                              "YJ-2026-00001,2026-03-01,ｳ,総務課\r\n").encode("shift_jis")
    rows = list(FEEDBACK_ROWS)
    # A stray NUL inside a published cell (承办单位 of Excel row 3): a damaged or mis-saved file.
    rows[1] = rows[1].replace("县行政审批局", "县行政审\x00批局")
    files["nul_byte.csv"] = feedback_text(rows).encode("utf-8")
    # Cut short, as by an interrupted download or copy: inside a two-byte GBK character of the
    # last row, and at a character boundary in the middle of the last row.
    gbk = feedback_text().encode("gbk")
    inside = gbk.index("回应太慢".encode("gbk")) + 1
    files["truncated_mid_character.csv"] = gbk[:inside]
    files["truncated_mid_row.csv"] = gbk[:gbk.index("河东".encode("gbk")) + 4]
    # A quote opened and never closed: everything after it would become one cell.
    rows = list(FEEDBACK_ROWS)
    rows[0] = rows[0].replace("会议太多", '"会议太多')
    files["unclosed_quote.csv"] = feedback_text(rows).encode("utf-8")
    return files


def main() -> None:
    for name, data in build().items():
        (HERE / name).write_bytes(data)
        print(f"{len(data):7d}  {name}")


if __name__ == "__main__":
    main()

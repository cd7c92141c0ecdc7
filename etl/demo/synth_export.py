"""Project a synthetic campaign onto one date and write that export as offices do: xlsx and GBK CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path

from etl.demo.model import Campaign, Issue
from etl.demo.synth_phrases import COUNTY


ISSUES_FILE = "问题整改清单.xlsx"
FEEDBACK_FILE = "意见建议台账.csv"
ISSUE_HEADERS = ["问题编号", "问题描述", "问题类别", "乡镇街道", "责任单位", "责任人", "来源渠道",
                 "意见条数", "梳理日期", "立行立改", "整改措施", "整改目标", "整改时限", "整改进展", "完成时间",
                 "完成情况", "合并至", "满意度", "答复内容", "答复日期"]
FEEDBACK_HEADERS = ["意见编号", "收到日期", "来源渠道", "乡镇街道", "承办单位", "是否答复", "答复日期",
                    "归入问题编号", "意见内容", "反映人", "联系方式"]


def issue_state(issue: Issue, day: dt.date) -> dict | None:
    """What the office's export on `day` says about an item, or None if not yet listed."""
    if issue.identified > day:
        return None
    deadline = issue.deadline
    if issue.extended_on is not None and day < issue.extended_on:
        deadline = issue.first_deadline
    done = issue.completed is not None and issue.completed <= day
    scored = issue.scored_on is not None and issue.scored_on <= day
    closed = bool(issue.closure) and issue.closed_on <= day
    if closed:
        status = issue.closure
    elif done and scored and issue.rework_status:
        status = "rework"
    elif done:
        status = "done"
    elif issue.deadline is None:
        status = "long_term"
    elif issue.started <= day:
        status = "in_progress"
    else:
        status = "open"
    reply, replied_on = "", None
    if issue.final_on is not None and issue.final_on <= day:
        reply, replied_on = issue.final_reply, issue.final_on
    elif issue.interim_on is not None and issue.interim_on <= day:
        reply, replied_on = issue.interim_reply, issue.interim_on
    return {"status": status, "word": issue.words[status], "deadline": deadline,
            "completed": issue.closed_on if closed else issue.completed if done else None,
            "result": issue.closure_note if closed else issue.result if done else "",
            "merged_into": issue.merged_into if closed else "",
            "score": issue.score if scored else None, "reply": reply, "replied_on": replied_on}


def _text_date(day: dt.date, style: int) -> str:
    if style % 3 == 0:
        return f"{day.year}年{day.month}月{day.day}日"
    if style % 3 == 1:
        return f"{day.year}.{day.month}.{day.day}"
    return f"{day.year}/{day.month}/{day.day}"


def _issue_row(issue: Issue, state: dict, date_cell) -> list:
    deadline = state["deadline"]
    if deadline is None:
        deadline_value = "长期坚持"
    elif issue.style < 82:  # most offices type real dates; some type text, as people do
        deadline_value = date_cell(deadline, issue.style % 2)
    else:
        deadline_value = _text_date(deadline, issue.style)
    completed = state["completed"]
    if completed is not None:
        completed = _text_date(completed, 1) if issue.style >= 95 else date_cell(completed, 0)
    score = state["score"]
    if score is not None and issue.style % 50 == 7:
        score = f"{score}分"
    replied_on = state["replied_on"]
    return [issue.issue_id, issue.description, issue.category, issue.area, issue.unit, issue.owner,
            issue.channel, issue.feedback_count, date_cell(issue.identified, 0),
            "是" if issue.immediate else None, issue.measures,
            issue.target, deadline_value, state["word"], completed, state["result"],
            state["merged_into"] or None, score,
            state["reply"] or None, date_cell(replied_on, 0) if replied_on else None]


def fixed_zip(data: bytes, stamp: dt.datetime) -> bytes:
    """Re-pack a zip with one fixed timestamp per entry, so the same content gives the same bytes."""
    output = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry.filename), compresslevel=6)
    return output.getvalue()


def write_issues(campaign: Campaign, day: dt.date, path: Path) -> int:
    """The 整改清单 workbook as of `day`: merged title and subtitle rows, then the header row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("整改清单")
    last = get_column_letter(len(ISSUE_HEADERS))
    for width, column in zip((14, 48, 10, 10, 18, 8, 14, 8, 12, 8, 48, 32, 14, 10, 12, 30, 14,
                              8, 40, 12),
                             range(1, len(ISSUE_HEADERS) + 1)):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.merged_cells.add(f"A1:{last}1")
    sheet.merged_cells.add(f"A2:{last}2")
    title = WriteOnlyCell(sheet, f"{COUNTY}作风建设问题整改清单（截至{day.year}年{day.month}月{day.day}日）")
    title.font, title.alignment = Font(bold=True, size=16), Alignment(horizontal="center")
    sheet.append([title])
    sheet.append([f"填报单位：{COUNTY}作风建设工作领导小组办公室（示例数据，单位、人名、电话均为虚构）"])
    header_cells = []
    for header in ISSUE_HEADERS:
        cell = WriteOnlyCell(sheet, header)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    formats = ('yyyy"年"m"月"d"日"', "yyyy/m/d")

    def date_cell(value: dt.date, kind: int):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = formats[kind]
        return cell

    rows = 0
    for issue in campaign.issues:
        state = issue_state(issue, day)
        if state is not None:
            sheet.append(_issue_row(issue, state, date_cell))
            rows += 1
    # Fixed document times (openpyxl would stamp "now"), so regenerating gives identical bytes.
    stamp = dt.datetime.combine(day, dt.time(17, 30))
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = book.properties.lastModifiedBy = f"{COUNTY}作风办"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    path.write_bytes(fixed_zip(buffer.getvalue(), stamp))
    return rows


def _ledger_date(value: dt.date, style: int) -> str:
    """Dates as the ledger's clerks typed them: mostly ISO, some 2026/3/5."""
    return value.isoformat() if style < 40 else f"{value.year}/{value.month}/{value.day}"


def write_feedback(campaign: Campaign, day: dt.date, path: Path) -> int:
    """The 意见建议台账 as of `day`, as a GBK CSV the way WPS and Excel save it in China."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FEEDBACK_HEADERS)
    rows = 0
    # An opinion is filed under an issue only once that issue is on the list.
    listed = {issue.issue_id for issue in campaign.issues if issue.identified <= day}
    for opinion in campaign.feedback:
        if opinion.received > day:
            continue
        replied = opinion.replied_on is not None and opinion.replied_on <= day
        writer.writerow([opinion.feedback_id, _ledger_date(opinion.received, opinion.style),
                         opinion.channel, opinion.area, opinion.unit, "是" if replied else "否",
                         _ledger_date(opinion.replied_on, opinion.style) if replied else "",
                         opinion.issue_id if opinion.issue_id in listed else "",
                         opinion.text, opinion.complainant, opinion.contact])
        rows += 1
    path.write_bytes(buffer.getvalue().encode("gbk"))
    return rows


def write_export(campaign: Campaign, day: dt.date, folder: Path) -> dict:
    """Both files of one export into `folder`; returns row counts."""
    folder.mkdir(parents=True, exist_ok=True)
    return {"issues": write_issues(campaign, day, folder / ISSUES_FILE),
            "feedback": write_feedback(campaign, day, folder / FEEDBACK_FILE)}



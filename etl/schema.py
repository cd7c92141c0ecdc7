"""Canonical tables: field names, types, order, status vocabulary and default column names."""

from __future__ import annotations

import re
from dataclasses import dataclass

STATUSES = ("open", "in_progress", "done", "long_term", "rework")

STATUS_LABELS_ZH = {
    "open": "未启动",
    "in_progress": "整改中",
    "done": "已完成",
    "long_term": "长期坚持",
    "rework": "返工",
}

STATUS_LABELS_EN = {
    "open": "Not started",
    "in_progress": "In progress",
    "done": "Completed",
    "long_term": "Ongoing",
    "rework": "Rework",
}

STATUS_LABELS = {"zh": STATUS_LABELS_ZH, "en": STATUS_LABELS_EN}


def status_labels(language: str = "zh") -> dict[str, str]:
    """Canonical status -> the word the site shows for it, in the site's language."""
    if language not in STATUS_LABELS:
        raise ValueError(f"language must be one of {', '.join(STATUS_LABELS)}, not {language!r}")
    return STATUS_LABELS[language]


@dataclass(frozen=True)
class Field:
    """One canonical column: name, type (string/integer/number/date/boolean), meaning."""

    name: str
    type: str
    title: str
    required: bool = False
    public: bool = True


ISSUE_FIELDS: tuple[Field, ...] = (
    Field("issue_id", "string", "问题编号", required=True),
    Field("title", "string", "问题标题"),
    Field("description", "string", "问题描述", required=True),
    Field("category", "string", "问题类别"),
    Field("area", "string", "所属区域"),
    Field("unit", "string", "责任单位", required=True),
    Field("owner", "string", "责任人", public=False),
    Field("channel", "string", "来源渠道"),
    Field("feedback_count", "integer", "意见条数"),
    Field("identified_on", "date", "梳理日期"),
    Field("measures", "string", "整改措施"),
    Field("target", "string", "整改目标"),
    Field("deadline", "date", "整改时限"),
    Field("deadline_note", "string", "时限说明"),
    Field("status", "string", "整改状态", required=True),
    Field("completed_on", "date", "完成时间"),
    Field("result", "string", "完成情况"),
    Field("satisfaction", "number", "满意度"),
    Field("reply", "string", "答复内容"),
    Field("replied_on", "date", "答复日期"),
)

FEEDBACK_FIELDS: tuple[Field, ...] = (
    Field("feedback_id", "string", "意见编号", required=True),
    Field("received_on", "date", "收到日期"),
    Field("channel", "string", "来源渠道", required=True),
    Field("area", "string", "所属区域"),
    Field("unit", "string", "承办单位"),
    Field("replied", "boolean", "是否答复"),
    Field("replied_on", "date", "答复日期"),
    Field("issue_id", "string", "归入问题编号"),
    Field("text", "string", "意见内容", public=False),
    Field("complainant", "string", "反映人", public=False),
    Field("contact", "string", "联系方式", public=False),
)

TABLES: dict[str, tuple[Field, ...]] = {"issues": ISSUE_FIELDS, "feedback": FEEDBACK_FIELDS}

# Field.title is the Chinese heading; English pages label issue fields with these instead.
FIELD_TITLES_EN: dict[str, str] = {
    "issue_id": "Issue ID", "title": "Title", "description": "Description",
    "category": "Issue category", "area": "Area", "unit": "Responsible unit",
    "owner": "Responsible person", "channel": "Source channel", "feedback_count": "Opinions",
    "identified_on": "Identified on", "measures": "Rectification measures",
    "target": "Rectification target", "deadline": "Deadline", "deadline_note": "Deadline note",
    "status": "Status", "completed_on": "Completed on", "result": "Result",
    "satisfaction": "Satisfaction", "reply": "Reply", "replied_on": "Replied on",
    "feedback_id": "Opinion ID", "received_on": "Received on", "replied": "Replied",
    "text": "Opinion", "complainant": "Complainant", "contact": "Contact",
}


def field_title(field: Field, language: str = "zh") -> str:
    """The heading of a field in the site's language."""
    if language == "en":
        return FIELD_TITLES_EN[field.name]
    status_labels(language)  # rejects an unknown language with the same message
    return field.title
PRIMARY_KEYS = {"issues": "issue_id", "feedback": "feedback_id"}

# Columns that identify a complainant are never published, whatever the config says.
NEVER_PUBLISHED = frozenset({"complainant", "contact"})

# Source header -> canonical field.  Simplified and traditional spellings; the config may add more.
DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    "issues": {
        "序号": "issue_id", "序號": "issue_id", "編號": "issue_id", "编号": "issue_id",
        "问题编号": "issue_id", "問題編號": "issue_id", "issue_id": "issue_id",
        "问题标题": "title", "問題標題": "title", "标题": "title", "title": "title",
        "问题描述": "description", "問題描述": "description", "存在问题": "description",
        "存在問題": "description", "问题表现": "description", "description": "description",
        "问题类别": "category", "問題類別": "category", "类别": "category", "category": "category",
        "所属区域": "area", "所屬區域": "area", "乡镇街道": "area", "鄉鎮街道": "area", "乡镇": "area",
        "area": "area",
        "责任单位": "unit", "責任單位": "unit", "牵头单位": "unit", "牽頭單位": "unit",
        "unit": "unit",
        "责任人": "owner", "責任人": "owner", "owner": "owner",
        "来源渠道": "channel", "來源渠道": "channel", "问题来源": "channel", "問題來源": "channel",
        "channel": "channel",
        "意见条数": "feedback_count", "意見條數": "feedback_count", "feedback_count": "feedback_count",
        "梳理日期": "identified_on", "列入清单日期": "identified_on", "identified_on": "identified_on",
        "整改措施": "measures", "整改措施内容": "measures", "measures": "measures",
        "整改目标": "target", "整改目標": "target", "target": "target",
        "整改时限": "deadline", "整改時限": "deadline", "完成时限": "deadline", "完成時限": "deadline",
        "deadline": "deadline",
        "时限说明": "deadline_note", "時限說明": "deadline_note", "deadline_note": "deadline_note",
        "整改进展": "status", "整改進展": "status", "整改状态": "status", "整改狀態": "status",
        "status": "status",
        "完成时间": "completed_on", "完成時間": "completed_on", "completed_on": "completed_on",
        "完成情况": "result", "完成情況": "result", "result": "result",
        "满意度": "satisfaction", "滿意度": "satisfaction", "满意度测评": "satisfaction",
        "滿意度測評": "satisfaction",
        "satisfaction": "satisfaction",
        "答复内容": "reply", "答覆內容": "reply", "reply": "reply",
        "答复日期": "replied_on", "答覆日期": "replied_on", "replied_on": "replied_on",
    },
    "feedback": {
        "意见编号": "feedback_id", "意見編號": "feedback_id", "序号": "feedback_id",
        "序號": "feedback_id", "feedback_id": "feedback_id",
        "收到日期": "received_on", "受理日期": "received_on", "received_on": "received_on",
        "来源渠道": "channel", "來源渠道": "channel", "渠道": "channel", "channel": "channel",
        "所属区域": "area", "所屬區域": "area", "乡镇街道": "area", "鄉鎮街道": "area",
        "area": "area",
        "承办单位": "unit", "承辦單位": "unit", "责任单位": "unit", "unit": "unit",
        "是否答复": "replied", "是否答覆": "replied", "replied": "replied",
        "答复日期": "replied_on", "答覆日期": "replied_on", "replied_on": "replied_on",
        "归入问题编号": "issue_id", "歸入問題編號": "issue_id", "问题编号": "issue_id",
        "issue_id": "issue_id",
        "意见内容": "text", "意見內容": "text", "text": "text",
        "反映人": "complainant", "姓名": "complainant", "complainant": "complainant",
        "联系方式": "contact", "聯繫方式": "contact", "联系电话": "contact", "聯繫電話": "contact",
        "contact": "contact",
    },
}

# Source status word -> canonical status.  Matching compares status_key() of both sides.
DEFAULT_STATUS_WORDS: dict[str, str] = {
    "已完成": "done", "已整改到位": "done", "已销号": "done", "已銷號": "done",
    "整改完成": "done", "已办结": "done", "已辦結": "done", "完成": "done",
    "正在整改": "in_progress", "整改中": "in_progress", "序时推进": "in_progress",
    "序時推進": "in_progress", "推进中": "in_progress", "推進中": "in_progress",
    "长期坚持": "long_term", "長期堅持": "long_term", "持续整改": "long_term",
    "持續整改": "long_term",
    "未启动": "open", "未啟動": "open", "未开始": "open", "未開始": "open", "待整改": "open",
    "返工": "rework", "重新整改": "rework",
    "open": "open", "in_progress": "in_progress", "done": "done", "long_term": "long_term",
    "rework": "rework",
    # English words of Open311 (open/closed) and 311 CSV exports (NYC's Status column).
    "closed": "done", "in progress": "in_progress", "inprogress": "in_progress",
    "pending": "in_progress", "assigned": "in_progress", "started": "in_progress",
}



def status_key(word) -> str:
    """How status words are compared: all white space removed, then case-folded.

    Applied to the vocabulary (these defaults and the config's status_words) and to every
    cell looked up, so "基本 完成", "Work Done" and "in progress" match however they are typed.
    """
    return "".join(str(word).split()).casefold()


BOOLEAN_WORDS = {
    "是": True, "已答复": True, "已答覆": True, "true": True, "yes": True, "y": True, "1": True,
    "否": False, "未答复": False, "未答覆": False, "false": False, "no": False, "n": False,
    "0": False,
}


def id_order(identifier: str) -> tuple:
    """The order ids are listed in everywhere: natural (QH-2 before QH-10), then the raw id, so
    the order is total and stable."""
    parts = re.split(r"(\d+)", identifier)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), identifier


def field_names(table: str) -> list[str]:
    """Canonical column order of a table."""
    return [f.name for f in TABLES[table]]


def field_types(table: str) -> dict[str, str]:
    return {f.name: f.type for f in TABLES[table]}

"""Canonical tables: field names, types, order, status vocabulary and default column names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from etl.errors import MetricsShapeError

# The four closures that are not fixes end an item without rectifying it: 解释说明 (explained,
# not feasible now), 不予采纳 (not adopted, with the reason in 完成情况), 合并 (merged into the
# issue named in merged_into) and 移交 (transferred elsewhere). Counted apart, never as done.
CLOSURES = ("explained", "not_adopted", "merged", "transferred")
STATUSES = ("open", "in_progress", "done", "long_term", "rework", *CLOSURES)

@dataclass(frozen=True)
class Field:
    """One canonical column: name and type (string/integer/number/date/boolean).

    Its heading in each language is in templates/text.yml (`field_titles`, etl/site/words.py).
    """

    name: str
    type: str
    required: bool = False
    public: bool = True


ISSUE_FIELDS: tuple[Field, ...] = (
    Field("issue_id", "string", required=True),
    Field("title", "string"),
    Field("description", "string", required=True),
    Field("category", "string"),
    Field("area", "string"),
    Field("unit", "string", required=True),
    Field("owner", "string", public=False),
    Field("channel", "string"),
    Field("feedback_count", "integer"),
    Field("identified_on", "date"),
    Field("immediate", "boolean"),
    Field("measures", "string"),
    Field("target", "string"),
    Field("deadline", "date"),
    Field("deadline_note", "string"),
    Field("status", "string", required=True),
    Field("completed_on", "date"),
    Field("result", "string"),
    Field("merged_into", "string"),
    Field("satisfaction", "number"),
    Field("reply", "string"),
    Field("replied_on", "date"),
)

FEEDBACK_FIELDS: tuple[Field, ...] = (
    Field("feedback_id", "string", required=True),
    Field("received_on", "date"),
    Field("channel", "string", required=True),
    Field("area", "string"),
    Field("unit", "string"),
    Field("replied", "boolean"),
    Field("replied_on", "date"),
    Field("issue_id", "string"),
    Field("text", "string", public=False),
    Field("complainant", "string", public=False),
    Field("contact", "string", public=False),
)

TABLES: dict[str, tuple[Field, ...]] = {"issues": ISSUE_FIELDS, "feedback": FEEDBACK_FIELDS}

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
        "立行立改": "immediate", "是否立行立改": "immediate", "立行立改事项": "immediate",
        "immediate": "immediate",
        "整改措施": "measures", "整改措施内容": "measures", "measures": "measures",
        "整改目标": "target", "整改目標": "target", "target": "target",
        "整改时限": "deadline", "整改時限": "deadline", "完成时限": "deadline", "完成時限": "deadline",
        "deadline": "deadline",
        "时限说明": "deadline_note", "時限說明": "deadline_note", "deadline_note": "deadline_note",
        "整改进展": "status", "整改進展": "status", "整改状态": "status", "整改狀態": "status",
        "status": "status",
        "完成时间": "completed_on", "完成時間": "completed_on", "completed_on": "completed_on",
        "完成情况": "result", "完成情況": "result", "result": "result",
        "合并至": "merged_into", "合併至": "merged_into", "并入问题编号": "merged_into",
        "併入問題編號": "merged_into", "合并到": "merged_into", "merged_into": "merged_into",
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
    "解释说明": "explained", "解釋說明": "explained", "已解释说明": "explained",
    "暂不具备条件": "explained", "暫不具備條件": "explained",
    "不予采纳": "not_adopted", "不予採納": "not_adopted", "未予采纳": "not_adopted",
    "合并": "merged", "合併": "merged", "合并办理": "merged", "合併辦理": "merged",
    "已合并": "merged",
    "移交": "transferred", "已移交": "transferred", "移交办理": "transferred",
    "移交辦理": "transferred", "转办": "transferred", "轉辦": "transferred",
    "open": "open", "in_progress": "in_progress", "done": "done", "long_term": "long_term",
    "rework": "rework", "explained": "explained", "not_adopted": "not_adopted",
    "merged": "merged", "transferred": "transferred",
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


# --- metrics.json: the figures contract between metrics, render, snapshot, verify and diff ---

# Every section metrics.json has, with its JSON type (see ARCHITECTURE.md, "metrics.json").
METRICS_SECTIONS: dict[str, type] = {
    "as_of": str, "parameters": dict, "figures": dict, "groups": dict, "funnel": list,
    "series": dict, "lists": dict, "days_late": dict, "claims": list, "ranking": dict,
}
METRICS_GROUP_KINDS = ("unit", "area", "category", "channel")
METRICS_SERIES = ("burnup", "snapshots")
METRICS_LISTS = ("overdue", "rework", "stale", "due_10", "due_20")


class _Strict(dict):
    """A mapping whose missing key is an error naming what is missing, never a quiet default."""

    def __init__(self, values: dict, what: str, source: str) -> None:
        super().__init__(values)
        self.what, self.source = what, source

    def __missing__(self, key):
        raise MetricsShapeError(f"{self.source}: no {self.what} {key!r}",
                                hint="rerun `python -m etl metrics` (or publish) so metrics.json "
                                     "is written by this version of Gongshi")

    def get(self, key, default=None):  # a reader may not ask for a default: the key must exist
        return self[key]


def metrics_shape(data: dict, source: str = "metrics.json") -> dict:
    """Check metrics.json's shape and return it with strict sections: reading a missing section,
    figure, group kind, series or list raises MetricsShapeError naming it."""
    if not isinstance(data, dict):
        raise MetricsShapeError(f"{source}: expected a JSON object")
    problems = [f"section {name!r} is missing" for name in METRICS_SECTIONS if name not in data]
    problems += [f"section {name!r} should be a {kind.__name__}"
                 for name, kind in METRICS_SECTIONS.items()
                 if name in data and not isinstance(data[name], kind)]
    for section, names in (("groups", METRICS_GROUP_KINDS), ("series", METRICS_SERIES),
                           ("lists", METRICS_LISTS)):
        if isinstance(data.get(section), dict):
            problems += [f"{section}.{name} is missing" for name in names if name not in data[section]]
    if problems:
        raise MetricsShapeError(f"{source}: " + "; ".join(problems),
                                hint="rerun `python -m etl metrics` (or publish)")
    shaped = _Strict(data, "section", source)
    for section, what in (("figures", "figure"), ("groups", "group kind"), ("series", "series"),
                          ("lists", "list"), ("parameters", "parameter")):
        shaped[section] = _Strict(data[section], what, f"{source} {section}")
    return shaped


def load_metrics(path) -> dict:
    """The one reader of a metrics.json file: parsed, shape-checked, strict (metrics_shape)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MetricsShapeError(f"{path} is missing", hint="run the metrics stage first")
    except ValueError as error:
        raise MetricsShapeError(f"{path} is not JSON: {error}")
    return metrics_shape(data, str(path))

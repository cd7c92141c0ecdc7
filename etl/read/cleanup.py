"""Clean-up the config asks validate for: total rows, name spellings, cells that hold no value.

Pure functions on one row's cells (canonical field -> value as extract wrote it), so each rule
can be tested alone and validate only wires them to its problems and report.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

# A total or subtotal row (合计 203 项) is no item. Matched against a cell with its spaces
# removed, so 合 计 and 合计： are found too; simplified and traditional spellings.
TOTAL_ROW = re.compile(r"[合总總小][计計](?:[:：].*|\d.*|[（(].*)?")
# Name endings that differ between two spellings of one office or place: 县城关镇 / 县城关.
COMMON_SUFFIXES = ("人民政府", "街道办事处", "办事处", "委员会", "办公室", "有限公司", "公司",
                   "管理局", "中心", "街道", "政府", "社区", "局", "委", "办", "镇", "乡", "村")
# Fields whose values are group names on the site (metrics groups them); spaces inside a
# Chinese name there are typing noise, never meaning.
NAME_FIELDS = ("unit", "area", "category", "channel")
ALIAS_FIELDS = ("unit", "area")
_CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]"
_SPACE_NEXT_TO_CJK = re.compile(rf"(?<={_CJK})\s+|\s+(?={_CJK})")
_SPACES = re.compile(r"\s+")


def skip_reason(cells: Mapping, patterns: Iterable[re.Pattern]) -> str | None:
    """The text of the cell that makes this a total row (合计, 总计, 小计 or a configured
    pattern, matched whole), or None for an ordinary row."""
    for value in cells.values():
        if not isinstance(value, str):
            continue
        compact = "".join(value.split())
        if TOTAL_ROW.fullmatch(compact):
            return value
        if any(pattern.fullmatch(value.strip()) for pattern in patterns):
            return value
    return None


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern]:
    return [re.compile(pattern) for pattern in patterns]


def normalize_name(text: str) -> str:
    """A group name with the spaces around Chinese characters removed (县 交通局 -> 县交通局)
    and any other run of spaces made one."""
    return _SPACES.sub(" ", _SPACE_NEXT_TO_CJK.sub("", text)).strip()


def canonical_name(field: str, text: str, aliases: Mapping[str, Mapping[str, str]]) -> str:
    """The name a group is counted under: normalised, then its configured alias resolved."""
    name = normalize_name(text)
    mapping = aliases.get(field) or {}
    if name in mapping:
        return mapping[name]
    normalized = {normalize_name(alias): target for alias, target in mapping.items()}
    return normalized.get(name, name)


def name_key(name: str) -> str:
    """What two spellings of one name share: width-folded, no spaces, no common suffix."""
    key = "".join(unicodedata.normalize("NFKC", name).split()).casefold()
    for suffix in COMMON_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix)]
    return key


def near_duplicates(names: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs (first seen, other) of distinct names with the same name_key, in first-seen order."""
    first: dict[str, str] = {}
    pairs = []
    for name in names:
        key = name_key(name)
        earlier = first.setdefault(key, name)
        if earlier != name and (earlier, name) not in pairs:
            pairs.append((earlier, name))
    return pairs


def empty_cell_marker(value) -> dict | None:
    """The marker extract writes for a workbook cell with no usable value: a formula without a
    computed value ({"formula", "cell"}) or an Excel error ({"error", "cell", "formula"?})."""
    if isinstance(value, Mapping) and "cell" in value and ("formula" in value or "error" in value):
        return dict(value)
    return None


# --- the as_of cut --------------------------------------------------------------------------

# Per table: the date that makes a row not yet exist at as_of, and the dated events undone.
_CREATED_ON = {"issues": "identified_on", "feedback": "received_on"}


def dates_after(table: str, typed: Mapping, as_of: str) -> list[str]:
    """The date fields of a typed row later than as_of (ISO text compares as dates)."""
    names = ("identified_on", "completed_on", "replied_on") if table == "issues" else \
        ("received_on", "replied_on")
    return [name for name in names if typed.get(name) and typed[name] > as_of]


def cut_row(table: str, typed: dict, as_of: str) -> tuple[dict | None, list[str]]:
    """The row as it stood at as_of: None if it did not exist yet, else with later events
    undone; and the message codes (cut_dropped, cut_undone, cut_unreplied) saying what changed.

    A completion after as_of means the item was still being worked on (in_progress) then, with
    no completion date and no satisfaction score yet; a reply after as_of was not yet made.
    """
    late = dates_after(table, typed, as_of)
    if not late:
        return typed, []
    if _CREATED_ON[table] in late:
        return None, ["cut_dropped"]
    cut = dict(typed)
    notes = []
    if "completed_on" in late:
        for name in ("completed_on", "satisfaction"):
            cut.pop(name, None)
        if cut.get("status") in ("done", "rework"):
            cut["status"] = "in_progress"
        notes.append("cut_undone")
    if "replied_on" in late:
        cut.pop("replied_on", None)
        cut.pop("reply", None)
        if table == "feedback":
            cut["replied"] = False
        notes.append("cut_unreplied")
    return cut, notes

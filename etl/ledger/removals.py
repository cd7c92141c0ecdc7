"""The removal guard: a publish that drops published items stops unless a reason is given.

A published item should never quietly disappear: a cut-short export (half its rows, still a
valid file) would otherwise replace the site with exit 0. `snapshot.run` compares the tables it
is about to stage with the snapshot they follow (`previous`), before writing anything, and:

- any id of the previous snapshot that is gone stops the publish, unless a reason is given
  (`removals.allowed_reason` in the config, or `--allow-removals REASON` for one publish);
- under the config's standing reason, a table whose rows fall by more than
  `removals.max_drop_share` still stops: a standing permission for routine merges must not
  let a cut-short export through. `--allow-removals` lifts that cap for its one publish.

An allowed removal is recorded in the manifest (`removals`: the reason, and per table the ids
removed and the row counts) and shown on the changes page. Snapshots without removals carry no
such field, so their bytes and ids are what they were before the guard existed.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from etl import schema
from etl.errors import ConfigError, SnapshotError
from etl.ledger import tables

TABLE_NAMES = ("issues", "feedback")
SHOWN_IDS = 10  # ids named in the error; the count says how many there are in all

# The guard's words reach the staff who publish, so they are in the site's language.
MESSAGES = {
    "zh": {
        "table": {"issues": "问题清单 (issues)", "feedback": "意见建议台账 (feedback)"},
        "removed": "{table}比上一次快照 {previous} 少了 {count} 条已公示的条目：{ids}",
        "more": "……（共 {count} 条，只列出前 {shown} 条）",
        "drop": "{table}的行数从 {before} 条降到 {after} 条，减少 {share}，"
                "超过允许的 {limit} (removals.max_drop_share)",
        "stopped": "发布已停止，网站和快照都没有改动：",
        "hint_reason": "如果导出不完整，请重新导出完整的清单再发布；如果确实要删除这些条目，"
                       "请加上 --allow-removals \"原因\" 重新发布（或在配置中设置 "
                       "removals.allowed_reason），原因会记入快照 manifest.json 并在“本次变化”页公示",
        "hint_share": "配置中的 removals.allowed_reason 只允许少量删除；如果导出不完整，请重新导出"
                      "完整的清单再发布；如果确实要删除这么多条目，请加上 --allow-removals "
                      "\"原因\" 重新发布，原因会记入快照 manifest.json 并在“本次变化”页公示",
    },
    "en": {
        "table": {"issues": "the issue list (issues)", "feedback": "the feedback list (feedback)"},
        "removed": "{table} lacks {count} published item(s) of the previous snapshot "
                   "{previous}: {ids}",
        "more": " ... ({count} in all, the first {shown} shown)",
        "drop": "{table} fell from {before} to {after} rows, {share} fewer, more than the "
                "{limit} allowed (removals.max_drop_share)",
        "stopped": "publish stopped; the site and the snapshots are unchanged:",
        "hint_reason": "if the export is incomplete, export the whole list again and publish; if "
                       "these items are really to be removed, publish again with "
                       "--allow-removals \"REASON\" (or set removals.allowed_reason in the "
                       "config); the reason is recorded in the snapshot's manifest.json and "
                       "shown on the changes page",
        "hint_share": "the config's removals.allowed_reason allows small removals only; if the "
                      "export is incomplete, export the whole list again and publish; if this "
                      "many items are really to be removed, publish again with "
                      "--allow-removals \"REASON\"; the reason is recorded in the snapshot's "
                      "manifest.json and shown on the changes page",
    },
}


def allow(config, reason: str):
    """The config for a publish run with `--allow-removals REASON`: any removal, no share cap."""
    reason = " ".join(reason.split())
    if not reason:
        raise ConfigError(["--allow-removals: give the reason the items are removed, in words "
                           "the public will read on the changes page"])
    return config.replace(removals=dataclasses.replace(
        config.removals, allowed_reason=reason, max_drop_share=1.0))


def _ids(path: Path, table: str) -> list[str]:
    """The key column of a committed snapshot's canonical CSV, read alone."""
    key = schema.PRIMARY_KEYS[table]
    if not path.is_file():
        return []
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                        usecols=[key])
    return [tables.restore(value) for value in frame[key] if value != ""]


def find(previous: Path, frames: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """Per table: the ids of the `previous` snapshot folder missing from `frames`, and row counts."""
    found = {}
    for table in TABLE_NAMES:
        key = schema.PRIMARY_KEYS[table]
        before = _ids(previous / f"{table}.csv", table)
        after = set(frames[table][key].dropna().astype(str))
        found[table] = {"ids": sorted((i for i in before if i not in after), key=schema.id_order),
                        "rows_before": len(before), "rows_after": len(frames[table])}
    return found


def check(found: dict[str, dict], removals, previous_id: str, language: str = "zh") -> dict | None:
    """The manifest's `removals` record for an allowed removal, None when nothing was removed.

    Raises SnapshotError, naming the removed ids per table, when no reason allows them, or when
    a table's rows fall by more than `removals.max_drop_share`.
    """
    removed = {table: info for table, info in found.items() if info["ids"]}
    if not removed:
        return None
    reason = " ".join(str(removals.allowed_reason).split())
    too_far = {table: info for table, info in removed.items()
               if _share(info) > removals.max_drop_share}
    if not reason or too_far:
        words = MESSAGES.get(language, MESSAGES["en"])
        lines = [words["stopped"]]
        for table, info in removed.items():
            lines.append("  - " + _removed_line(words, table, info, previous_id))
        for table, info in too_far.items():
            lines.append("  - " + words["drop"].format(
                table=words["table"][table], before=info["rows_before"], after=info["rows_after"],
                share=f"{_share(info):.1%}", limit=f"{removals.max_drop_share:.1%}"))
        raise SnapshotError("\n".join(lines),
                            hint=words["hint_share"] if reason else words["hint_reason"])
    return {"reason": reason, "tables": {
        table: {"ids": info["ids"], "removed": len(info["ids"]),
                "rows_before": info["rows_before"], "rows_after": info["rows_after"]}
        for table, info in removed.items()}}


def _share(info: dict) -> float:
    before = info["rows_before"]
    return max(0, before - info["rows_after"]) / before if before else 0.0


def _removed_line(words: dict, table: str, info: dict, previous_id: str) -> str:
    ids = info["ids"]
    text = words["removed"].format(table=words["table"][table], previous=previous_id,
                                   count=len(ids), ids=", ".join(ids[:SHOWN_IDS]))
    if len(ids) > SHOWN_IDS:
        text += words["more"].format(count=len(ids), shown=SHOWN_IDS)
    return text


def page(manifest: dict, text: dict) -> dict | None:
    """The changes page's removals block: the recorded reason next to the ids each table lost."""
    record = manifest.get("removals")
    if not isinstance(record, dict):
        return None
    sections = []
    for table in TABLE_NAMES:
        info = record.get("tables", {}).get(table)
        if info:
            sections.append({"label": text[f"removals_{table}"],
                             "count": text["removals_count"].format(count=info["removed"]),
                             "ids": [str(i) for i in info["ids"]]})
    return {"reason": str(record.get("reason", "")), "tables": sections}

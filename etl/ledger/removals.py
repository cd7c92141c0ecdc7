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
from etl.ledger.manifests import MANIFEST, read_manifest
from etl.site import words as site_words

TABLE_NAMES = ("issues", "feedback")
SHOWN_IDS = 10  # ids named in the error; the count says how many there are in all
SHOWN_ON_PAGE = 200  # ids listed on the changes page; all of them are in the manifest

# The guard's words reach the staff who publish, so they are in the site's language:
# `removal_messages` in templates/text.yml.


def allow(config, reason: str):
    """The config for a publish run with `--allow-removals REASON`: any removal, no share cap.

    The reason is an internal option, so the build record (which hashes the config into the
    snapshot id) does not hold it: only the manifest's `removals` does, when items went.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ConfigError(["--allow-removals: give the reason the items are removed, in words "
                           "the public will read on the changes page"])
    return config.replace(removals=dataclasses.replace(config.removals,
                                                       command_line_reason=reason))


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
    given = " ".join(str(getattr(removals, "command_line_reason", "")).split())
    reason = given or " ".join(str(removals.allowed_reason).split())
    too_far = {} if given else {table: info for table, info in removed.items()
                                if _share(info) > removals.max_drop_share}
    if not reason or too_far:
        words = site_words.section("removal_messages", language)
        lines = [words["stopped"]]
        for table, info in removed.items():
            lines.append("  - " + _removed_line(words, table, info, previous_id))
        for table, info in too_far.items():
            lines.append("  - " + words["drop"].format(
                table=words["table"][table], before=info["rows_before"], after=info["rows_after"],
                share=f"{_share(info):.1%}", limit=f"{removals.max_drop_share:.1%}"))
        raise SnapshotError("\n".join(lines),
                            hint=words["hint_share"] if too_far else words["hint_reason"])
    tables_removed = {table: {"ids": info["ids"], "removed": len(info["ids"]),
                              "rows_before": info["rows_before"], "rows_after": info["rows_after"]}
                      for table, info in removed.items()}
    return {"reason": reason, "tables": tables_removed,
            "allowed_by": "--allow-removals" if given else "removals.allowed_reason"}


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


def page(folders: list[Path], text: dict) -> dict | None:
    """The changes page's removals block, from the newest of the snapshot folders (oldest
    first): the recorded reason next to the ids each table lost; None when none were."""
    if not folders:
        return None
    record = read_manifest(folders[-1]).get("removals")
    if not isinstance(record, dict):
        return None
    sections = []
    for table in TABLE_NAMES:
        info = record.get("tables", {}).get(table)
        if not info:
            continue
        ids = [str(i) for i in info["ids"]]
        more = None
        if len(ids) > SHOWN_ON_PAGE:
            more = text["removals_more"].format(shown=SHOWN_ON_PAGE, total=len(ids))
        sections.append({"label": text[f"removals_{table}"].format(count=len(ids)),
                         "ids": ids[:SHOWN_ON_PAGE], "more": more})
    return {"reason": str(record.get("reason", "")), "tables": sections,
            "manifest": f"data/snapshots/{folders[-1].name}/{MANIFEST}"}

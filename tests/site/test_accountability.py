"""Accountability page data: deadline changes from the snapshot chain, the ranking's words."""

from __future__ import annotations

import json

import pandas as pd

from etl import schema
from etl.ledger import tables
from etl.site import accountability


def _snapshot(root, as_of, deadlines: dict):
    folder = root / f"{as_of}-{as_of.replace('-', '')}"
    folder.mkdir()
    rows = [{name: None for name in schema.field_names("issues")} | {
        "issue_id": issue_id, "description": "d", "unit": "县住建局", "status": "open",
        "deadline": deadline} for issue_id, deadline in deadlines.items()]
    (folder / "issues.csv").write_bytes(tables.table_csv_bytes(pd.DataFrame(rows), "issues"))
    (folder / "manifest.json").write_text(json.dumps(
        {"snapshot_id": folder.name, "as_of": as_of}), encoding="utf-8")
    return folder


def test_extensions_list_every_move_from_the_chain(tmp_path):
    folders = [
        _snapshot(tmp_path, "2026-08-31", {"Q-1": "2026-09-30", "Q-2": "2026-10-31", "Q-3": None,
                                           "Q-4": "2026-12-31"}),
        _snapshot(tmp_path, "2026-09-30", {"Q-1": "2026-10-31", "Q-2": "2026-10-31",
                                           "Q-3": "2026-11-30", "Q-4": "2026-12-31"}),
        _snapshot(tmp_path, "2026-10-31", {"Q-1": "2026-12-31", "Q-2": None, "Q-3": "2026-11-30",
                                           "Q-4": "2026-12-31"}),
    ]
    issues = {f"Q-{n}": {"issue_id": f"Q-{n}", "title": f"问题{n}"} for n in range(1, 5)}
    rows = accountability.extensions(folders, issues, ["issue_id", "deadline"])
    # Q-1 moved twice; Q-2 lost its date (the most extreme extension); Q-3 only got a first
    # date, which is no move; Q-4 never moved.
    assert [(r["issue_id"], r["first"], r["current"], len(r["moves"])) for r in rows] == [
        ("Q-1", "2026-09-30", "2026-12-31", 2), ("Q-2", "2026-10-31", "", 1)]
    assert rows[0]["moves"] == [
        {"as_of": "2026-09-30", "old": "2026-09-30", "new": "2026-10-31"},
        {"as_of": "2026-10-31", "old": "2026-10-31", "new": "2026-12-31"}]
    assert rows[0]["href"].startswith("issues/") and rows[0]["summary"] == "问题1"
    # Unpublished deadlines show nothing; an issue no longer listed is left out.
    assert accountability.extensions(folders, issues, ["issue_id"]) == []
    del issues["Q-1"]
    assert [r["issue_id"] for r in accountability.extensions(folders, issues, ["deadline"])] == ["Q-2"]


def test_ranking_words_state_the_rule():
    text = {"ranking_rule": "min {min_items} eligible {eligible} shown {shown}",
            "ranking_none": "none under {min_items}"}
    units = [{"name": name, "slug": f"u-{n:08x}", "figures": {}} for n, name in enumerate("甲乙丙")]
    metrics = {"groups": {"unit": units}, "figures": {},
               "ranking": {"min_items": 5, "size": 1, "eligible": ["u-00000000", "u-00000001",
                                                                   "u-00000002"],
                           "top": ["u-00000000"], "bottom": ["u-00000002"]}}
    page = accountability.ranking(metrics, text, "zh")
    assert page["rule"] == "min 5 eligible 3 shown 1" and page["none"] is None
    assert [row["name"] for row in page["top"]["rows"]] == ["甲"]
    assert [row["name"] for row in page["bottom"]["rows"]] == ["丙"]

"""Each issue's history from a snapshot chain: events, first deadline, vanish and return, scale."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pandas as pd

from etl.ledger import history, tables, timeline
from etl.site import pages


def _issue(issue_id: str, status: str = "open", **fields) -> dict:
    return {"issue_id": issue_id, "title": f"问题 {issue_id}", "unit": "县住建局",
            "status": status, "deadline": dt.date(2026, 9, 30), "satisfaction": None,
            "reply": None, **fields}


def _snapshot(root: Path, as_of: str, issues: list[dict], columns=None) -> Path:
    """A folder with the two files timeline reads: manifest.json and a canonical issues.csv."""
    snapshot_id = f"{as_of}-{len(list(root.glob('*'))):016x}"
    folder = root / snapshot_id
    folder.mkdir(parents=True)
    frame = pd.DataFrame(issues)
    columns = columns or [c for c in frame.columns]
    (folder / "issues.csv").write_bytes(tables.table_csv_bytes(frame, "issues", columns))
    (folder / "manifest.json").write_text(json.dumps({"snapshot_id": snapshot_id, "as_of": as_of}),
                                          encoding="utf-8")
    return folder


def test_every_change_is_an_event_with_its_snapshot_date(tmp_path):
    first = _snapshot(tmp_path, "2026-08-31", [_issue("QH-1"), _issue("QH-2")])
    second = _snapshot(tmp_path, "2026-09-30", [
        _issue("QH-1", "in_progress", deadline=dt.date(2026, 12, 31), reply="已受理"),
        _issue("QH-2")])
    third = _snapshot(tmp_path, "2026-10-31", [
        _issue("QH-1", "done", deadline=dt.date(2026, 12, 31), unit="县交通局",
               satisfaction=92.0, reply="已受理"),
        _issue("QH-2"), _issue("QH-3")])
    result = timeline.timelines([first, second, third])

    one = result["QH-1"]
    assert one["first_seen"] == {"as_of": "2026-08-31", "snapshot_id": first.name}
    assert [(e["as_of"], e["snapshot_id"], e["field"], e["old"], e["new"]) for e in one["events"]] == [
        ("2026-09-30", second.name, "status", "open", "in_progress"),
        ("2026-09-30", second.name, "deadline", "2026-09-30", "2026-12-31"),
        ("2026-09-30", second.name, "reply", None, "已受理"),
        ("2026-10-31", third.name, "status", "in_progress", "done"),
        ("2026-10-31", third.name, "unit", "县住建局", "县交通局"),
        ("2026-10-31", third.name, "satisfaction", None, 92.0),
    ]
    assert (one["first_deadline"], one["deadline"], one["present"]) == ("2026-09-30", "2026-12-31", True)
    assert result["QH-2"]["events"] == []
    assert result["QH-3"]["first_seen"]["snapshot_id"] == third.name
    assert result["QH-3"]["first_deadline"] == "2026-09-30"


def test_first_deadline_is_the_metrics_rule(tmp_path):
    """An issue first published without a deadline gets the first one a later snapshot gives,
    exactly what history.first_deadlines (the metrics stage's rule) says."""
    folders = [
        _snapshot(tmp_path, "2026-08-31", [_issue("QH-1", deadline=None), _issue("QH-2")]),
        _snapshot(tmp_path, "2026-09-30", [_issue("QH-1", deadline=dt.date(2026, 10, 15)),
                                           _issue("QH-2", deadline=dt.date(2026, 11, 30))]),
        _snapshot(tmp_path, "2026-10-31", [_issue("QH-1", deadline=dt.date(2027, 1, 31)),
                                           _issue("QH-2", deadline=None)]),
    ]
    result = timeline.timelines(folders)
    pasts = [history.past_snapshot(f.name[:10], tables.read_table(f / "issues.csv", "issues"))
             for f in folders[:-1]]
    current = history.issue_records(tables.read_table(folders[-1] / "issues.csv", "issues"))
    expected = {k: v.isoformat() for k, v in history.first_deadlines(current, pasts).items()}
    assert {k: v["first_deadline"] for k, v in result.items()} == expected
    assert expected == {"QH-1": "2026-10-15", "QH-2": "2026-09-30"}
    assert result["QH-2"]["deadline"] is None


def test_an_issue_that_vanished_and_came_back(tmp_path):
    """Gone in one snapshot, back in the next with another status: removed, returned, and the
    change against its values when last seen, all dated by the snapshot that showed them."""
    folders = [
        _snapshot(tmp_path, "2026-08-31", [_issue("QH-1"), _issue("QH-2")]),
        _snapshot(tmp_path, "2026-09-30", [_issue("QH-1")]),
        _snapshot(tmp_path, "2026-10-31", [_issue("QH-1"), _issue("QH-2", "in_progress")]),
        _snapshot(tmp_path, "2026-11-20", [_issue("QH-1")]),
    ]
    result = timeline.timelines(folders)
    assert [(e["as_of"], e["field"], e["old"], e["new"]) for e in result["QH-2"]["events"]] == [
        ("2026-09-30", "removed", None, None),
        ("2026-10-31", "returned", None, None),
        ("2026-10-31", "status", "open", "in_progress"),
        ("2026-11-20", "removed", None, None),
    ]
    assert result["QH-2"]["present"] is False
    assert result["QH-2"]["first_seen"]["as_of"] == "2026-08-31"


def test_a_column_one_snapshot_did_not_publish_is_no_change(tmp_path):
    columns = ["issue_id", "title", "unit", "status", "deadline"]
    folders = [
        _snapshot(tmp_path, "2026-08-31", [_issue("QH-1", reply="已受理")]),
        _snapshot(tmp_path, "2026-09-30", [_issue("QH-1")], columns=columns),
        _snapshot(tmp_path, "2026-10-31", [_issue("QH-1", reply="已办结")]),
    ]
    events = timeline.timelines(folders)["QH-1"]["events"]
    assert [(e["as_of"], e["field"], e["old"], e["new"]) for e in events] == [
        ("2026-10-31", "reply", "已受理", "已办结")]


def test_page_data_words_and_published_fields(tmp_path):
    folders = [
        _snapshot(tmp_path, "2026-08-31", [_issue("QH-1")]),
        _snapshot(tmp_path, "2026-09-30", [_issue("QH-1", "in_progress", reply="答" * 80,
                                                  deadline=dt.date(2026, 12, 31))]),
    ]
    entry = timeline.timelines(folders)["QH-1"]
    issue = {"issue_id": "QH-1", "title": "问题", "status": "in_progress"}
    detail = pages.issue_detail(issue, ["issue_id", "title", "status", "deadline", "reply"],
                                {"unit": {}, "area": {}, "category": {}}, "zh", entry)
    lines = [(e["as_of"], e["label"], e["old"], e["new"]) for e in detail["timeline"]["events"]]
    assert lines == [("2026-09-30", "整改状态", "未启动", "整改中"),
                     ("2026-09-30", "整改时限", "2026-09-30", "2026-12-31"),
                     ("2026-09-30", "答复内容", None, "答" * 59 + "…")]
    assert detail["timeline"]["first_deadline"] == "2026-09-30"
    # A field the config does not publish (now) has no events on the page.
    unpublished = pages.issue_detail(issue, ["issue_id", "status"], {}, "zh", entry)
    assert [e["label"] for e in unpublished["timeline"]["events"]] == ["整改状态"]
    assert unpublished["timeline"]["first_deadline"] is None


def test_eleven_thousand_issues_over_ten_snapshots_in_a_few_seconds(tmp_path):
    """Each snapshot CSV is read once; the walk is linear in issues x snapshots."""
    count, snapshots = 11_500, 10
    statuses = ("open", "in_progress", "done")
    folders = []
    for index in range(snapshots):
        as_of = (dt.date(2026, 1, 31) + dt.timedelta(days=30 * index)).isoformat()
        issues = [_issue(f"QH-{n:05d}", statuses[min(2, (n + index) // 4000)],
                         deadline=dt.date(2026, 6, 30) + dt.timedelta(days=index * (n % 3 == 0)),
                         reply=f"答复 {index}" if n % 7 == 0 else None)
                  for n in range(count)]
        folders.append(_snapshot(tmp_path, as_of, issues))
    started = time.perf_counter()
    result = timeline.timelines(folders)
    elapsed = time.perf_counter() - started
    assert len(result) == count
    # QH-00000's deadline and reply change in every later snapshot; its status never does.
    assert [e["field"] for e in result["QH-00000"]["events"]] == ["deadline", "reply"] * 9
    assert result["QH-00000"]["first_deadline"] == "2026-06-30"
    assert elapsed < 5, f"{elapsed:.2f}s"


def test_issue_pages_show_the_timeline_under_each_issue(tmp_path):
    """Seed two monthly exports as snapshots, publish, and find an issue's history on its page:
    first seen, each change dated by its snapshot, and the first deadline beside the current."""
    import html
    import re

    import yaml

    from etl import cli

    from etl import pipeline
    from etl.config import load_config
    from etl.demo import synth
    from etl.ledger.manifests import chain
    from etl.privacy import safepath

    as_of = dt.date(2026, 11, 20)
    history_days = [dt.date(2026, 9, 30), dt.date(2026, 10, 31)]
    synth.generate(tmp_path / "sources", issues=60, feedback=150, as_of=as_of,
                   history=history_days, history_out=tmp_path / "history")
    root = Path(__file__).resolve().parents[2]
    data = yaml.safe_load((root / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    config_path = tmp_path / "gongshi.yml"
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for day in history_days:  # what `make seed-history` does for the demo
        assert cli.main(["publish", "--config", str(config_path), "--snapshot-only",
                         "--sources-from", str(tmp_path / "history" / day.isoformat()),
                         "--as-of", day.isoformat()]) == 0
    pipeline.publish(load_config(config_path), log=lambda *a: None)

    entries = timeline.timelines(chain(tmp_path / "snapshots"))
    changed = sorted(i for i, e in entries.items() if any(x["field"] == "status" for x in e["events"]))
    assert changed, "the synthetic campaign moves some issues on between months"
    issue_id = changed[0]
    entry = entries[issue_id]
    page = (tmp_path / "site" / pages.issue_href(issue_id)).read_text(encoding="utf-8")
    section = page[page.index(f'id="{safepath.anchor(issue_id)}"'):]
    section = html.unescape(re.sub(r"<[^>]+>", " ", section[:section.index("</section>")]))
    words = " ".join(section.split())
    labels = {"open": "未启动", "in_progress": "整改中", "done": "已完成", "long_term": "长期坚持",
              "rework": "返工"}
    assert f"变化记录 {entry['first_seen']['as_of']} 首次出现" in words
    for event in entry["events"]:
        if event["field"] == "status":
            assert (f"{event['as_of']} 整改状态：{labels[event['old']]} → "
                    f"{labels[event['new']]}") in words
    assert f"首次公示的整改时限：{entry['first_deadline'] or '（空）'}" in words
    assert f"当前整改时限：{entry['deadline'] or '（空）'}" in words

"""Diff: every field of every item, renumbered items, exact text, the workbook, the changes page,
chain checks, sites and URLs as inputs, and the demo's real changes counted independently."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cases" / "snapshots"))
import snapshot_factory as factory  # noqa: E402

from etl import cli, metrics, schema, snapshot  # noqa: E402
from etl.ledger import tables  # noqa: E402
from etl.ledger import diff, diff_fields, diff_page, diff_xlsx  # noqa: E402
from etl.site import figures, words  # noqa: E402
from etl.errors import DiffError  # noqa: E402

CASES = Path(__file__).resolve().parents[1] / "cases" / "snapshots"


def make_config(root: Path, as_of: str, **kw):
    """The diff compares snapshots that drop items, so these publishes are allowed to."""
    return factory.make_config(root, as_of, removals_reason="diff test: items dropped on purpose",
                               **kw)

I = factory.issue
OLD = [I("1", "done", deadline="2026-06-30"), I("2", "in_progress", deadline="2026-06-30"),
       I("3", "open", deadline="2026-09-30"), I("4", "done", title="已删除|*x*"),
       I("5", "in_progress", deadline="2026-10-31", unit="县交通局"), I("6", "done", owner="张三"),
       I("10", "long_term")]
NEW = [I("1", "rework", deadline="2026-06-30"), I("2", "done", deadline="2026-06-30"),
       I("3", "open", deadline="2026-12-31"),
       I("5", "in_progress", deadline_note="长期坚持", unit="县住建局"),
       I("6", "done", owner="李四"), I("7", "open", title="新问题\n!! REMOVED fake"),
       I("10", "long_term", deadline="2026-01-01")]
OLD_FEEDBACK = [{"feedback_id": "f1", "channel": "热线", "replied": True},
                {"feedback_id": "f2", "channel": "热线"}]
NEW_FEEDBACK = [{"feedback_id": "f1", "channel": "热线", "replied": True},
                {"feedback_id": "f3", "channel": "热线", "replied": True}]


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    old = factory.publish(make_config(tmp_path, "2026-11-01"), OLD, OLD_FEEDBACK)
    new = factory.publish(make_config(tmp_path, "2026-11-20"), NEW, NEW_FEEDBACK)
    return old, new


def test_text_output_is_exact(pair):
    output, ok = diff.run(pair[0], pair[1])
    # Snapshot ids hash the snapshot's every file, so the golden names them by role.
    output = output.replace(pair[0].name, "OLD_SNAPSHOT").replace(pair[1].name, "NEW_SNAPSHOT")
    assert output == (CASES / "diff_small.txt").read_text(encoding="utf-8")
    assert ok is False  # issue 4 and feedback f2 disappeared


def test_removed_items_are_flagged_red_in_every_format(pair):
    text, _ = diff.run(*pair, fmt="text")
    assert [line for line in text.splitlines() if line.startswith("!! REMOVED")] == [
        "!! REMOVED issue 4 已删除|*x* [县住建局] done", "!! REMOVED feedback f2"]
    markdown, _ = diff.run(*pair, fmt="markdown")
    assert "- 🔴 issue 4 已删除\\|\\*x\\* (县住建局, done)" in markdown
    assert "- 🔴 feedback f2" in markdown
    assert "| 7 | 新问题 !! REMOVED fake | 县住建局 | open |" in markdown
    result = json.loads(diff.run(*pair, fmt="json")[0])
    assert [row["issue_id"] for row in result["removed"]] == ["4"]


def test_compare_finds_each_kind_of_change(pair):
    result = diff.compare(*pair)
    assert [row["issue_id"] for row in result["added"]] == ["7"]
    assert [(c["issue_id"], c["old"], c["new"]) for c in result["status_changes"]] == [
        ("1", "done", "rework"), ("2", "in_progress", "done")]
    assert [c["issue_id"] for c in result["regressions"]] == ["1"]
    assert [(c["issue_id"], c["old"], c["new"], c["new_note"])
            for c in result["deadline_extensions"]] == [
        ("3", "2026-09-30", "2026-12-31", None), ("5", "2026-10-31", None, "长期坚持")]
    assert [(c["old"], c["new"]) for c in result["unit_changes"]] == [("县交通局", "县住建局")]
    assert [(c["old"], c["new"]) for c in result["owner_changes"]] == [("张三", "李四")]
    assert result["feedback_added"] == ["f3"] and result["feedback_removed"] == ["f2"]
    assert result["counts"] == {"issues_old": 7, "issues_new": 7, "feedback_old": 2,
                                "feedback_new": 2, "issues_changed": 6, "feedback_changed": 0}
    assert result["id_changes"] == [] and result["deadlines_earlier"] == []
    # Every named kind of change is also a field change; issue 10 got its first deadline.
    assert [(c["id"], c["field"], c["old"], c["new"]) for c in result["field_changes"]] == [
        ("1", "status", "done", "rework"), ("2", "status", "in_progress", "done"),
        ("3", "deadline", "2026-09-30", "2026-12-31"), ("5", "unit", "县交通局", "县住建局"),
        ("5", "deadline", "2026-10-31", None), ("5", "deadline_note", None, "长期坚持"),
        ("6", "owner", "张三", "李四"), ("10", "deadline", None, "2026-01-01")]
    assert result["figure_changes"] == [
        {"key": "issues.done", "old": "3", "new": "2", "change": "-1"},
        {"key": "rate.completion", "old": "42.9%", "new": "28.6%", "change": "-14.3 pt"},
        # Issues 2, 3 and 5 were past their deadlines on 11-01; on 11-20 only issue 1 (rework).
        {"key": "issues.overdue", "old": "3", "new": "1", "change": "-2"},
        {"key": "rate.reply", "old": "50.0%", "new": "100.0%", "change": "+50.0 pt"},
        {"key": "issues.rework", "old": "0", "new": "1", "change": "+1"}]
    assert result["figure_values"]["rate.completion"] == pytest.approx({"old": 3 / 7, "new": 2 / 7})
    assert result["warnings"] == []


def test_deadline_extensions_agree_with_metrics(pair):
    """A date replaced by a note (issue 5) is an extension in the diff and in the figure alike."""
    old_issues = tables.read_table(pair[0] / "issues.csv", "issues")
    new_issues = tables.read_table(pair[1] / "issues.csv", "issues")
    computed = metrics.compute(new_issues, tables.read_table(pair[1] / "feedback.csv", "feedback"),
                               as_of=dt.date(2026, 11, 20), threshold=80, stale_weeks=8,
                               claims=[], history=[(dt.date(2026, 11, 1), old_issues)])
    extensions = diff.compare(*pair)["deadline_extensions"]
    assert computed["figures"]["issues.deadline_extended"] == len(extensions) == 2


def test_figure_changes_are_the_changes_of_the_printed_figures():
    old = {"rate.completion": 37 / 60, "rate.on_time": 37 / 60, "issues.total": 1000,
           "days.median_to_rectify": 37.5, "rate.reply": 0.5, "rate.satisfaction": None}
    new = {"rate.completion": 0.5764, "rate.on_time": 0.617, "issues.total": 2300,
           "days.median_to_rectify": 40, "rate.reply": None, "rate.satisfaction": 0.25}
    changes, values = diff._figure_changes(old, new)
    # 61.666..% -> 57.64% is -4.03 raw, but the pages print 61.7% and 57.6%: -4.1 pt.
    # rate.on_time prints 61.7% on both sides, so it is not a change at all.
    assert changes == [
        {"key": "issues.total", "old": "1,000", "new": "2,300", "change": "+1,300"},
        {"key": "rate.completion", "old": "61.7%", "new": "57.6%", "change": "-4.1 pt"},
        {"key": "days.median_to_rectify", "old": "37.5", "new": "40", "change": "+2.5"},
        {"key": "rate.reply", "old": "50.0%", "new": "—", "change": ""},
        {"key": "rate.satisfaction", "old": "—", "new": "25.0%", "change": ""}]
    assert list(values) == [change["key"] for change in changes]
    assert [c["key"] for c in changes] == [k for k in figures.HEADLINE_KEYS if k in values]


def test_changes_page_sections_hold_no_raw_floats(pair):
    """Every top-level list becomes a page table; a float like 0.0833333333 trips the leak scan."""
    result = diff.compare(*pair)
    for name, items in result.items():
        if isinstance(items, list):
            for item in items:
                values = item.values() if isinstance(item, dict) else [item]
                assert not any(isinstance(v, float) for v in values), (name, item)


def test_nothing_removed_is_ok(tmp_path):
    old = factory.publish(make_config(tmp_path, "2026-11-01"), OLD[:2])
    new = factory.publish(make_config(tmp_path, "2026-11-20"), OLD[:3])
    output, ok = diff.run(old, new)
    assert ok is True and "REMOVED" not in output


def test_owner_not_published_on_one_side_is_not_a_change(tmp_path):
    columns = [c for c in factory.ISSUE_COLUMNS if c != "owner"]
    old = factory.publish(make_config(tmp_path, "2026-11-01"), OLD)
    config = make_config(tmp_path, "2026-11-20")
    factory.write_inputs(config, NEW, issue_columns=columns)
    snapshot.run(config)
    new = snapshot.commit(config)
    assert diff.compare(old, new)["owner_changes"] == []


def _rehash(folder: Path) -> None:
    """Make a tampered head snapshot self-consistent again, so only its content is wrong."""
    manifest = snapshot.read_manifest(folder)
    for name in manifest["files"]:
        data = (folder / name).read_bytes()
        manifest["files"][name] = {"sha256": snapshot.sha256_hex(data), "bytes": len(data)}
    (folder / "manifest.json").write_bytes(snapshot.canonical_json(manifest))


def test_duplicate_keys_fail(pair):
    path = pair[1] / "issues.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines + [lines[1]]))
    _rehash(pair[1])
    with pytest.raises(DiffError, match=r"issues.csv repeats issue_id 1\b"):
        diff.compare(*pair)


def test_tampered_file_fails(pair):
    path = pair[0] / "issues.csv"
    path.write_bytes(path.read_bytes().replace(b"done", b"open", 1))
    with pytest.raises(DiffError, match="does not match the SHA-256"):
        diff.compare(*pair)


def test_swapped_order_in_one_folder_is_a_broken_chain(pair):
    with pytest.raises(DiffError, match="does not descend from"):
        diff.compare(pair[1], pair[0])


def test_edited_old_manifest_breaks_the_chain(pair, tmp_path):
    old = shutil.copytree(pair[0], tmp_path / "elsewhere" / pair[0].name)
    (old / "manifest.json").write_bytes((old / "manifest.json").read_bytes() + b"\n")
    with pytest.raises(DiffError, match="broken chain"):
        diff.compare(old, pair[1])
    (pair[0] / "manifest.json").write_bytes((pair[0] / "manifest.json").read_bytes() + b"\n")
    with pytest.raises(DiffError, match="broken chain"):
        diff.compare(*pair)


def test_separate_folders_that_are_not_adjacent_warn(pair, tmp_path):
    third = factory.publish(make_config(tmp_path, "2026-11-30"), NEW[:3], NEW_FEEDBACK)
    assert diff.compare(pair[0], third)["warnings"] == []  # same folder: the walk reaches old
    old = shutil.copytree(pair[0], tmp_path / "elsewhere" / pair[0].name)
    output, _ = diff.run(old, third)
    assert f"warning: not adjacent: {third.name} follows {pair[1].name}, not {pair[0].name}" in output


def test_site_folders_use_latest_json(pair, tmp_path):
    site = factory.make_site(tmp_path, list(pair), {})
    assert diff.locate(site) == site / "data" / "snapshots" / pair[1].name
    assert diff.locate(tmp_path / "snapshots") == pair[1]
    with pytest.raises(DiffError, match="not a snapshot folder"):
        diff.locate(tmp_path / "build" / "tables")


class _Response:
    def __init__(self, status: int, content: bytes = b""):
        self.status_code, self.content = status, content


def _serve(monkeypatch, root: Path, prefix: str = "https://gongshi.example/") -> list[str]:
    import requests

    asked = []

    def get(url, timeout):
        asked.append(url)
        path = root / url[len(prefix):]
        return _Response(200, path.read_bytes()) if path.is_file() else _Response(404)

    monkeypatch.setattr(requests, "get", get)
    return asked


def test_urls_are_fetched_and_hash_checked(pair, tmp_path, monkeypatch):
    site = factory.make_site(tmp_path, list(pair), {})
    _serve(monkeypatch, site)
    base = "https://gongshi.example/data/snapshots/"
    local, _ = diff.run(pair[0], pair[1])
    remote, ok = diff.run(base + pair[0].name + "/", "https://gongshi.example/")
    assert remote == local and ok is False
    (site / "data" / "snapshots" / pair[1].name / "issues.csv").write_bytes(b"\xef\xbb\xbfissue_id\n")
    with pytest.raises(DiffError, match="does not match the SHA-256 in its manifest"):
        diff.run(base + pair[0].name, base + pair[1].name)


def test_remote_file_names_cannot_escape(pair, tmp_path, monkeypatch):
    site = factory.make_site(tmp_path, list(pair), {})
    manifest_path = site / "data" / "snapshots" / pair[0].name / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"]["../../evil.csv"] = {"sha256": "0" * 64, "bytes": 1}
    manifest_path.write_bytes(snapshot.canonical_json(manifest))
    _serve(monkeypatch, site)
    with pytest.raises(DiffError, match="unsafe file name"):
        diff.run("https://gongshi.example/data/snapshots/" + pair[0].name, pair[1])


def test_cli_diff_exit_codes(pair, capsys):
    assert cli.main(["diff", str(pair[0]), str(pair[1])]) == 0
    assert "!! REMOVED issue 4" in capsys.readouterr().out
    assert cli.main(["diff", "--fail-on-removed", str(pair[0]), str(pair[1])]) == 1
    assert cli.main(["diff", str(pair[1]), str(pair[0])]) == 2
    assert "does not descend from" in capsys.readouterr().err


def test_items_without_a_title_are_named_by_their_description(tmp_path):
    long_text = "城关镇" + "路灯长期不亮，群众夜间出行不便，" * 4
    old = factory.publish(make_config(tmp_path, "2026-11-01"),
                          [I("1", "open", title=None, description="井盖缺失")])
    new = factory.publish(make_config(tmp_path, "2026-11-20"),
                          [I("1", "done", title=None, description="井盖缺失"),
                           I("2", "open", title=None, description=long_text)])
    result = diff.compare(old, new)
    assert [row["title"] for row in result["status_changes"]] == ["井盖缺失"]
    (added,) = result["added"]
    assert added["title"] == long_text[:39] + "…" and len(added["title"]) == diff.TITLE_LENGTH


def test_items_are_listed_in_the_natural_order_every_other_list_uses(tmp_path):
    old = factory.publish(make_config(tmp_path, "2026-11-01"), [I("QH-1", "open")])
    new = factory.publish(make_config(tmp_path, "2026-11-20"),
                          [I("QH-1", "open"), I("QH-10", "open"), I("QH-2", "open"), I("7", "open")])
    assert [row["issue_id"] for row in diff.compare(old, new)["added"]] == ["7", "QH-2", "QH-10"]


# ---------------------------------------------------------------- every field of every item

FULL_COLUMNS = [name for name in schema.field_names("issues") if name != "owner"]


def full(issue_id: str, **values) -> dict:
    """An issue with every published field filled, as a real rectification list has them."""
    row = {"issue_id": issue_id, "title": "路灯不亮", "description": "城关镇幸福路路灯长期不亮，群众夜间出行不便",
           "category": "城乡建设", "area": "城关镇", "unit": "县城市管理局", "channel": "作风热线",
           "feedback_count": 2, "identified_on": "2026-03-01", "measures": "一是排查线路；二是更换灯具。",
           "target": "路灯全部恢复", "deadline": "2026-10-31", "deadline_note": None,
           "status": "in_progress", "completed_on": None, "result": None, "satisfaction": None,
           "reply": "已列入整改清单。", "replied_on": "2026-03-10"}
    row.update(values)
    return row


def publish_pair(tmp_path, old, new, old_feedback=None, new_feedback=None) -> tuple[Path, Path]:
    return tuple(factory.publish(make_config(tmp_path, as_of), issues, feedback,
                                 issue_columns=FULL_COLUMNS)
                 for as_of, issues, feedback in (("2026-11-01", old, old_feedback),
                                                 ("2026-11-20", new, new_feedback)))


def changes_of(result: dict, table: str = "issues") -> list[tuple]:
    return [(c["id"], c["field"], c["old"], c["new"]) for c in result["field_changes"]
            if c["table"] == table]


def test_every_field_kind_is_compared(tmp_path):
    new_one = full("1", description="城关镇幸福路、和平路路灯长期不亮", category="社会治理",
                   area="河东街道", channel="领导信箱", feedback_count=3, measures="一是排查线路。",
                   deadline_note="雨季顺延", completed_on="2026-11-15", satisfaction=92.5,
                   reply="已整改到位。")
    old, new = publish_pair(tmp_path, [full("1"), full("2", satisfaction=81), full("3")],
                            [new_one, full("2", satisfaction=81.0), full("3")])
    result = diff.compare(old, new)
    assert changes_of(result) == [
        ("1", "description", "城关镇幸福路路灯长期不亮，群众夜间出行不便", "城关镇幸福路、和平路路灯长期不亮"),
        ("1", "category", "城乡建设", "社会治理"), ("1", "area", "城关镇", "河东街道"),
        ("1", "channel", "作风热线", "领导信箱"), ("1", "feedback_count", "2", "3"),
        ("1", "measures", "一是排查线路；二是更换灯具。", "一是排查线路。"),
        ("1", "deadline_note", None, "雨季顺延"), ("1", "completed_on", None, "2026-11-15"),
        ("1", "satisfaction", None, "92.5"), ("1", "reply", "已列入整改清单。", "已整改到位。")]
    assert result["field_changes"][0]["title"] == "路灯不亮"
    assert result["counts"]["issues_changed"] == 1  # 81 and 81.0 are one number
    assert result["status_changes"] == result["deadline_extensions"] == []
    text, ok = diff.run(old, new)
    assert ok is True
    assert "  ~ issue 1 路灯不亮\n      description: 城关镇幸福路路灯长期不亮，群众夜间出行不便 -> " in text
    assert "      satisfaction: (empty) -> 92.5\n" in text
    markdown, _ = diff.run(old, new, fmt="markdown")
    assert "| 1 | 路灯不亮 | description |" in markdown and "|  |  | category | 城乡建设 | 社会治理 |" in markdown


def test_values_compare_by_type_and_empty_is_missing():
    def frame(**values) -> pd.DataFrame:
        return pd.DataFrame([{**{name: None for name in schema.field_names("issues")},
                              "issue_id": "1", **values}])

    before = diff_fields.records(frame(satisfaction=81, feedback_count=2.0, title="", result="  ",
                                       deadline="2026-11-01"), "issues")["1"]
    after = diff_fields.records(frame(satisfaction="81.0", feedback_count=2, title=None,
                                      deadline=dt.date(2026, 11, 1)), "issues")["1"]
    assert diff_fields.changed(before, after, schema.field_names("issues")) == []
    moved = diff_fields.records(frame(satisfaction=80.5, feedback_count=2, deadline="2026-11-01"),
                                "issues")["1"]
    assert diff_fields.changed(before, moved, schema.field_names("issues")) == ["satisfaction"]


def test_a_deadline_moved_earlier_is_its_own_section(tmp_path):
    old, new = publish_pair(tmp_path, [full("1", deadline="2026-12-31"), full("2")],
                            [full("1", deadline="2026-11-30"), full("2", deadline="2027-01-31")])
    result = diff.compare(old, new)
    assert [(c["issue_id"], c["old"], c["new"]) for c in result["deadlines_earlier"]] == [
        ("1", "2026-12-31", "2026-11-30")]
    assert [c["issue_id"] for c in result["deadline_extensions"]] == ["2"]
    assert changes_of(result) == [("1", "deadline", "2026-12-31", "2026-11-30"),
                                  ("2", "deadline", "2026-10-31", "2027-01-31")]
    assert "deadlines earlier:\n  < 1 路灯不亮: 2026-12-31 -> 2026-11-30\n" in diff.run(old, new)[0]


def test_feedback_changes_are_listed(tmp_path):
    old_feedback = [{"feedback_id": "f1", "received_on": "2026-10-01", "channel": "热线",
                     "replied": False},
                    {"feedback_id": "f2", "received_on": "2026-10-02", "channel": "热线",
                     "replied": True}]
    new_feedback = [{**old_feedback[0], "replied": True, "issue_id": "1"}, old_feedback[1]]
    old, new = publish_pair(tmp_path, [full("1")], [full("1")], old_feedback, new_feedback)
    result = diff.compare(old, new)
    assert result["feedback_changes"] == [
        {"feedback_id": "f1", "field": "replied", "old": "false", "new": "true"},
        {"feedback_id": "f1", "field": "issue_id", "old": None, "new": "1"}]
    assert changes_of(result, "feedback") == [(c["feedback_id"], c["field"], c["old"], c["new"])
                                              for c in result["feedback_changes"]]
    assert result["counts"]["feedback_changed"] == 1 and result["counts"]["issues_changed"] == 0
    text = diff.run(old, new)[0]
    assert "  ~ feedback f1\n      replied: false -> true\n      issue_id: (empty) -> 1\n" in text


def test_a_changed_id_is_matched_and_still_flagged(tmp_path):
    pothole = {"title": "井盖缺失", "description": "和平路井盖缺失，存在安全隐患", "unit": "县住建局"}
    old_feedback = [{"feedback_id": "f1", "received_on": "2026-10-01", "channel": "热线"}]
    new_feedback = [{"feedback_id": "F-001", "received_on": "2026-10-01", "channel": "热线"}]
    old, new = publish_pair(
        tmp_path, [full("QH-1"), full("QH-2", **pothole), full("QH-3", title="办事难")],
        # QH-2 comes back as QH-20 and moved on meanwhile; QH-3 is gone and QH-9 is another issue.
        [full("QH-1"), full("QH-20", **{**pothole, "description": "和平路井盖缺失，存在安全隐患。"},
                            status="done", completed_on="2026-11-10", result="已更换井盖"),
         full("QH-9", title="停车难", description="县医院门口停车难", unit="县交通局")],
        old_feedback, new_feedback)
    result = diff.compare(old, new)
    assert [(c["table"], c["old_id"], c["new_id"], c["similarity"]) for c in result["id_changes"]] == [
        ("issues", "QH-2", "QH-20", "99%"), ("feedback", "f1", "F-001", "100%")]
    assert [r["issue_id"] for r in result["removed"]] == ["QH-3"]
    assert [r["issue_id"] for r in result["added"]] == ["QH-9"]
    assert result["feedback_added"] == result["feedback_removed"] == []
    assert changes_of(result)[:2] == [("QH-20", "issue_id", "QH-2", "QH-20"),
                                      ("QH-20", "description", "和平路井盖缺失，存在安全隐患",
                                       "和平路井盖缺失，存在安全隐患。")]
    assert changes_of(result, "feedback") == [("F-001", "feedback_id", "f1", "F-001")]
    text, ok = diff.run(old, new)
    assert ok is False  # a changed id kills a permalink: flagged, never fine
    assert "!! CHANGED ID issue QH-2 -> QH-20 井盖缺失 (similarity 99%)" in text
    assert "!! CHANGED ID feedback f1 -> F-001  (similarity 100%)" in text


def test_only_a_changed_id_still_fails_the_check(tmp_path):
    old, new = publish_pair(tmp_path, [full("1"), full("2", title="井盖缺失")],
                            [full("1"), full("2b", title="井盖缺失")])
    output, ok = diff.run(old, new)
    assert ok is False and "REMOVED" not in output and "!! CHANGED ID issue 2 -> 2b" in output


# ---------------------------------------------------------------- the auditor's workbook

def _sheets(data: bytes) -> dict[str, list[list]]:
    import io

    book = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()]
            for sheet in book.worksheets}


def test_workbook_has_a_sheet_per_kind_of_change_with_chinese_headers(pair):
    data, ok = diff.run(*pair, fmt="xlsx")
    assert ok is False
    sheets = _sheets(data)
    assert list(sheets) == ["概况", "删除的问题", "编号变更", "新增问题", "字段变化", "状态变化",
                            "状态倒退", "整改时限延后", "整改时限提前", "责任单位变更", "责任人变更",
                            "删除的意见", "新增意见", "意见变化", "数字变化", "比较提示"]
    assert sheets["字段变化"][0] == ["清单", "编号", "问题", "字段", "字段代码", "原来", "现在"]
    assert sheets["字段变化"][1] == ["问题", "1", "问题1", "整改状态", "status", "已完成", "返工"]
    assert len(sheets["字段变化"]) == 1 + len(diff.compare(*pair)["field_changes"])
    assert sheets["删除的问题"][1:] == [["4", "已删除|*x*", "县住建局", "已完成"]]
    assert sheets["删除的意见"][1:] == [["f2"]] and sheets["新增意见"][1:] == [["f3"]]
    assert sheets["编号变更"] == [["清单", "原编号", "现编号", "问题", "内容相似度"]]  # looked, none
    assert ["原快照", pair[0].name] in sheets["概况"] and ["字段变化", 8] in sheets["概况"]
    english = _sheets(diff.run(*pair, fmt="xlsx", language="en")[0])
    assert list(english)[:3] == ["Summary", "Issues removed", "Changed IDs"]
    assert english["Field changes"][1] == ["Issue", "1", "问题1", "Status", "status", "Completed",
                                           "Rework"]


def test_workbook_cells_cannot_run_formulas(tmp_path):
    nasty = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2", "@SUM(A1)", "\tcmd", "'quoted"]
    old = factory.publish(make_config(tmp_path, "2026-11-01"), [I("1", "open", title="好")])
    new = factory.publish(make_config(tmp_path, "2026-11-20"),
                          [I("1", "open", title=nasty[0])] +
                          [I(str(n), "open", unit=text) for n, text in enumerate(nasty[1:], 2)])
    sheets = _sheets(diff.run(old, new, fmt="xlsx")[0])
    units = [row[2] for row in sheets["新增问题"][1:]]
    assert units == [tables.defuse(text) for text in nasty[1:]]  # the one rule the CSV uses
    assert all(unit.startswith("'") for unit in units)
    assert sheets["字段变化"][1][5:] == ["好", "'" + nasty[0]]
    assert diff_xlsx.cell_text("a\x00b\x1fc") == "a b c"  # characters XML forbids


def test_workbook_bytes_do_not_depend_on_the_clock(pair, monkeypatch):
    import time

    first, _ = diff.run(*pair, fmt="xlsx")
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    second, _ = diff.run(*pair, fmt="xlsx")
    assert first == second
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 11, 20, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode("utf-8")
    assert "2026-11-20T00:00:00Z" in core


def test_cli_formats_and_out(pair, tmp_path, capsys):
    out = tmp_path / "out" / "changes.xlsx"
    assert cli.main(["diff", "--format", "xlsx", "--out", str(out), str(pair[0]), str(pair[1])]) == 0
    assert out.read_bytes() == diff.run(*pair, fmt="xlsx")[0]
    inferred = tmp_path / "again.xlsx"
    assert cli.main(["diff", "--out", str(inferred), "--language", "en", *map(str, pair)]) == 0
    assert inferred.read_bytes() == diff.run(*pair, fmt="xlsx", language="en")[0]
    capsys.readouterr()
    assert cli.main(["diff", "--format", "xlsx", str(pair[0]), str(pair[1])]) == 2
    assert "add --out FILE.xlsx" in capsys.readouterr().err
    assert cli.main(["diff", "--format", "json", *map(str, pair)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(diff.run(*pair, fmt="json")[0])
    assert {"field_changes", "feedback_changes", "id_changes", "deadlines_earlier"} <= set(printed)
    assert cli.main(["diff", "--format", "markdown", "--fail-on-removed", *map(str, pair)]) == 1
    assert "### Field changes" in capsys.readouterr().out


# ---------------------------------------------------------------- the changes page

def _page_text(changes: dict, language: str = "zh", **kw) -> dict:
    return diff_page.page(changes, words.words(language), {"1", "2", "3"}, {}, language, **kw)


def test_page_groups_field_changes_per_item_and_caps_long_sections():
    rows = [{"table": "issues", "id": str(n), "title": f"问题{n}", "field": field,
             "old": "in_progress" if field == "status" else None,
             "new": "done" if field == "status" else "2026-11-01"}
            for n in range(1, 6) for field in ("status", "completed_on")]
    rows.append({"table": "feedback", "id": "f1", "title": None, "field": "replied",
                 "old": "false", "new": "true"})
    changes = {"field_changes": rows, "feedback_changes": [
        {"feedback_id": "f1", "field": "replied", "old": "false", "new": "true"}],
        "added": [{"issue_id": str(n), "title": "t", "unit": "u", "status": "open"}
                  for n in range(10, 14)],
        "counts": {"issues_changed": 5, "feedback_changed": 1}}
    page = _page_text(changes, downloads=["changes.json", "changes.xlsx"], limit=3)
    sections = {s["title"]: s for s in page["sections"]}
    fields = sections["问题内容变化（逐字段）"]
    assert fields["headings"] == ["编号", "问题", "字段", "原来", "现在"]
    cells = [[cell["text"] for cell in row] for row in fields["rows"]]
    assert cells[:2] == [["1", "问题1", "整改状态", "整改中", "已完成"],
                         ["", "", "完成时间", "（空）", "2026-11-01"]]
    assert len(cells) == 6 and fields["more"] == {"shown": 3, "total": 5}  # three items, capped
    assert fields["rows"][0][0]["link"] and not fields["rows"][1][0]["link"]
    opinions = sections["意见内容变化（逐字段）"]
    assert [[c["text"] for c in row] for row in opinions["rows"]] == [["f1", "是否答复", "否", "是"]]
    assert sections["新增问题"]["more"] == {"shown": 3, "total": 4}
    assert [c["text"] for c in sections["新增问题"]["rows"][0]] == ["10", "t", "u", "未启动"]
    assert page["downloads"] == [{"name": "changes.json", "href": "../data/changes.json"},
                                 {"name": "changes.xlsx", "href": "../data/changes.xlsx"}]
    assert page["summary"] == "内容有变化的问题 5 条、意见 1 条，共 11 处字段变化。"


def test_page_puts_id_and_title_before_was_and_now():
    """changes.json has its keys sorted; the page still reads id, title, was, now."""
    changes = json.loads(json.dumps({"status_changes": [
        {"issue_id": "1", "title": "问题1", "old": "open", "new": "done"}]}, sort_keys=True))
    (section,) = _page_text(changes, "en")["sections"]
    assert section["headings"] == ["ID", "Issue", "Before", "Now"]
    assert [c["text"] for c in section["rows"][0]] == ["1", "问题1", "Not started", "Completed"]


# ---------------------------------------------------------------- the demo, measured

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's last two publishes (the 2026-10-31 export, then today's) into a copy."""
    root = tmp_path_factory.mktemp("demo")
    data = shutil.copytree(ROOT / "site_data", root / "site_data",
                           ignore=shutil.ignore_patterns("snapshots"))
    config = data / "gongshi.yml"
    config.write_text(config.read_text(encoding="utf-8")
                      .replace("work_dir: ../build", "work_dir: build")
                      .replace("site_dir: ../site", "site_dir: site"), encoding="utf-8")
    assert cli.main(["publish", "--config", str(config), "--snapshot-only", "--sources-from",
                     str(data / "history" / "2026-10-31"), "--as-of", "2026-10-31"]) == 0
    assert cli.main(["publish", "--config", str(config)]) == 0
    return data


def _csv_rows(path: Path, key: str) -> dict[str, dict]:
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row[key]: row for row in csv.DictReader(handle)}


def test_diff_names_every_item_the_demo_changed(demo):
    from etl.ledger.manifests import chain

    old, new = chain(demo / "snapshots")[-2:]
    truly, fields = set(), set()
    for table, key in (("issues", "issue_id"), ("feedback", "feedback_id")):
        before = _csv_rows(old / f"{table}.csv", key)
        after = _csv_rows(new / f"{table}.csv", key)
        truly |= {(table, k) for k in set(before) ^ set(after)}
        for k in set(before) & set(after):
            differing = {(table, k, f) for f in before[k] if before[k][f] != after[k].get(f)}
            fields |= differing
            truly |= {(table, k)} if differing else set()
    result = diff.compare(old, new)
    named = {(r["table"], r["id"]) for r in result["field_changes"]}
    named |= {("issues", r["issue_id"]) for r in result["added"] + result["removed"]}
    named |= {("feedback", k) for k in result["feedback_added"] + result["feedback_removed"]}
    assert len(truly) > 50 and named == truly
    assert {(r["table"], r["id"], r["field"]) for r in result["field_changes"]} == fields
    changed_in_both = {t for t in truly if t[0] == "issues"} - {
        ("issues", r["issue_id"]) for r in result["added"]}
    assert result["counts"]["issues_changed"] == len(changed_in_both)


def test_the_demo_site_shows_and_offers_every_change(demo):
    from etl.ledger.manifests import chain

    work, site = demo / "build", demo / "site"
    for name in ("changes.json", "changes.xlsx"):
        assert (site / "data" / name).read_bytes() == (work / name).read_bytes()
    result = json.loads((work / "changes.json").read_text(encoding="utf-8"))
    old, new = chain(demo / "snapshots")[-2:]
    # Written by the publish in another process, at another time: the same bytes.
    assert (work / "changes.xlsx").read_bytes() == diff.run(old, new, fmt="xlsx")[0]
    page = (site / "changes" / "index.html").read_text(encoding="utf-8")
    assert 'href="../data/changes.xlsx"' in page and 'href="../data/changes.json"' in page
    items = len({r["id"] for r in result["field_changes"] if r["table"] == "issues"})
    assert items > diff_page.PAGE_LIMIT and f"共 {items} 项" in page
    assert "问题内容变化（逐字段）" in page and "意见内容变化（逐字段）" in page
    assert page.count("../data/changes.xlsx") >= 2  # the downloads line and the capped section


def test_items_alike_from_one_template_are_not_taken_for_a_changed_id(tmp_path, monkeypatch):
    """Removed 张庄村 and added 王营村 are two issues: both stay flagged as removed and added."""
    village = lambda name: {"description": f"河西街道{name}农网线路老化，夏季用电高峰频繁停电"}  # noqa: E731
    old, new = publish_pair(tmp_path, [full("1"), full("2", **village("张庄村"))],
                            [full("1"), full("3", **village("王营村"))])
    result = diff.compare(old, new)
    assert result["id_changes"] == []
    assert [r["issue_id"] for r in result["removed"]] == ["2"]
    assert [r["issue_id"] for r in result["added"]] == ["3"]
    # Too many pairs to compare: identical content is still matched, and the rest is said.
    monkeypatch.setattr(diff_fields, "MAX_NEAR_PAIRS", 0)
    assert "issues: 1 disappeared and 1 added items are too many to compare for changed ids; " \
           "only identical content was matched" in diff.compare(old, new)["warnings"]

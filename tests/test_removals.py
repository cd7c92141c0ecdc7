"""The removal guard: a cut-short export stops the publish; an explicit reason lets it through,
recorded in the manifest and shown on the changes page."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

import openpyxl
import pytest
import yaml

from campaigns import AS_OF, tree_digest, write_campaign  # tests/ is on sys.path
from etl import cli, pipeline
from etl.config import Removals, load_config
from etl.errors import SnapshotError
from etl.ledger import removals
from etl.ledger.manifests import chain

LATER = (AS_OF + dt.timedelta(days=1)).isoformat()
ISSUES_FILE, FEEDBACK_FILE = "问题整改清单.xlsx", "意见建议台账.csv"
HEADER_ROW = 3  # the demo workbook: a title row, a note row, then the header


@pytest.fixture
def campaign(tmp_path) -> Path:
    """The demo config over a 60-issue synthetic campaign, published once; returns the config."""
    path = write_campaign(tmp_path)
    pipeline.publish(load_config(path), log=lambda *a: None)
    return path


def cut_issues(config_path: Path, keep: int) -> list[str]:
    """Keep the first `keep` data rows of the issue workbook, as a cut-short export would;
    returns the ids cut away."""
    path = config_path.parent / "sources" / ISSUES_FILE
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.worksheets[0]
    first = HEADER_ROW + 1
    cut = [row[0] for row in sheet.iter_rows(min_row=first + keep, values_only=True) if row[0]]
    sheet.delete_rows(first + keep, sheet.max_row)
    workbook.save(path)
    return cut


def run(config_path: Path, *extra: str) -> int:
    return cli.main(["publish", "--config", str(config_path), "--as-of", LATER, *extra])


def newest_manifest(config_path: Path) -> dict:
    head = chain(config_path.parent / "snapshots")[-1]
    return json.loads((head / "manifest.json").read_text(encoding="utf-8"))


def test_a_cut_short_export_is_refused_naming_the_ids_and_nothing_changes(campaign, capsys):
    folder = campaign.parent
    previous = chain(folder / "snapshots")[-1].name
    before = tree_digest(folder / "site"), tree_digest(folder / "snapshots")
    cut = cut_issues(campaign, keep=30)
    assert cut == [f"QH-2026-{n:04d}" for n in range(31, 61)]
    capsys.readouterr()
    assert run(campaign) == 2
    assert capsys.readouterr().err == (
        "error: 发布已停止，网站和快照都没有改动：\n"
        f"  - 问题清单（issues）比上一次快照 {previous} 少了 30 条已公示的条目："
        "QH-2026-0031, QH-2026-0032, QH-2026-0033, QH-2026-0034, QH-2026-0035, QH-2026-0036, "
        "QH-2026-0037, QH-2026-0038, QH-2026-0039, QH-2026-0040 等（共 30 条，只列出前 10 条）\n"
        "  - 问题清单（issues）的行数从 60 条降到 30 条，减少 50.0%，超过允许的 10.0%"
        "（removals.max_drop_share）\n"
        "  what to do: 如果导出不完整，请重新导出完整的清单再发布；如果确实要删除这么多条目，"
        "请加上 --allow-removals \"原因\" 重新发布（配置中的 removals.allowed_reason "
        "只允许不超过 removals.max_drop_share 的减少），原因会记入快照的 manifest.json "
        "并在“本次变化”页公示\n")
    assert (tree_digest(folder / "site"), tree_digest(folder / "snapshots")) == before
    # --snapshot-only (how the demo seeds its history) is guarded the same way.
    assert cli.main(["publish", "--config", str(campaign), "--as-of", LATER,
                     "--snapshot-only"]) == 2
    assert "少了 30 条已公示的条目" in capsys.readouterr().err
    assert tree_digest(folder / "snapshots") == before[1]


def test_one_removed_opinion_is_refused_without_a_reason(campaign, capsys):
    folder = campaign.parent
    csv_path = folder / "sources" / FEEDBACK_FILE
    lines = csv_path.read_bytes().split(b"\r\n")
    gone = lines[5].decode("gb18030").split(",")[0]
    csv_path.write_bytes(b"\r\n".join(lines[:5] + lines[6:]))
    before = tree_digest(folder / "snapshots")
    capsys.readouterr()
    assert run(campaign) == 2
    err = capsys.readouterr().err
    assert f"意见建议台账（feedback）比上一次快照 {chain(folder / 'snapshots')[-1].name} 少了 1 条" \
           f"已公示的条目：{gone}\n" in err
    assert "行数" not in err  # 1 of 150 is within the share
    assert "或在配置中设置 removals.allowed_reason" in err
    assert tree_digest(folder / "snapshots") == before


def test_a_share_drop_is_refused_even_under_the_configs_standing_reason(campaign, capsys):
    data = yaml.safe_load(campaign.read_text(encoding="utf-8"))
    data["removals"] = {"allowed_reason": "合并重复登记的问题", "max_drop_share": 0.1}
    campaign.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = tree_digest(campaign.parent / "snapshots")
    cut_issues(campaign, keep=53)  # 7 of 60: 11.7%
    capsys.readouterr()
    assert run(campaign) == 2
    err = capsys.readouterr().err
    assert "问题清单（issues）的行数从 60 条降到 53 条，减少 11.7%，超过允许的 10.0%" in err
    assert "请加上 --allow-removals \"原因\" 重新发布" in err
    assert tree_digest(campaign.parent / "snapshots") == before
    # Within a larger share, the standing reason lets the same export through, recorded.
    data["removals"]["max_drop_share"] = 0.2
    campaign.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert run(campaign) == 0
    record = newest_manifest(campaign)["removals"]
    assert (record["reason"], record["allowed_by"]) == ("合并重复登记的问题", "removals.allowed_reason")
    assert record["tables"]["issues"]["removed"] == 7


def test_allowed_with_a_reason_records_it_and_the_changes_page_shows_it(campaign, capsys):
    folder = campaign.parent
    cut = cut_issues(campaign, keep=30)
    reason = "县纪委通报：第 31 至 60 号问题并入《专项整治清单》另行公示"
    assert run(campaign, "--allow-removals", f"  {reason} ") == 0
    manifest = newest_manifest(campaign)
    assert manifest["removals"] == {"reason": reason, "allowed_by": "--allow-removals",
                                    "tables": {"issues": {"ids": cut, "removed": 30,
                                                          "rows_before": 60, "rows_after": 30}}}
    page = html.unescape((folder / "site" / "changes" / "index.html").read_text(encoding="utf-8"))
    block = page[page.index("删除条目的说明"):]
    assert reason in block
    assert "删除问题 30 条：" + "、".join(cut) in block
    assert cli.main(["verify", str(folder / "site")]) == 0
    # A rerun of that publish is a no-op, with or without the flag: nothing new is removed.
    published = tree_digest(folder / "site"), tree_digest(folder / "snapshots")
    assert run(campaign) == 0
    assert (tree_digest(folder / "site"), tree_digest(folder / "snapshots")) == published
    # The next publish compares with the snapshot that removed them: nothing to allow.
    assert cli.main(["publish", "--config", str(campaign), "--as-of", "2026-11-24"]) == 0
    assert "removals" not in newest_manifest(campaign)


def test_an_empty_reason_is_not_a_reason(campaign, capsys):
    cut_issues(campaign, keep=59)
    capsys.readouterr()
    assert run(campaign, "--allow-removals", "  ") == 2
    assert "--allow-removals: give the reason" in capsys.readouterr().err


def test_publishes_without_removals_carry_no_removals_field(campaign):
    assert "removals" not in newest_manifest(campaign)


def test_english_sites_get_the_message_in_english():
    found = {"issues": {"ids": ["A-1", "A-2"], "rows_before": 4, "rows_after": 2},
             "feedback": {"ids": [], "rows_before": 0, "rows_after": 0}}
    with pytest.raises(SnapshotError) as caught:
        removals.check(found, Removals(), "2026-11-20-0000000000000000", "en")
    assert caught.value.render() == (
        "publish stopped; the site and the snapshots are unchanged:\n"
        "  - the issue list (issues) lacks 2 published item(s) of the previous snapshot "
        "2026-11-20-0000000000000000: A-1, A-2\n"
        "  - the issue list (issues) fell from 4 to 2 rows, 50.0% fewer, more than the 10.0% "
        "allowed (removals.max_drop_share)\n"
        "  what to do: if the export is incomplete, export the whole list again and publish; if "
        "this many items are really to be removed, publish again with --allow-removals "
        "\"REASON\" (the config's removals.allowed_reason allows drops up to "
        "removals.max_drop_share only); the reason is recorded in the snapshot's manifest.json "
        "and shown on the changes page")
    allowed = removals.check(found, Removals(allowed_reason="merged", max_drop_share=0.5),
                             "x", "en")
    assert allowed == {"reason": "merged", "allowed_by": "removals.allowed_reason",
                       "tables": {"issues": {"ids": ["A-1", "A-2"], "removed": 2,
                                             "rows_before": 4, "rows_after": 2}}}
    # The command line's reason lifts the share cap for its one publish.
    once = removals.check(found, Removals(command_line_reason="cut by order"), "x", "en")
    assert (once["reason"], once["allowed_by"]) == ("cut by order", "--allow-removals")

"""Atom feeds of each publish's changes: valid Atom 1.0, stable tag: ids, per-group entries."""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree import ElementTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cases" / "snapshots"))
import snapshot_factory as factory  # noqa: E402

from etl import schema  # noqa: E402
from etl.privacy.safepath import slug  # noqa: E402
from etl.site import feeds, words  # noqa: E402

ATOM = "{http://www.w3.org/2005/Atom}"
I = factory.issue
FIRST = [I("1", "open", unit="县住建局", area="城关镇"),
         I("2", "in_progress", unit="县交通局", area="河西街道")]
SECOND = [I("1", "done", unit="县住建局", area="城关镇"),
          I("2", "merged", unit="县交通局", area="河西街道"), I("3", "open", unit="县住建局", area="城关镇")]


COLUMNS = [*factory.ISSUE_COLUMNS, "area"]


def _chain(tmp_path):
    folders = [factory.publish(factory.make_config(tmp_path, "2026-10-01"), FIRST,
                               issue_columns=COLUMNS),
               factory.publish(factory.make_config(tmp_path, "2026-11-01"), SECOND,
                               issue_columns=COLUMNS)]
    config = factory.make_config(tmp_path, "2026-11-01")
    groups = schema.load_metrics(config.work_dir / "metrics.json")["groups"]
    return config, folders, groups


def _parse(path: Path):
    root = ElementTree.fromstring(path.read_bytes())
    assert root.tag == f"{ATOM}feed"
    # RFC 4287: a feed has one id, title and updated, an author, and every entry the same three.
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert root.find(f"{ATOM}author/{ATOM}name").text
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        for name in ("id", "title", "updated", "content"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert entry.find(f"{ATOM}updated").text.endswith("T00:00:00Z")
    return root, entries


def test_site_and_group_feeds_list_each_publishs_changes(tmp_path):
    config, folders, groups = _chain(tmp_path)
    out = tmp_path / "pages"
    written = feeds.write(config, folders, groups, out)
    unit = slug("unit", "县交通局")
    assert f"feeds/units/{unit}.xml" in written and f"feeds/areas/{slug('area', '城关镇')}.xml" in written
    root, entries = _parse(out / "feeds" / "index.xml")
    assert root.find(f"{ATOM}id").text == "tag:gongshi.invalid,2026-10-01:site"
    assert [e.find(f"{ATOM}id").text for e in entries] == [
        f"tag:gongshi.invalid,2026-10-01:site/{folder.name}" for folder in reversed(folders)]
    newest = entries[0].find(f"{ATOM}content").text
    statuses = words.status_labels("zh")
    assert f"1 问题1: {statuses['open']} → {statuses['done']}" in newest
    assert f"2 问题2: {statuses['in_progress']} → {statuses['merged']}" in newest
    assert "3 问题3" in newest
    # Without site_url the links are relative to the feed.
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "../feeds/index.xml"
    # The 交通局 feed: its own change only, plus the first publish.
    _, unit_entries = _parse(out / "feeds" / "units" / f"{unit}.xml")
    content = unit_entries[0].find(f"{ATOM}content").text
    assert "问题2" in content and "问题1" not in content and "问题3" not in content
    assert unit_entries[-1].find(f"{ATOM}content").text == \
        words.section("feed", "zh")["first_publish"].format(count=2)


def test_feeds_are_stable_and_absolute_with_site_url(tmp_path):
    config, folders, groups = _chain(tmp_path)
    feeds.write(config, folders, groups, tmp_path / "a")
    feeds.write(config, folders, groups, tmp_path / "b")
    assert (tmp_path / "a" / "feeds" / "index.xml").read_bytes() == \
        (tmp_path / "b" / "feeds" / "index.xml").read_bytes()
    online = config.replace(site_url="https://gongshi.example.gov/qinghe/")
    feeds.write(online, folders, groups, tmp_path / "c")
    root, entries = _parse(tmp_path / "c" / "feeds" / "index.xml")
    assert root.find(f"{ATOM}id").text == "tag:gongshi.example.gov,2026-10-01:site"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == \
        "https://gongshi.example.gov/qinghe/feeds/index.xml"
    assert entries[0].find(f"{ATOM}link").get("href") == "https://gongshi.example.gov/qinghe/changes/"

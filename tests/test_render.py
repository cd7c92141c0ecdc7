"""Render stage on a tiny fixture: pages exist, figures are keyed spans, source text stays inert."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil

import pandas as pd
import pytest
import yaml

from etl import metrics, render, snapshot
from etl.site import charts, figures, issue_pages, pages, words
from etl.privacy import safepath
from etl.ledger import tables
from etl.config import load_config
from etl.errors import BuildError
from etl.config import LANGUAGES

NASTY = "<script>alert(1)</script> | {{ 7*7 }} # x"
UNITS = ("县住建局", "县交通局", "县教育局")


def _issue(number, unit, status, **fields):
    return {"issue_id": f"QH-{number:03d}", "title": f"问题{number}", "description": f"描述{number}",
            "category": "形式主义", "area": "城关镇", "unit": unit, "channel": "热线",
            "feedback_count": 2, "identified_on": dt.date(2026, 3, 1), "measures": "整改措施",
            "target": "目标", "deadline": dt.date(2026, 6, 30), "deadline_note": None,
            "status": status, "completed_on": None, "result": None, "satisfaction": None,
            "reply": None, "replied_on": None, **fields}


ISSUES = [
    _issue(1, UNITS[0], "done", completed_on=dt.date(2026, 5, 1), satisfaction=95.0),
    _issue(2, UNITS[0], "open", description=NASTY),
    _issue(3, UNITS[1], "in_progress", title=NASTY),
    _issue(4, UNITS[2], "rework", satisfaction=60.0),
    _issue(5, UNITS[2], "long_term", deadline=None, deadline_note="长期坚持"),
]
FEEDBACK = [{"feedback_id": f"F{n}", "received_on": dt.date(2026, 3, 2), "channel": "热线",
             "replied": n <= 8, "issue_id": "QH-001"} for n in range(1, 11)]


def make_metrics(issues: list[dict] = ISSUES) -> dict:
    """Metrics of the fixture, made by the metrics stage itself (metrics.compute), so the pages
    see the shape metrics.json really has."""
    frame = pd.DataFrame(issues)
    for column in tables.schema.field_names("issues"):
        if column not in frame:
            frame[column] = None
    return json.loads(metrics.to_json(metrics.compute(
        frame, pd.DataFrame(FEEDBACK), as_of=dt.date(2026, 11, 20), threshold=80, stale_weeks=8,
        claims=[{"label": NASTY, "metric": "feedback.total", "value": 12, "date": "2026-10-31",
                 "source": "报告"}], history=[])))


def make_inputs(config, changes: dict | None = None, issues: list[dict] = ISSUES) -> None:
    """Tables, metrics, a committed and a staged snapshot, as the earlier stages leave them."""
    work = config.work_dir
    published = [c for c in tables.schema.field_names("issues") if c != "owner"]
    tables.write_table(pd.DataFrame(issues), work / "tables" / "issues.csv", "issues", published)
    feedback = pd.DataFrame([{"feedback_id": "F1", "channel": "热线", "replied": True}])
    tables.write_table(feedback, work / "tables" / "feedback.csv", "feedback")
    metrics = make_metrics(issues)
    (work / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False), encoding="utf-8")
    for folder, snapshot_id, previous in (
            (config.snapshots_dir, "2026-10-01-bbbbbbbb", None),
            (work / "stage" / "snapshot", "2026-11-20-aaaaaaaa", "2026-10-01-bbbbbbbb")):
        target = folder / snapshot_id
        target.mkdir(parents=True)
        (target / "issues.csv").write_bytes(tables.table_csv_bytes(pd.DataFrame(issues), "issues"))
        manifest = {"snapshot_id": snapshot_id, "as_of": snapshot_id[:10],
                    # A real chain link: the feeds compare each snapshot with the one before.
                    "previous": {"snapshot_id": previous, "manifest_sha256": snapshot.manifest_hash(
                        config.snapshots_dir / previous)} if previous else None,
                    "files": {}, "row_counts": {"issues": 5}}
        (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if changes is not None:
        (work / "changes.json").write_text(json.dumps(changes, ensure_ascii=False), encoding="utf-8")


SPAN = re.compile(r'<span class="gs-figure" data-figure="([^"]+)">([^<]*)</span>')


@pytest.fixture
def rendered(config):
    make_inputs(config, changes={"added": [{"issue_id": "QH-005"}],
                                 "removed": [{"issue_id": "QH-999", "title": NASTY}]})
    return config, render.run(config)


def test_pages_exist(rendered):
    config, docs = rendered
    pages = docs / "pages"
    unit_slug = safepath.slug("unit", UNITS[0])
    for relative in ("index.md", "units/index.md", f"units/{unit_slug}/index.md", "areas/index.md",
                     "categories/index.md", "overdue/index.md", "rework/index.md",
                     "claims/index.md", "changes/index.md", "data/index.md",
                     "methodology/index.md", "history/index.md", "charts/funnel.svg",
                     "charts/burnup.svg", "charts/status_by_unit.svg", "assets/gongshi.css",
                     f"issues/{safepath.bucket('QH-001')}/index.md",
                     "data/snapshots/2026-10-01-bbbbbbbb/manifest.json",
                     "data/snapshots/2026-11-20-aaaaaaaa/issues.csv"):
        assert (pages / relative).is_file(), relative
    latest = json.loads((pages / "data" / "latest.json").read_text(encoding="utf-8"))
    assert latest == {"snapshot_id": "2026-11-20-aaaaaaaa"}
    assert (docs / "mkdocs.yml").is_file()


def test_every_figure_span_is_a_metric(rendered):
    config, docs = rendered
    figures = make_metrics()["figures"]
    found = 0
    for page in (docs / "pages").rglob("*.md"):
        for key, _ in SPAN.findall(page.read_text(encoding="utf-8")):
            assert key in figures, (page, key)
            found += 1
    home = (docs / "pages" / "index.md").read_text(encoding="utf-8")
    assert '<span class="gs-figure" data-figure="rate.completion">20.0%</span>' in home
    units = (docs / "pages" / "units" / "index.md").read_text(encoding="utf-8")
    assert f'data-figure="unit.{safepath.slug("unit", UNITS[0])}.total"' in units
    assert found > 30


def _issue_records(docs) -> dict[str, dict]:
    """The issue pages the render stage hands the build stage, by site path."""
    lines = (docs / issue_pages.RECORDS).read_text(encoding="utf-8").splitlines()
    return {record["path"]: record for record in map(json.loads, lines)}


def test_issue_permalinks_and_unit_lists(rendered):
    config, docs = rendered
    anchor = safepath.anchor("QH-001")
    own = f"issues/{safepath.bucket('QH-001')}/QH-001.html"
    assert pages.issue_href("QH-001") == own
    records = _issue_records(docs)
    assert len(records) == len(ISSUES) and own in records
    assert records[own]["title"].startswith("QH-001 ") and f'id="{anchor}"' in records[own]["body"]
    # The old bucket page links each issue to its own page, carrying the old anchor as its id.
    bucket_page = docs / "pages" / "issues" / safepath.bucket("QH-001") / "index.md"
    assert f'<a id="{anchor}" href="../../{own}">' in bucket_page.read_text(encoding="utf-8")
    assert (docs / "pages" / issue_pages.SHELL_PAGE).is_file()
    unit_page = docs / "pages" / "units" / safepath.slug("unit", UNITS[0]) / "index.md"
    text = unit_page.read_text(encoding="utf-8")
    assert f"../../{own}" in text
    assert "已完成" in text and "未启动" in text
    assert "owner" not in text and "责任人" not in text


def test_nasty_text_is_escaped_in_markdown(rendered):
    config, docs = rendered
    for page in (docs / "pages").rglob("*.md"):
        content = page.read_text(encoding="utf-8")
        assert "<script>" not in content, page
    records = _issue_records(docs)
    assert not [path for path, record in records.items() if "<script>" in record["body"]]
    # Jinja never evaluates data: the template expression in the text arrives as text.
    detail = records[pages.issue_href("QH-003")]["body"]
    assert NASTY in html.unescape(detail) and "{{" not in detail


def test_first_publish_and_claims(config):
    make_inputs(config)
    docs = render.run(config)
    assert "首次发布" in (docs / "pages" / "changes" / "index.md").read_text(encoding="utf-8")
    claims = (docs / "pages" / "claims" / "index.md").read_text(encoding="utf-8")
    assert "⚠" in claims and 'data-figure="claim.1.claimed"' in claims


def test_unpublished_columns_are_not_shown(config):
    make_inputs(config)
    published = ["issue_id", "description", "unit", "status"]
    tables.write_table(pd.DataFrame(ISSUES), config.work_dir / "tables" / "issues.csv", "issues",
                       published)
    docs = render.run(config)
    unit_page = docs / "pages" / "units" / safepath.slug("unit", UNITS[0]) / "index.md"
    text = unit_page.read_text(encoding="utf-8")
    assert "整改时限" not in text and "完成时间" not in text
    detail = _issue_records(docs)[pages.issue_href("QH-001")]["body"]
    assert "整改措施" not in detail and "描述1" in detail


def test_changes_page_shows_sections_and_figure_spans(config):
    make_inputs(config, changes={
        "old": {"snapshot_id": "2026-10-01-bbbbbbbb", "as_of": "2026-10-01"},
        "added": [], "removed": [{"issue_id": "QH-999", "title": NASTY, "status": "open"}],
        "status_changes": [{"issue_id": "QH-001", "title": "问题1", "old": "open", "new": "done"}],
        "figure_changes": [{"key": "issues.total", "old": "4", "new": "5", "change": "+1"},
                           {"key": "rate.completion", "old": "16.9%", "new": "20.0%",
                            "change": "+3.1 pt"}]})
    page = (render.run(config) / "pages" / "changes" / "index.md").read_text(encoding="utf-8")
    # The public sees the figures' names and percentage points in words, never keys or "pt".
    shown = _change_rows(page)
    assert ["梳理问题", "4", "5", "+1"] in shown and ["整改完成率", "16.9%", "20.0%", "+3.1个百分点"] in shown
    assert ">issues.total<" not in page and " pt" not in page and ">rate.completion<" not in page
    assert "🔴" in page and "2026&#45;10&#45;01&#45;bbbbbbbb" in page
    assert ["QH-001", "问题1", "未启动", "已完成"] in shown
    # Every cell names its column, so a phone shows each row as a labelled card.
    assert '<table class="gs-changes">' in page and '<td data-label="变化">' in page
    assert '<span class="gs-figure" data-figure="issues.total">5</span>' in page
    assert "<script>" not in page and "首次发布" not in page


def _change_rows(page: str) -> list[list[str]]:
    """The changes page's table rows as the texts a reader sees in their cells."""
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell))
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", line)]
            for line in page.splitlines() if line.startswith("<tr><td")]


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


def test_every_language_has_every_word():
    words = yaml.safe_load((render.TEMPLATES / "text.yml").read_text(encoding="utf-8"))
    assert set(words) == set(LANGUAGES)
    for language in LANGUAGES:
        assert set(words[language]) == set(words["zh"]), language
        assert set(words[language]["change_columns"]) == set(words["zh"]["change_columns"])
        assert (render.CONTENT / language / "about.md").is_file()
        assert (render.CONTENT / language / "search.md").is_file()
    def strings(value, key=""):
        if isinstance(value, dict):
            for inner_key, inner in value.items():
                yield from strings(inner, f"{key}.{inner_key}")
        else:
            yield key, str(value)
    for key, value in strings(words["en"]):
        # The one Chinese word allowed is the data's own name for an empty group.
        assert not CJK.search(value.replace(f"“{figures.MISSING_GROUP}”", "")), key


def test_unknown_language_is_an_error_not_chinese():
    with pytest.raises(BuildError, match="'fr'"):
        render.load_text("fr")


def _data_words(config) -> list[str]:
    """Every text the fixture's data and config put on pages: these may stay Chinese."""
    words = {config.title, config.region, figures.MISSING_GROUP, "报告"}
    words |= {v for issue in ISSUES for v in issue.values() if isinstance(v, str)}
    words |= {g["name"] for groups in make_metrics()["groups"].values() for g in groups}
    return sorted(words, key=len, reverse=True)


def test_english_site_has_no_chinese_chrome(write_config):
    config = load_config(write_config(language="en"))
    make_inputs(config, changes={
        "added": [{"issue_id": "QH-005"}], "removed": [], "regressions": [],
        "status_changes": [{"issue_id": "QH-001", "title": "问题1", "old": "open", "new": "done"}],
        "figure_changes": [{"key": "issues.total", "old": "4", "new": "5", "change": "+1"},
                           {"key": "rate.completion", "old": "16.9%", "new": "20.0%",
                            "change": "+3.1 pt"}]})
    docs = render.run(config)
    pages = docs / "pages"
    data = _data_words(config)
    checked = 0
    for page in sorted([*pages.rglob("*.md"), *pages.rglob("*.svg")]):
        text = page.read_text(encoding="utf-8")
        for word in data:
            text = text.replace(word, "")
        assert not CJK.findall(text), (page.relative_to(pages), CJK.findall(text))
        checked += 1
    assert checked > 15
    mkdocs = yaml.safe_load((docs / "mkdocs.yml").read_text(encoding="utf-8"))
    assert mkdocs["theme"]["language"] == "en"
    titles = [title for entry in mkdocs["nav"] for title in entry]
    assert titles[0] == "Home" and "Search" in titles and "About" in titles
    assert not [t for t in titles if CJK.search(t)]
    assert (pages / "about.md").read_text(encoding="utf-8").startswith("# About this site")
    assert not (pages / "en").exists() and not (pages / "zh").exists()
    unit_page = (pages / "units" / safepath.slug("unit", UNITS[0]) / "index.md").read_text(
        encoding="utf-8")
    assert "Completed" in unit_page and "Not started" in unit_page and "Deadline" in unit_page
    changes = (pages / "changes" / "index.md").read_text(encoding="utf-8")
    rows = _change_rows(changes)
    assert any(row[-2:] == ["Not started", "Completed"] for row in rows)
    assert any(row[-1] == "+3.1 percentage points" for row in rows)
    assert any(row[:2] == ["Issues identified", "4"] for row in rows)
    assert "🔴 Issues removed, Status regressions: None" in changes
    # Numbers print the same whatever the language.
    home = (pages / "index.md").read_text(encoding="utf-8")
    assert '<span class="gs-figure" data-figure="rate.completion">20.0%</span>' in home


def test_chinese_site_keeps_its_hand_written_pages(rendered):
    config, docs = rendered
    pages = docs / "pages"
    assert (pages / "about.md").read_bytes() == (render.CONTENT / "zh" / "about.md").read_bytes()
    assert (pages / "search.md").read_bytes() == (render.CONTENT / "zh" / "search.md").read_bytes()
    assert not (pages / "en").exists() and not (pages / "zh").exists()
    data = (pages / "data" / "index.md").read_text(encoding="utf-8")
    assert "（最新）" in data and "python -m etl verify 网站文件夹" in data


def _home_unit_rows(home: str) -> dict[str, list[list[str]]]:
    """Rows of the home page's status-by-unit number table: name -> [[figure key, text], ...]."""
    table = home[home.index("整改状态</summary>"):]
    table = table[:table.index("</details>")]
    rows: dict[str, list] = {}
    for line in table.splitlines():
        if line.startswith("| ") and "gs-figure" in line:
            name = html.unescape(line.split(" | ")[0][2:])
            rows.setdefault(name, []).append(SPAN.findall(line))
    return rows


def test_home_unit_table_shows_each_units_own_figures_even_one_named_other(config):
    # 17 units, one of them really called 其他: the table never sums the rest under that name.
    names = ["其他", *(f"县第{n}局" for n in range(16))]
    issues = [_issue(number, name, "done" if number % 2 else "open")
              for number, name in enumerate(
                  [names[0]] * 20 + [name for position, name in enumerate(names[1:]) for _ in
                                     range(16 - position)], start=1)]
    make_inputs(config, issues=issues)
    home = (render.run(config) / "pages" / "index.md").read_text(encoding="utf-8")
    rows = _home_unit_rows(home)
    assert len(rows) == 15 and rows["其他"] == [rows["其他"][0]]
    own = safepath.slug("unit", "其他")
    assert rows["其他"][0][0] == (f"unit.{own}.done", "10")
    assert [key for key, _ in rows["其他"][0]] == [f"unit.{own}.{status}" for status in
                                                  charts.STATUS_ORDER]
    for name, (cells,) in rows.items():
        assert all(key.startswith(f"unit.{safepath.slug('unit', name)}.") for key, _ in cells), name
    assert "（共 17 个），全部单位见：[责任单位](units/index.md)" in home


def test_group_index_rows_are_labelled_cards_linking_to_the_group_page(rendered):
    config, docs = rendered
    units = (docs / "pages" / "units" / "index.md").read_text(encoding="utf-8")
    slug = safepath.slug("unit", UNITS[0])
    assert '<div class="gs-groups">' in units
    row = next(line for line in units.splitlines() if f"{slug}/index.html" in line)
    assert row.startswith(f'<tr><td><a href="../units/{slug}/index.html">')
    assert f'<td data-label="问题数"><span class="gs-figure" data-figure="unit.{slug}.total">' in row
    assert row.count("data-label=") == units.count("<th>") - 1 == 5


def test_claims_are_numbered_from_one():
    from etl.site import pages

    metrics = make_metrics()
    assert [(c["claimed_key"], c["computed_key"]) for c in pages.claims(metrics)] == [
        ("claim.1.claimed", "claim.1.computed")]
    # A 0-based key is not a claim's number: the page never guesses which figure is meant.
    zero_based = {key.replace("claim.1.", "claim.0."): value
                  for key, value in metrics["figures"].items()}
    with pytest.raises(BuildError, match="claim 1 has no claim.1.claimed"):
        pages.claims({**metrics, "figures": zero_based})


def test_scorecards_page_prints_every_units_scorecard_figures(rendered):
    config, docs = rendered
    page = (docs / "pages" / "scorecards" / "index.md").read_text(encoding="utf-8")
    shown = dict(SPAN.findall(page))
    for unit in UNITS[:3]:
        own = safepath.slug("unit", unit)
        for key in ("rate.completion", "rate.on_time", "rate.satisfaction", "rate.reply",
                    "days.median_to_reply", "rate.reply_prompt", "overdue", "change.done"):
            assert f"unit.{own}.{key}" in shown, (unit, key)
    # The fixture's history names none of these units' items: no previous publish of them.
    assert shown[f"unit.{safepath.slug('unit', UNITS[0])}.rate.completion"] == "50.0%"


def test_ranking_page_only_when_switched_on(config):
    from etl.config import Ranking
    make_inputs(config)
    docs = render.run(config)
    assert not (docs / "pages" / "ranking" / "index.md").exists()
    assert "ranking/index.md" not in (docs / "mkdocs.yml").read_text(encoding="utf-8")
    on = config.replace(ranking=Ranking(page=True))
    shutil.rmtree(config.work_dir / "docs")
    docs = render.run(on)
    page = (docs / "pages" / "ranking" / "index.md").read_text(encoding="utf-8")
    # The fixture's units have at most two issues, under the minimum of 20: the rule and why
    # nobody is ranked are stated on the page.
    assert "问题数不少于 20 条" in page and "本次没有问题数达到 20 条的单位" in page
    assert "ranking/index.md" in (docs / "mkdocs.yml").read_text(encoding="utf-8")


def test_claims_page_names_the_snapshot_each_claim_was_checked_against(rendered):
    config, docs = rendered
    page = (docs / "pages" / "claims" / "index.md").read_text(encoding="utf-8")
    # make_metrics has no history: a 10-31 claim has no snapshot of its date to be checked on.
    assert "没有该日期或更早的快照，无法核对" in page


def test_issue_page_shows_the_immediate_flag_in_words_and_links_a_merged_issue():
    issue = {"issue_id": "QH-7", "title": "路灯", "status": "merged", "immediate": True,
             "merged_into": "QH-2"}
    published = ["issue_id", "title", "status", "immediate", "merged_into"]
    for language, flag, status in (("zh", "是", "合并办理"), ("en", "Yes", "Merged")):
        detail = pages.issue_detail(issue, published, {}, language)
        shown = {field["label"]: field for field in detail["fields"]}
        assert shown[words.field_title("immediate", language)]["value"] == flag
        assert shown[words.field_title("status", language)]["value"] == status
        merged = shown[words.field_title("merged_into", language)]
        assert merged["value"] == "QH-2" and merged["href"] == pages.issue_href("QH-2")


def test_every_public_list_has_an_xlsx_linked_from_its_page(rendered):
    import openpyxl

    config, docs = rendered
    pages_dir = docs / "pages"
    unit = f"units/{safepath.slug('unit', UNITS[2])}"
    expected = {"data": 5, "overdue": None, "rework": 1, unit: 2}
    text = words.words("zh")
    for folder, count in expected.items():
        sheet = openpyxl.load_workbook(pages_dir / folder / "issues.xlsx").active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][0] == words.field_title("issue_id", "zh")
        if count is not None:
            assert len(rows) - 1 == count, folder
        page = (pages_dir / folder / "index.md").read_text(encoding="utf-8")
        assert "(issues.xlsx)" in page, folder
    overdue = openpyxl.load_workbook(pages_dir / "overdue" / "issues.xlsx").active
    assert [c.value for c in overdue[1]][-1] == text["days_late"]
    assert text["download_xlsx"] in (pages_dir / "rework" / "index.md").read_text(encoding="utf-8")
    data = html.unescape((pages_dir / "data" / "index.md").read_text(encoding="utf-8"))
    assert text["data_formats_csv"] in data and text["data_formats_xlsx"] in data


def test_feeds_are_written_and_linked_from_the_changes_and_group_pages(rendered):
    from xml.etree import ElementTree

    config, docs = rendered
    pages_dir = docs / "pages"
    unit = safepath.slug("unit", UNITS[0])
    text = words.words("zh")
    changes = (pages_dir / "changes" / "index.md").read_text(encoding="utf-8")
    assert f"[{text['feed_link']}](../feeds/index.xml)" in changes
    unit_page = (pages_dir / "units" / unit / "index.md").read_text(encoding="utf-8")
    assert f"[{text['feed_link']}](../../feeds/units/{unit}.xml)" in unit_page
    root = ElementTree.fromstring((pages_dir / "feeds" / "units" / f"{unit}.xml").read_bytes())
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert len(root.findall("{http://www.w3.org/2005/Atom}entry")) >= 1

"""Render stage on a tiny fixture: pages exist, figures are keyed spans, source text stays inert."""

from __future__ import annotations

import datetime as dt
import html
import json
import re

import pandas as pd
import pytest
import yaml

from etl import figures, render, safepath, tables
from etl.config import load_config
from etl.errors import BuildError

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
GROUP_KEYS = ("total", "open", "in_progress", "done", "long_term", "rework", "overdue",
              "rate.completion")


def _group(kind, name, rows):
    counts = {k: sum(1 for r in rows if r["status"] == k)
              for k in ("open", "in_progress", "done", "long_term", "rework")}
    figures = {"total": len(rows), **counts,
               "overdue": sum(1 for r in rows if r["status"] in ("open", "in_progress", "rework")),
               "rate.completion": counts["done"] / len(rows)}
    return {"name": name, "slug": safepath.slug(kind, name), "figures": figures}


def make_metrics() -> dict:
    groups = {"unit": [_group("unit", u, [r for r in ISSUES if r["unit"] == u]) for u in UNITS],
              "area": [_group("area", "城关镇", ISSUES)],
              "category": [_group("category", "形式主义", ISSUES)],
              "channel": [_group("channel", "热线", ISSUES)]}
    groups["channel"][0]["figures"].update({"feedback.total": 10, "rate.reply": 0.8})
    figures = {"feedback.total": 10, "issues.total": 5, "issues.done": 1, "issues.rectified": 1,
               "rate.completion": 0.2, "rate.on_time": 1.0, "issues.overdue": 3,
               "days.median_to_rectify": 61, "rate.reply": 0.8, "rate.satisfaction": 0.5,
               "issues.rework": 1, "deadline.overdue": 3, "deadline.within_10": 0,
               "claim.1.claimed": 12, "claim.1.computed": 10}
    for kind, members in groups.items():
        for group in members:
            for key, value in group["figures"].items():
                figures[f"{kind}.{group['slug']}.{key}"] = value
    return {"as_of": "2026-11-20", "parameters": {"satisfaction_threshold": 80, "stale_weeks": 8},
            "figures": figures, "groups": groups,
            "funnel": [{"stage": "opinions", "value": 10}, {"stage": "issues", "value": 5},
                       {"stage": "rectified", "value": 1}],
            "series": {"burnup": [{"date": "2026-03-31", "identified": 5, "done": 0},
                                  {"date": "2026-11-20", "identified": 5, "done": 1}],
                       "snapshots": [{"snapshot_id": "2026-11-20-aaaaaaaa", "as_of": "2026-11-20",
                                      "open": 1, "in_progress": 1, "done": 1, "long_term": 1,
                                      "rework": 1}]},
            "lists": {"overdue": ["QH-002", "QH-003", "QH-004"], "rework": ["QH-004"],
                      "stale": [], "due_10": [], "due_20": []},
            "claims": [{"label": NASTY, "metric": "feedback.total", "claimed": 12, "computed": 10,
                        "matches": False, "date": "2026-10-31", "source": "报告"}]}


def make_inputs(config, changes: dict | None = None) -> None:
    """Tables, metrics, a committed and a staged snapshot, as the earlier stages leave them."""
    work = config.work_dir
    published = [c for c in tables.schema.field_names("issues") if c != "owner"]
    tables.write_table(pd.DataFrame(ISSUES), work / "tables" / "issues.csv", "issues", published)
    feedback = pd.DataFrame([{"feedback_id": "F1", "channel": "热线", "replied": True}])
    tables.write_table(feedback, work / "tables" / "feedback.csv", "feedback")
    metrics = make_metrics()
    (work / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False), encoding="utf-8")
    for folder, snapshot_id, previous in (
            (config.snapshots_dir, "2026-10-01-bbbbbbbb", None),
            (work / "stage" / "snapshot", "2026-11-20-aaaaaaaa", "2026-10-01-bbbbbbbb")):
        target = folder / snapshot_id
        target.mkdir(parents=True)
        (target / "issues.csv").write_bytes(tables.table_csv_bytes(pd.DataFrame(ISSUES), "issues"))
        manifest = {"snapshot_id": snapshot_id, "as_of": snapshot_id[:10],
                    "previous": {"snapshot_id": previous, "manifest_sha256": "0" * 64}
                    if previous else None,
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


def test_issue_permalinks_and_unit_lists(rendered):
    config, docs = rendered
    anchor = safepath.anchor("QH-001")
    bucket_page = docs / "pages" / "issues" / safepath.bucket("QH-001") / "index.md"
    assert f'id="{anchor}"' in bucket_page.read_text(encoding="utf-8")
    unit_page = docs / "pages" / "units" / safepath.slug("unit", UNITS[0]) / "index.md"
    text = unit_page.read_text(encoding="utf-8")
    assert f"../../issues/{safepath.bucket('QH-001')}/index.html#{anchor}" in text
    assert "已完成" in text and "未启动" in text
    assert "owner" not in text and "责任人" not in text


def test_nasty_text_is_escaped_in_markdown(rendered):
    config, docs = rendered
    for page in (docs / "pages").rglob("*.md"):
        content = page.read_text(encoding="utf-8")
        assert "<script>" not in content, page
    # Jinja never evaluates data: the template expression in the text arrives as text.
    detail = (docs / "pages" / "issues" / safepath.bucket("QH-003") / "index.md").read_text(
        encoding="utf-8")
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
    detail = (docs / "pages" / "issues" / safepath.bucket("QH-001") / "index.md").read_text(
        encoding="utf-8")
    assert "整改措施" not in detail and "描述1" in detail


def test_changes_page_shows_sections_and_figure_spans(config):
    make_inputs(config, changes={
        "old": {"snapshot_id": "2026-10-01-bbbbbbbb", "as_of": "2026-10-01"},
        "added": [], "removed": [{"issue_id": "QH-999", "title": NASTY, "status": "open"}],
        "status_changes": [{"issue_id": "QH-001", "title": "问题1", "old": "open", "new": "done"}],
        "figure_changes": [{"key": "issues.total", "old": "4", "new": "5", "change": "+1"}]})
    page = (render.run(config) / "pages" / "changes" / "index.md").read_text(encoding="utf-8")
    assert "🔴" in page and "2026&#45;10&#45;01&#45;bbbbbbbb" in page
    assert "| 未启动 | 已完成 |" in page
    assert '<span class="gs-figure" data-figure="issues.total">5</span>' in page
    assert "<script>" not in page and "首次发布" not in page


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")


def test_every_language_has_every_word():
    words = yaml.safe_load((render.TEMPLATES / "text.yml").read_text(encoding="utf-8"))
    assert set(words) == set(figures.LANGUAGES)
    for language in figures.LANGUAGES:
        assert set(words[language]) == set(words["zh"]), language
        assert set(words[language]["change_columns"]) == set(words["zh"]["change_columns"])
        assert (render.CONTENT / language / "about.md").is_file()
        assert (render.CONTENT / language / "search.md").is_file()
    for key, value in words["en"].items():
        assert not CJK.search(str(value)), key


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
        "figure_changes": [{"key": "issues.total", "old": "4", "new": "5", "change": "+1"}]})
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
    assert "| Not started | Completed |" in changes
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

"""Charts: offline SVG, same data gives the same bytes, data text stays text, rows match the bars."""

from __future__ import annotations

import re

from etl import schema
from etl.site import charts

UNITS = [{"name": f"单位{i}", "done": i, "open": 1} for i in range(20)]


def test_funnel_returns_svg_and_rows():
    svg, rows = charts.funnel([{"label": "意见", "value": 10}, {"label": "问题", "value": 5}])
    assert svg.startswith("<svg") and svg.endswith("\n")
    assert rows == [{"label": "意见", "value": 10}, {"label": "问题", "value": 5}]
    assert "PingFang SC" in svg


def test_same_data_same_bytes():
    first = charts.status_by_unit(UNITS, schema.STATUS_LABELS_ZH)[0]
    second = charts.status_by_unit(UNITS, schema.STATUS_LABELS_ZH)[0]
    assert first == second


def test_top_units_only_never_a_summed_other_row():
    units = UNITS + [{"name": "其他", "done": 0, "open": 1, "slug": "u-0000abcd"}]
    _, rows = charts.status_by_unit(units, schema.STATUS_LABELS_ZH, top=15)
    assert len(rows) == 15 and rows[0]["name"] == "单位19" and rows[-1]["name"] == "单位5"
    assert rows[0] == {"name": "单位19", "done": 19, "in_progress": 0, "long_term": 0,
                       "rework": 0, "open": 1}
    # A real unit called 其他 is a unit like any other: plotted with its own counts or not at all.
    _, rows = charts.status_by_unit(units, schema.STATUS_LABELS_ZH, top=30)
    assert [r for r in rows if r["name"] == "其他"] == [{"name": "其他", "done": 0, "open": 1,
                                                         "in_progress": 0, "long_term": 0,
                                                         "rework": 0, "slug": "u-0000abcd"}]


TICK_LABEL = re.compile(r">([0-9.,]+)</text>")


def test_count_axes_tick_whole_numbers_only():
    labels = schema.STATUS_LABELS_ZH
    for top in (0, 1, 2, 3, 7, 9, 10, 35):
        svgs = [charts.funnel([{"label": "a", "value": 1}, {"label": "b", "value": top}])[0],
                charts.burnup([{"date": "2026-01-31", "identified": top, "done": 1}])[0],
                charts.history([{"as_of": "2026-11-20", "done": top}], labels)[0],
                charts.status_by_unit([{"name": "a", "done": top}], labels)[0],
                charts.bars([{"label": "a", "value": top}])[0]]
        for svg in svgs:
            ticks = TICK_LABEL.findall(svg)
            assert ticks and not [t for t in ticks if "." in t], (top, ticks)


def test_source_text_is_escaped_in_svg():
    nasty = [{"name": "<script>alert(1)</script>&", "done": 1}]
    svg, _ = charts.status_by_unit(nasty, schema.STATUS_LABELS_ZH)
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_burnup_and_history_do_not_depend_on_local_time_zone(monkeypatch):
    points = [{"date": "2026-01-31", "identified": 3, "done": 1},
              {"date": "2026-02-28", "identified": 5, "done": 2}]
    first, rows = charts.burnup(points)
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    assert charts.burnup(points)[0] == first
    assert rows[1] == {"date": "2026-02-28", "identified": 5, "done": 2}
    svg, rows = charts.history([{"as_of": "2026-11-20", "done": 2}], schema.STATUS_LABELS_ZH)
    assert "<svg" in svg and rows[0]["done"] == 2 and rows[0]["open"] == 0


def test_no_external_references():
    svg = charts.funnel([{"label": "a", "value": 1}])[0]
    for marker in ("href=\"http", "url(http", "@import"):
        assert marker not in svg


def test_chart_words_by_language():
    assert charts.chart_text() is charts.DEFAULT_TEXT
    assert set(charts.chart_text("en")) == set(charts.chart_text("zh"))
    svg, _ = charts.burnup([{"date": "2026-03-31", "identified": 2, "done": 1}],
                           charts.chart_text("en"))
    assert "Issues identified (cumulative)" in svg and "累计" not in svg
    svg, _ = charts.history([{"as_of": "2026-11-20", "done": 2}], schema.status_labels("en"),
                            charts.chart_text("en"))
    assert "Publication" in svg and "Completed" in svg and "发布" not in svg

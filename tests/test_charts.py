"""Charts: offline SVG, same data gives the same bytes, data text stays text, rows match the bars."""

from __future__ import annotations

from etl import charts, schema

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


def test_top_units_and_the_rest_as_other():
    _, rows = charts.status_by_unit(UNITS, schema.STATUS_LABELS_ZH, top=15)
    assert len(rows) == 16 and rows[0]["name"] == "单位19"
    assert rows[-1] == {"name": "其他", "done": sum(range(5)), "in_progress": 0, "long_term": 0,
                        "rework": 0, "open": 5}


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

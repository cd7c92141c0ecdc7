"""Group page charts: status bars and progress lines as plain SVG, each with its numbers."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ElementTree

from etl.site import group_charts, words

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    return [node.text for node in ElementTree.fromstring(svg).iter(f"{SVG}text")]


def test_status_bars_show_each_status_the_group_has_with_its_count():
    labels = words.status_labels("zh")
    svg, rows = group_charts.status_bars({"done": 12, "open": 3, "rework": 0}, labels, "状态")
    assert rows == [[labels["done"], "12"], [labels["open"], "3"]]
    assert _texts(svg) == [labels["done"], "12", labels["open"], "3"]
    root = ElementTree.fromstring(svg)
    assert root.get("viewBox") == f"0 0 {group_charts.WIDTH} {12 + 2 * group_charts.ROW}"


def test_progress_counts_identified_and_done_at_each_month_end():
    issues = [{"identified_on": dt.date(2026, 1, 5), "status": "done",
               "completed_on": dt.date(2026, 2, 10)},
              {"identified_on": dt.date(2026, 2, 1), "status": "open", "completed_on": None},
              {"identified_on": dt.date(2026, 2, 3), "status": "rework",
               "completed_on": dt.date(2026, 2, 20)}]
    points = group_charts.progress_points(issues, dt.date(2026, 3, 15))
    assert points == [{"date": "2026-01-31", "identified": 1, "done": 0},
                      {"date": "2026-02-28", "identified": 3, "done": 1},
                      {"date": "2026-03-15", "identified": 3, "done": 1}]
    svg, rows = group_charts.progress_lines(points, words.chart_text("zh"), "进度")
    assert rows[1] == ["2026-02-28", "3", "1"]
    assert {"2026-01", "2026-03", "3", "0"} <= set(_texts(svg))
    assert group_charts.progress_points([], dt.date(2026, 3, 15)) == []


def test_labels_are_escaped():
    svg, _ = group_charts.status_bars({"done": 1}, {"done": "<b>&"}, "<title>")
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg and "&lt;title&gt;" in svg

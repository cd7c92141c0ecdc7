"""Small SVG charts for every unit, area and category page: issues by status, and progress over
time (cumulative identified and done at each month end).

Written as plain SVG text rather than through Altair and vl-convert: a site has a hundred or
more group pages, and a Vega render costs about 80 ms a chart, this a fraction of one. Every
label is placed inside the viewBox with room for the widest text it could be (a CJK character
counted a full em), and tests/test_browser.py checks that in a browser.
"""

from __future__ import annotations

import calendar
import datetime as dt
from xml.sax.saxutils import escape

from etl.site.charts import STATUS_COLORS, STATUS_ORDER

WIDTH = 340
FONT = 12
ROW = 22
FONT_FAMILY = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"
SERIES_COLORS = ("#1565c0", "#2e7d32")


def text_width(text: str, size: int = FONT) -> float:
    """A generous estimate of a label's width: a full em for wide characters, .62 for others."""
    return sum(size if ord(c) > 0x2E7F else size * 0.62 for c in str(text))


def _svg(height: float, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="{WIDTH}" height="{height:.0f}" role="img" font-family="{FONT_FAMILY}" '
            f'font-size="{FONT}"><title>{escape(title)}</title>'
            + "".join(body) + "</svg>\n")


def status_bars(counts: dict[str, int], labels: dict[str, str], title: str) -> tuple[str, list]:
    """One bar per status the group has, in STATUS_ORDER; returns the SVG and its [label, n] rows."""
    rows = [(status, labels.get(status, status), int(counts.get(status) or 0))
            for status in STATUS_ORDER if counts.get(status)]
    label_room = max([text_width(label) for _, label, _ in rows], default=0) + 8
    number_room = max([text_width(f"{n:,}") for *_, n in rows], default=0) + 6
    plot = max(WIDTH - label_room - number_room - 4, 40)
    top = max([n for *_, n in rows], default=0) or 1
    body = []
    for index, (status, label, count) in enumerate(rows):
        y = 6 + index * ROW
        length = plot * count / top
        body.append(f'<text x="{label_room - 6:.1f}" y="{y + 14}" text-anchor="end" '
                    f'fill="#1d1d1d">{escape(label)}</text>')
        body.append(f'<rect x="{label_room:.1f}" y="{y + 3}" width="{length:.1f}" height="15" '
                    f'fill="{STATUS_COLORS.get(status, "#616161")}"/>')
        body.append(f'<text x="{label_room + length + 4:.1f}" y="{y + 14}" '
                    f'fill="#1d1d1d">{count:,}</text>')
    return _svg(12 + len(rows) * ROW, body, title), [[label, f"{n:,}"] for _, label, n in rows]


def progress_points(issues: list[dict], as_of: dt.date) -> list[dict]:
    """Cumulative identified and done issues at each month end, the last point as_of."""
    identified = sorted(i["identified_on"] for i in issues if i.get("identified_on"))
    done = sorted(i["completed_on"] for i in issues
                  if i.get("status") == "done" and i.get("completed_on"))
    if not identified or identified[0] > as_of:
        return []
    points, (year, month) = [], (identified[0].year, identified[0].month)
    while True:
        point = min(dt.date(year, month, calendar.monthrange(year, month)[1]), as_of)
        points.append({"date": point.isoformat(),
                       "identified": sum(1 for d in identified if d <= point),
                       "done": sum(1 for d in done if d <= point)})
        if point == as_of:
            return points
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def progress_lines(points: list[dict], words: dict[str, str], title: str) -> tuple[str, list]:
    """Step lines of cumulative identified and done; returns the SVG and its table rows."""
    top = max([p["identified"] for p in points] + [p["done"] for p in points] + [1])
    left = text_width(f"{top:,}") + 10
    legend_y, plot_top, plot_bottom = 16, 30, 170
    right = WIDTH - 8
    span = max(len(points) - 1, 1)

    def x(index: int) -> float:
        return left + (right - left) * index / span

    def y(value: int) -> float:
        return plot_bottom - (plot_bottom - plot_top) * value / top

    body = [f'<line x1="{left:.1f}" y1="{plot_bottom}" x2="{right}" y2="{plot_bottom}" stroke="#757575"/>',
            f'<line x1="{left:.1f}" y1="{plot_top}" x2="{left:.1f}" y2="{plot_bottom}" stroke="#757575"/>',
            f'<text x="{left - 4:.1f}" y="{plot_top + 4}" text-anchor="end" fill="#1d1d1d">{top:,}</text>',
            f'<text x="{left - 4:.1f}" y="{plot_bottom + 4}" text-anchor="end" fill="#1d1d1d">0</text>']
    legend_x = 4.0
    for series, color in zip(("identified", "done"), SERIES_COLORS):
        if points:  # step-after: a count holds until the next month end
            path = f"M{x(0):.1f} {y(points[0][series]):.1f}" + "".join(
                f" H{x(index):.1f} V{y(point[series]):.1f}"
                for index, point in enumerate(points) if index)
            body.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        body.append(f'<rect x="{legend_x:.1f}" y="{legend_y - 6}" width="12" height="4" fill="{color}"/>')
        body.append(f'<text x="{legend_x + 16:.1f}" y="{legend_y}" fill="#1d1d1d">'
                    f'{escape(words[series])}</text>')
        legend_x += 16 + text_width(words[series]) + 14
    if points:
        first, last = points[0]["date"][:7], points[-1]["date"][:7]
        body.append(f'<text x="{left:.1f}" y="{plot_bottom + 18}" fill="#1d1d1d">{first}</text>')
        if last != first:
            body.append(f'<text x="{right}" y="{plot_bottom + 18}" text-anchor="end" '
                        f'fill="#1d1d1d">{last}</text>')
    rows = [[p["date"], f"{p['identified']:,}", f"{p['done']:,}"] for p in points]
    return _svg(plot_bottom + 26, body, title), rows

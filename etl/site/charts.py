"""Static SVG charts (Altair specs rendered offline by vl-convert), each with the numbers it plots."""

from __future__ import annotations

import functools
import html
import json
import math
import re

import altair as alt
import pandas as pd
import vl_convert

from etl.errors import BuildError
from etl.site import fonts
from etl.site import words

# Layout measures every string with the pinned font (fonts.FONT_FAMILY, first in the stack);
# readers' browsers draw the text with the first family of the stack they have.
FONT = fonts.FONT_STACK
# Every chart is this wide in SVG units and scales to its container: at 1:1 or larger on a
# 390 px phone (358 px of content between the theme's margins), so 12-unit text is >= 12 px.
WIDTH = 340
FONT_SIZE = 12
LINE_HEIGHT = 15
# Category labels wrap onto at most two lines this wide (8 CJK characters each), then end in
# "…" with the full text in a <title>: a 16-character unit name still reads whole.
LABEL_WIDTH = 8 * FONT_SIZE
LABEL_LINES = 2
ELLIPSIS = "…"
STATUS_ORDER = ("done", "in_progress", "long_term", "rework", "open",
                "explained", "not_adopted", "merged", "transferred")
# The closures that are not fixes take muted browns and purples, far from done's green.
STATUS_COLORS = {
    "done": "#2e7d32", "in_progress": "#1565c0", "long_term": "#00838f",
    "rework": "#c62828", "open": "#9e9e9e", "explained": "#8d6e63", "not_adopted": "#6d4c41",
    "merged": "#7e57c2", "transferred": "#ad1457",
}
DEFAULT_TEXT = words.chart_text("zh")
# Every text part names the font and size outright, and titles are not bold: the pinned font
# has one weight, and layout must measure what the reader is shown.
_TEXT_STYLE = {"font": FONT, "fontSize": FONT_SIZE}
CONFIG = {
    "font": FONT,
    "autosize": {"type": "fit-x", "contains": "padding"},
    "axis": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": FONT_SIZE,
             "titleFontSize": FONT_SIZE, "titleFontWeight": "normal",
             "labelLineHeight": LINE_HEIGHT},
    "legend": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": FONT_SIZE,
               "titleFontSize": FONT_SIZE, "titleFontWeight": "normal", "orient": "bottom"},
    "title": {"font": FONT, "fontSize": FONT_SIZE, "subtitleFont": FONT, "fontWeight": "normal"},
    "header": {"labelFont": FONT, "titleFont": FONT},
    "text": _TEXT_STYLE,
    "mark": {"font": FONT},
    "view": {"stroke": None},
}

# Chinese reads badly turned on its side: the vertical axis title sits upright above the axis.
UPRIGHT_TITLE = {"titleAngle": 0, "titleAlign": "left", "titleBaseline": "bottom", "titleX": -30,
                 "titleY": -8}
# Below this maximum a count axis gets its ticks listed (see count_axis).
SMALL_COUNT = 10
_SVG_ROOT = re.compile(r'^<svg([^>]*?) width="[\d.]+" height="[\d.]+" (viewBox="[^"]*")')
_LATIN = re.compile(r"[A-Za-z0-9]")
# A line may break before any character but inside a run of Latin letters and digits.
_BREAKABLE = re.compile(r"[A-Za-z0-9]+[^\sA-Za-z0-9\u2e80-\u9fff\uf900-\ufaff]*|\s+|.")


def count_axis(maximum: float, **options) -> alt.Axis:
    """An axis of counts with whole-number ticks only: no "0.5 issues".

    Vega's tickMinStep only caps the number of ticks, and d3 then still steps by 0.5 on a
    0..2 domain, so small ranges get their tick values listed outright.
    """
    if maximum < SMALL_COUNT:
        top = max(1, math.ceil(maximum))
        step = 1 if top <= 6 else 2
        return alt.Axis(values=list(range(0, top + 1, step)), format="d", tickMinStep=1, **options)
    return alt.Axis(tickMinStep=1, **options)


chart_text = words.chart_text  # the words charts print, from templates/text.yml


def _greedy(text: str, width: float, size: float) -> list[str]:
    lines = [""]
    for token in _BREAKABLE.findall(text):
        if fonts.text_width(lines[-1] + token, size) <= width or not lines[-1].strip():
            lines[-1] = lines[-1] + token if lines[-1].strip() else token.lstrip()
        elif not token.isspace():
            lines.append(token)
    # A single Latin word wider than the line is cut between letters.
    cut = []
    for line in lines:
        while fonts.text_width(line, size) > width and len(line) > 1:
            keep = len(line) - 1
            while keep > 1 and fonts.text_width(line[:keep], size) > width:
                keep -= 1
            cut.append(line[:keep])
            line = line[keep:]
        cut.append(line)
    return [line.rstrip() for line in cut if line.strip()] or [""]


def wrap(text: str, width: float = LABEL_WIDTH, size: float = FONT_SIZE,
         max_lines: int = LABEL_LINES) -> list[str]:
    """The lines a label is shown on: balanced, none wider than `width` in the pinned font.

    Past `max_lines` the last line ends in "…" (the caller keeps the full text for a <title>).
    """
    lines = _greedy(text, width, size)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        for line in lines[max_lines:]:
            last += " " + line if _LATIN.match(line) and _LATIN.search(last[-1]) else line
        while last and fonts.text_width(last + ELLIPSIS, size) > width:
            last = last[:-1]
        return lines[:max_lines - 1] + [last.rstrip() + ELLIPSIS]
    # Balance the lines: the narrowest width that needs no more lines (清河县家集/镇人民政府).
    narrowest = width
    while len(lines) > 1 and narrowest > size:
        tighter = _greedy(text, narrowest - 1, size)
        if len(tighter) > len(lines):
            break
        narrowest -= 1
    return _greedy(text, narrowest, size)


def label_axis(labels: list[str], **options) -> tuple[alt.Axis, dict[str, str]]:
    """An axis of category labels wrapped by `wrap`, and {shown text: full text} for each cut one.

    The wrapped lines go into labelExpr as a JSON object literal (quoted and escaped, so a label
    is only ever data); Vega draws an array as lines.
    """
    lines = {label: wrap(label) for label in labels}
    shown = {label: parts for label, parts in lines.items() if parts != [label]}
    cut = {"\n".join(parts): label for label, parts in shown.items()
           if "".join(parts).replace(" ", "") != label.replace(" ", "")}
    expression = f"{json.dumps(shown)}[datum.value] || datum.label" if shown \
        else None
    axis = alt.Axis(labelExpr=expression, labelLimit=0, **options) if expression \
        else alt.Axis(labelLimit=0, **options)
    return axis, cut


def label_rows(labels: list[str]) -> int:
    """The most lines any of these labels takes: sets the height of a row of bars."""
    return max([len(wrap(label)) for label in labels], default=1)


def legend(labels: list[str], room: float) -> alt.Legend:
    """A legend below the plot in as many columns as fit in `room` (the plot's width and right).

    Vega sets a bottom legend at the plot's left edge, not the chart's: room leaves out the
    axis labels to its left. An entry is a 10-unit symbol, 4 of gap, its label and 10 of padding.
    """
    widest = max([fonts.text_width(label, FONT_SIZE) for label in labels], default=0)
    columns = max(1, min(len(labels), int(room // (widest + 24))))
    return alt.Legend(columns=columns, symbolType="square", symbolSize=100, labelOffset=4,
                      columnPadding=10, labelLimit=max(0, room - 24))


def _label_room(labels: list[str]) -> float:
    """The width left of the plot: the widest label line, its tick and padding."""
    widest = max([fonts.text_width(line, FONT_SIZE) for label in labels for line in wrap(label)],
                 default=0)
    return WIDTH - widest - 16


@functools.cache
def _register_font() -> None:
    # Once a process: vl-convert keeps one font database, to which this adds the pinned font.
    vl_convert.register_font_directory(str(fonts.layout_font_directory()))


def to_svg(chart: alt.TopLevelMixin, cut: dict[str, str] | None = None) -> str:
    """Render offline: no base URL is allowed, so a spec can never make vl-convert fetch anything.

    cut: {shown lines joined by newlines: full text} for labels shortened with "…".
    """
    spec = chart.to_dict()
    spec.pop("$schema", None)
    _register_font()
    try:
        svg = vl_convert.vegalite_to_svg(spec, config=CONFIG, allowed_base_urls=[])
    except Exception as error:  # vl-convert raises plain ValueError with the JavaScript message
        raise BuildError(f"chart rendering failed: {error}",
                         hint="report this with the metrics.json that produced it") from error
    return _add_titles(_normalise(svg), cut or {})


def _normalise(svg: str) -> str:
    # Vega numbers clip paths and gradients per process; renumber from zero so bytes are stable.
    ids: dict[str, str] = {}

    def rename(match: re.Match) -> str:
        old = match.group(1)
        ids.setdefault(old, f"gs{len(ids)}")
        return ids[old]

    svg = re.sub(r'id="((?:clip|gradient|pattern)\d+)"', lambda m: f'id="{rename(m)}"', svg)
    for old, new in ids.items():
        svg = svg.replace(f"url(#{old})", f"url(#{new})")
    # Fit the container: the viewBox keeps the proportions, CSS caps how large it grows.
    svg, found = _SVG_ROOT.subn(r'<svg\1 width="100%" \2', svg, count=1)
    if not found:
        raise BuildError("chart rendering gave an SVG without width, height and viewBox",
                         hint="report this with the vl-convert version in requirements.txt")
    return svg if svg.endswith("\n") else svg + "\n"


def _add_titles(svg: str, cut: dict[str, str]) -> str:
    """Give each label shortened with "…" its full text as a <title> (a tooltip, read aloud)."""
    for shown, full in cut.items():
        first, *rest = [html.escape(line, quote=False) for line in shown.split("\n")]
        inner = re.escape(first) if not rest else (
            f"<tspan>{re.escape(first)}</tspan>"
            + "".join(f'<tspan x="0" dy="[^"]*">{re.escape(line)}</tspan>' for line in rest))
        title = f"<title>{html.escape(full, quote=False)}</title></text>"
        svg = re.sub(f"(<text [^>]*>{inner})</text>", lambda m, end=title: m.group(1) + end, svg)
    return svg


def _total(row: dict) -> int:
    """Issues in a row of status counts: the length of its stacked bar."""
    return sum(row.get(status) or 0 for status in STATUS_ORDER)


def _row_step(labels: list[str]) -> int:
    """Height of one bar's row: room for its label's lines and a gap."""
    return max(22, LINE_HEIGHT * label_rows(labels) + 4)


def funnel(stages: list[dict], text: dict | None = None) -> tuple[str, list[dict]]:
    """Horizontal bars, one per stage in the given order: [{"label", "value"}]."""
    words = {**DEFAULT_TEXT, **(text or {})}
    rows = [{"label": s["label"], "value": s["value"] or 0} for s in stages]
    frame = pd.DataFrame(rows, columns=["label", "value"])
    order = [r["label"] for r in rows]
    axis, cut = label_axis(order)
    bars = alt.Chart(frame).mark_bar(color="#1565c0").encode(
        x=alt.X("value:Q", title=words["count"],
                axis=count_axis(max([r["value"] for r in rows], default=0))),
        y=alt.Y("label:N", sort=order, title=None, axis=axis),
    )
    labels = bars.mark_text(align="left", dx=3, color="#222", **_TEXT_STYLE).encode(
        text=alt.Text("value:Q", format=","))
    chart = (bars + labels).properties(width=WIDTH, height=(_row_step(order) + 8) * max(len(rows), 1))
    return to_svg(chart, cut), rows


def burnup(points: list[dict], text: dict | None = None) -> tuple[str, list[dict]]:
    """Cumulative identified and done over time: [{"date", "identified", "done"}]."""
    words = {**DEFAULT_TEXT, **(text or {})}
    rows = [{"date": str(p["date"]), "identified": p.get("identified") or 0,
             "done": p.get("done") or 0} for p in points]
    long = [{"date": r["date"], "series": words[name], "value": r[name]}
            for r in rows for name in ("identified", "done")]
    frame = pd.DataFrame(long, columns=["date", "series", "value"])
    series = [words["identified"], words["done"]]
    chart = alt.Chart(frame).mark_line(interpolate="step-after").encode(
        # UTC scale: the chart must not depend on the time zone of the machine that builds it.
        x=alt.X("date:T", title=None, scale=alt.Scale(type="utc"),
                axis=alt.Axis(format="%Y-%m", labelAngle=0, tickCount=4, labelOverlap=True)),
        y=alt.Y("value:Q", title=words["count"],
                axis=count_axis(max([r["value"] for r in long], default=0), **UPRIGHT_TITLE)),
        color=alt.Color("series:N", title=None, legend=legend(series, WIDTH - 50),
                        scale=alt.Scale(domain=series, range=["#1565c0", "#2e7d32"])),
    ).properties(width=WIDTH, height=200)
    return to_svg(chart), rows


def status_by_unit(units: list[dict], labels: dict[str, str], top: int = 15,
                   text: dict | None = None) -> tuple[str, list[dict]]:
    """Stacked bars of issue status for the `top` largest units; rows are the units plotted.

    units: [{"name", "<status>": count, ...}], other keys (a slug) kept in the rows;
    labels: status -> display word. The rest are left out, not summed into an "other" bar:
    summed over dozens of units it would dwarf every real unit, and a real unit may be called
    其他. The page says how many are left out and links to the table of every unit.
    """
    words = {**DEFAULT_TEXT, **(text or {})}
    ranked = sorted(units, key=lambda u: (-_total(u), u["name"]))
    plotted = [{**u, **{s: u.get(s) or 0 for s in STATUS_ORDER}} for u in ranked[:top]]
    long = [{"name": r["name"], "status": labels.get(s, s), "rank": i, "value": r[s]}
            for r in plotted for i, s in enumerate(STATUS_ORDER) if r[s]]
    frame = pd.DataFrame(long, columns=["name", "status", "rank", "value"])
    names = [r["name"] for r in plotted]
    axis, cut = label_axis(names)
    statuses = [labels.get(s, s) for s in STATUS_ORDER]
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("value:Q", title=words["count"], stack="zero",
                axis=count_axis(max([_total(r) for r in plotted], default=0))),
        y=alt.Y("name:N", title=None, sort=names, axis=axis),
        color=alt.Color("status:N", title=None, legend=legend(statuses, _label_room(names)),
                        scale=alt.Scale(domain=statuses,
                                        range=[STATUS_COLORS[s] for s in STATUS_ORDER])),
        order=alt.Order("rank:Q"),
    ).properties(width=WIDTH, height=_row_step(names) * max(len(plotted), 1))
    return to_svg(chart, cut), plotted


def history(snapshots: list[dict], labels: dict[str, str],
            text: dict | None = None) -> tuple[str, list[dict]]:
    """Issues by status at each published snapshot, oldest first: [{"as_of", "<status>": n}]."""
    words = {**DEFAULT_TEXT, **(text or {})}
    rows = [{"as_of": str(s.get("as_of", "")), "snapshot_id": s.get("snapshot_id") or "",
             **{status: s.get(status) or 0 for status in STATUS_ORDER}} for s in snapshots]
    # Two publishes on one day must stay two bars, not one summed bar: number repeated dates.
    seen: dict[str, int] = {}
    for row in rows:
        seen[row["as_of"]] = seen.get(row["as_of"], 0) + 1
        row["label"] = row["as_of"] + (f" ({seen[row['as_of']]})" if seen[row["as_of"]] > 1 else "")
    long = [{"as_of": r["label"], "status": labels.get(s, s), "rank": i, "value": r[s]}
            for r in rows for i, s in enumerate(STATUS_ORDER)]
    frame = pd.DataFrame(long, columns=["as_of", "status", "rank", "value"])
    statuses = [labels.get(s, s) for s in STATUS_ORDER]
    chart = alt.Chart(frame).mark_bar().encode(
        # Ordinal, not temporal: snapshots are discrete publishes, and two may share a date.
        x=alt.X("as_of:O", title=words["snapshot"], sort=[r["label"] for r in rows],
                axis=alt.Axis(labelAngle=-45, labelLimit=0)),
        y=alt.Y("value:Q", title=words["count"], stack="zero",
                axis=count_axis(max([_total(r) for r in rows], default=0), **UPRIGHT_TITLE)),
        # The count axis and its upright title take about 50 units left of the plot.
        color=alt.Color("status:N", title=None, legend=legend(statuses, WIDTH - 50),
                        scale=alt.Scale(domain=statuses,
                                        range=[STATUS_COLORS[s] for s in STATUS_ORDER])),
        order=alt.Order("rank:Q"),
    ).properties(width=WIDTH, height=200)
    return to_svg(chart), rows


def bars(items: list[dict], text: dict | None = None, color: str = "#1565c0") -> tuple[str, list[dict]]:
    """Plain horizontal bars for a small labelled count table: [{"label", "value"}]."""
    words = {**DEFAULT_TEXT, **(text or {})}
    rows = [{"label": i["label"], "value": i["value"] or 0} for i in items]
    frame = pd.DataFrame(rows, columns=["label", "value"])
    order = [r["label"] for r in rows]
    axis, cut = label_axis(order)
    chart = alt.Chart(frame).mark_bar(color=color).encode(
        x=alt.X("value:Q", title=words["count"],
                axis=count_axis(max([r["value"] for r in rows], default=0))),
        y=alt.Y("label:N", sort=order, title=None, axis=axis),
    ).properties(width=WIDTH, height=_row_step(order) * max(len(rows), 1))
    return to_svg(chart, cut), rows

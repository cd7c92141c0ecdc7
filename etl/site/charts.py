"""Static SVG charts (Altair specs rendered offline by vl-convert), each with the numbers it plots."""

from __future__ import annotations

import math
import re

import altair as alt
import pandas as pd
import vl_convert

from etl.errors import BuildError

# SVG text uses the reader's fonts; list the common Chinese system fonts before the generic one.
FONT = "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, Source Han Sans SC, sans-serif"
WIDTH = 320  # fits a 390 px phone screen with the page margins; CSS scales it down further if needed
STATUS_ORDER = ("done", "in_progress", "long_term", "rework", "open")
STATUS_COLORS = {
    "done": "#2e7d32", "in_progress": "#1565c0", "long_term": "#00838f",
    "rework": "#c62828", "open": "#9e9e9e",
}
TEXT = {
    "zh": {
        "count": "数量", "date": "日期", "identified": "累计梳理问题", "done": "累计完成整改",
        "series": "序列", "status": "状态", "unit": "责任单位",
        "snapshot": "发布批次", "stage": "环节",
    },
    "en": {
        "count": "Count", "date": "Date", "identified": "Issues identified (cumulative)",
        "done": "Issues rectified (cumulative)", "series": "Series", "status": "Status",
        "unit": "Responsible unit", "snapshot": "Publication",
        "stage": "Stage",
    },
}
DEFAULT_TEXT = TEXT["zh"]
CONFIG = {
    "font": FONT,
    "axis": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 11, "titleFontSize": 12},
    "legend": {"labelFont": FONT, "titleFont": FONT, "orient": "bottom", "columns": 3},
    "title": {"font": FONT},
    "view": {"stroke": None},
}

# Chinese reads badly turned on its side: the vertical axis title sits upright above the axis.
UPRIGHT_TITLE = {"titleAngle": 0, "titleAlign": "left", "titleBaseline": "bottom", "titleX": -30,
                 "titleY": -8}
# Below this maximum a count axis gets its ticks listed (see count_axis).
SMALL_COUNT = 10


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


def chart_text(language: str = "zh") -> dict[str, str]:
    """The words charts print (axis titles, legend entries), in the site's language."""
    if language not in TEXT:
        raise ValueError(f"language must be one of {', '.join(TEXT)}, not {language!r}")
    return TEXT[language]


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Render offline: no base URL is allowed, so a spec can never make vl-convert fetch anything."""
    spec = chart.to_dict()
    spec.pop("$schema", None)
    try:
        svg = vl_convert.vegalite_to_svg(spec, config=CONFIG, allowed_base_urls=[])
    except Exception as error:  # vl-convert raises plain ValueError with the JavaScript message
        raise BuildError(f"chart rendering failed: {error}",
                         hint="report this with the metrics.json that produced it") from error
    return _normalise(svg)


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
    return svg if svg.endswith("\n") else svg + "\n"


def _total(row: dict) -> int:
    """Issues in a row of status counts: the length of its stacked bar."""
    return sum(row.get(status) or 0 for status in STATUS_ORDER)


def funnel(stages: list[dict], text: dict | None = None) -> tuple[str, list[dict]]:
    """Horizontal bars, one per stage in the given order: [{"label", "value"}]."""
    words = {**DEFAULT_TEXT, **(text or {})}
    rows = [{"label": s["label"], "value": s["value"] or 0} for s in stages]
    frame = pd.DataFrame(rows, columns=["label", "value"])
    order = [r["label"] for r in rows]
    bars = alt.Chart(frame).mark_bar(color="#1565c0").encode(
        x=alt.X("value:Q", title=words["count"],
                axis=count_axis(max([r["value"] for r in rows], default=0))),
        y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=120)),
    )
    labels = bars.mark_text(align="left", dx=3, color="#222", font=FONT).encode(
        text=alt.Text("value:Q", format=","))
    chart = (bars + labels).properties(width=WIDTH - 80, height=36 * max(len(rows), 1))
    return to_svg(chart), rows


def burnup(points: list[dict], text: dict | None = None) -> tuple[str, list[dict]]:
    """Cumulative identified and done over time: [{"date", "identified", "done"}]."""
    words = {**DEFAULT_TEXT, **(text or {})}
    rows = [{"date": str(p["date"]), "identified": p.get("identified") or 0,
             "done": p.get("done") or 0} for p in points]
    long = [{"date": r["date"], "series": words[name], "value": r[name]}
            for r in rows for name in ("identified", "done")]
    frame = pd.DataFrame(long, columns=["date", "series", "value"])
    chart = alt.Chart(frame).mark_line(interpolate="step-after").encode(
        # UTC scale: the chart must not depend on the time zone of the machine that builds it.
        x=alt.X("date:T", title=None, scale=alt.Scale(type="utc"),
                axis=alt.Axis(format="%Y-%m", labelAngle=0, tickCount=4)),
        y=alt.Y("value:Q", title=words["count"],
                axis=count_axis(max([r["value"] for r in long], default=0), **UPRIGHT_TITLE)),
        color=alt.Color("series:N", title=None,
                        scale=alt.Scale(domain=[words["identified"], words["done"]],
                                        range=["#1565c0", "#2e7d32"])),
    ).properties(width=WIDTH - 60, height=200)
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
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("value:Q", title=words["count"], stack="zero",
                axis=count_axis(max([_total(r) for r in plotted], default=0))),
        y=alt.Y("name:N", title=None, sort=[r["name"] for r in plotted],
                axis=alt.Axis(labelLimit=110)),
        color=alt.Color("status:N", title=None,
                        scale=alt.Scale(domain=[labels.get(s, s) for s in STATUS_ORDER],
                                        range=[STATUS_COLORS[s] for s in STATUS_ORDER])),
        order=alt.Order("rank:Q"),
    ).properties(width=WIDTH - 130, height=20 * max(len(plotted), 1))
    return to_svg(chart), plotted


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
    chart = alt.Chart(frame).mark_bar().encode(
        # Ordinal, not temporal: snapshots are discrete publishes, and two may share a date.
        x=alt.X("as_of:O", title=words["snapshot"], sort=[r["label"] for r in rows],
                axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("value:Q", title=words["count"], stack="zero",
                axis=count_axis(max([_total(r) for r in rows], default=0), **UPRIGHT_TITLE)),
        color=alt.Color("status:N", title=None,
                        scale=alt.Scale(domain=[labels.get(s, s) for s in STATUS_ORDER],
                                        range=[STATUS_COLORS[s] for s in STATUS_ORDER])),
        order=alt.Order("rank:Q"),
    ).properties(width=WIDTH - 80, height=200)
    return to_svg(chart), rows


def bars(items: list[dict], text: dict | None = None, color: str = "#1565c0") -> tuple[str, list[dict]]:
    """Plain horizontal bars for a small labelled count table: [{"label", "value"}]."""
    words = {**DEFAULT_TEXT, **(text or {})}
    rows = [{"label": i["label"], "value": i["value"] or 0} for i in items]
    frame = pd.DataFrame(rows, columns=["label", "value"])
    chart = alt.Chart(frame).mark_bar(color=color).encode(
        x=alt.X("value:Q", title=words["count"],
                axis=count_axis(max([r["value"] for r in rows], default=0))),
        y=alt.Y("label:N", sort=[r["label"] for r in rows], title=None,
                axis=alt.Axis(labelLimit=120)),
    ).properties(width=WIDTH - 110, height=22 * max(len(rows), 1))
    return to_svg(chart), rows

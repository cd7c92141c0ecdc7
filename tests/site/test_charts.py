"""Charts: offline SVG, same data gives the same bytes, data text stays text, rows match the bars."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from etl import schema
from etl.errors import BuildError
from etl.site import charts, fonts
from etl.site import words

ROOT = Path(__file__).resolve().parents[2]
UNITS = [{"name": f"单位{i}", "done": i, "open": 1} for i in range(20)]


def test_funnel_returns_svg_and_rows():
    svg, rows = charts.funnel([{"label": "意见", "value": 10}, {"label": "问题", "value": 5}])
    assert svg.startswith("<svg") and svg.endswith("\n")
    assert rows == [{"label": "意见", "value": 10}, {"label": "问题", "value": 5}]
    assert "PingFang SC" in svg


def test_same_data_same_bytes():
    first = charts.status_by_unit(UNITS, words.status_labels("zh"))[0]
    second = charts.status_by_unit(UNITS, words.status_labels("zh"))[0]
    assert first == second


def test_top_units_only_never_a_summed_other_row():
    units = UNITS + [{"name": "其他", "done": 0, "open": 1, "slug": "u-0000abcd"}]
    _, rows = charts.status_by_unit(units, words.status_labels("zh"), top=15)
    assert len(rows) == 15 and rows[0]["name"] == "单位19" and rows[-1]["name"] == "单位5"
    closures = {"explained": 0, "not_adopted": 0, "merged": 0, "transferred": 0}
    assert rows[0] == {"name": "单位19", "done": 19, "in_progress": 0, "long_term": 0,
                       "rework": 0, "open": 1, **closures}
    # A real unit called 其他 is a unit like any other: plotted with its own counts or not at all.
    _, rows = charts.status_by_unit(units, words.status_labels("zh"), top=30)
    assert [r for r in rows if r["name"] == "其他"] == [{"name": "其他", "done": 0, "open": 1,
                                                         "in_progress": 0, "long_term": 0,
                                                         "rework": 0, "slug": "u-0000abcd",
                                                         **closures}]


TICK_LABEL = re.compile(r">([0-9.,]+)</text>")


def test_count_axes_tick_whole_numbers_only():
    labels = words.status_labels("zh")
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
    svg, _ = charts.status_by_unit(nasty, words.status_labels("zh"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_burnup_and_history_do_not_depend_on_local_time_zone(monkeypatch):
    points = [{"date": "2026-01-31", "identified": 3, "done": 1},
              {"date": "2026-02-28", "identified": 5, "done": 2}]
    first, rows = charts.burnup(points)
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    assert charts.burnup(points)[0] == first
    assert rows[1] == {"date": "2026-02-28", "identified": 5, "done": 2}
    svg, rows = charts.history([{"as_of": "2026-11-20", "done": 2}], words.status_labels("zh"))
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
    svg, _ = charts.history([{"as_of": "2026-11-20", "done": 2}], words.status_labels("en"),
                            charts.chart_text("en"))
    assert "Publication" in svg and "Completed" in svg and "发布" not in svg


# --- The pinned layout font: same bytes on every machine, no text outside the SVG ------------

LONG_UNITS = [{"name": name, "done": 9 - i, "open": 2, "rework": 1} for i, name in enumerate(
    ["清河县家集镇人民政府", "县住房和城乡建设局", "县教育局", "求意见建议",
     "清河县人民政府办公室机关事务服务中心后勤保障科", "Qinghe County Housing and Urban-Rural Bureau"])]
# Every chart in both languages, from data with the long names that clipped before.
RENDER_ALL = """
import hashlib, json, sys
from etl.site import charts, words
units = json.loads(sys.argv[1])
svgs = {}
for language in ("zh", "en"):
    text, labels = charts.chart_text(language), words.status_labels(language)
    svgs[language + "-funnel"] = charts.funnel([{"label": "征求意见建议", "value": 1300},
        {"label": "Issues identified", "value": 600}, {"label": "已整改到位", "value": 372}], text)[0]
    svgs[language + "-burnup"] = charts.burnup([{"date": "2026-04-30", "identified": 105, "done": 2},
        {"date": "2026-11-20", "identified": 600, "done": 372}], text)[0]
    svgs[language + "-units"] = charts.status_by_unit(units, labels, text=text)[0]
    svgs[language + "-history"] = charts.history([{"as_of": "2026-10-31", "done": 350, "open": 40},
        {"as_of": "2026-11-20", "done": 372, "rework": 30}, {"as_of": "2026-11-20", "done": 380}],
        labels, text)[0]
    svgs[language + "-bars"] = charts.bars([{"label": "Due within 10 days", "value": 12},
        {"label": "已逾期", "value": 3}, {"label": "无整改时限", "value": 0}], text)[0]
json.dump(svgs, sys.stdout, ensure_ascii=False)
"""
# vl-convert's own default: the family named in the spec, if some font on the machine has it.
PROBE_UNPINNED = """
import hashlib, vl_convert
spec = {"data": {"values": [{"n": "清河县家集镇人民政府 Bureau", "v": 3}]}, "mark": "bar",
        "encoding": {"y": {"field": "n", "type": "nominal"}, "x": {"field": "v", "type": "quantitative"}},
        "config": {"font": "Noto Sans SC, PingFang SC, sans-serif"}}
print(hashlib.sha256(vl_convert.vegalite_to_svg(spec).encode()).hexdigest())
"""


def _fontconfig(tmp_path: Path, name: str, font_dir: Path) -> dict[str, str]:
    """An environment whose only system fonts are those in font_dir (fontconfig and fontdb)."""
    config = tmp_path / f"{name}.conf"
    config.write_text(f'<?xml version="1.0"?>\n<fontconfig><dir>{font_dir}</dir>'
                      f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n", encoding="utf-8")
    return {**os.environ, "FONTCONFIG_FILE": str(config)}


def _impostor_fonts(folder: Path) -> Path:
    """System fonts a machine might have under the stack's names, with different metrics."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    folder.mkdir()
    text = "".join(u["name"] for u in LONG_UNITS) + "征求意见建议已整改到位逾期无时限数量累计梳理问题完成" \
        + "".join(chr(c) for c in range(32, 127))
    for family in ("Noto Sans SC", "PingFang SC", "Microsoft YaHei"):
        font = TTFont(str(fonts.chart_font_path()))
        options = subset.Options()
        options.name_IDs = ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        for record in font["name"].names:
            if record.nameID in (1, 4, 16):
                record.string = family
            elif record.nameID == 6:
                record.string = family.replace(" ", "") + "-Regular"
        metrics = font["hmtx"].metrics
        for glyph, (advance, bearing) in list(metrics.items()):
            metrics[glyph] = (advance * 3 // 2, bearing)  # half as wide again: layout must not care
        font.save(str(folder / (family.replace(" ", "") + ".otf")))
    return folder


def _run(code: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, dict[str, str]]:
    """Every chart rendered in three font environments, each in a fresh process."""
    tmp_path = tmp_path_factory.mktemp("fonts")
    (tmp_path / "none").mkdir()
    environments = {"no system fonts": _fontconfig(tmp_path, "none", tmp_path / "none"),
                    "impostor fonts": _fontconfig(tmp_path, "impostors",
                                                  _impostor_fonts(tmp_path / "impostors")),
                    "this machine's fonts": dict(os.environ)}
    units = json.dumps(LONG_UNITS, ensure_ascii=False)
    results = {name: json.loads(_run(RENDER_ALL, env, units)) for name, env in environments.items()}
    # The environments really differ: unpinned, vl-convert lays the same text out differently.
    probes = {_run(PROBE_UNPINNED, env) for env in environments.values()}
    assert len(probes) > 1, "the font environments do not differ; the test would prove nothing"
    return results


def test_same_svg_bytes_whatever_fonts_the_machine_has(rendered):
    reference = rendered["this machine's fonts"]
    assert len(reference) == 10
    for environment, svgs in rendered.items():
        for name, svg in svgs.items():
            assert svg == reference[name], f"{name} differs with {environment}"


def test_pinned_font_is_checked_and_named_first(monkeypatch):
    path = fonts.chart_font_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == fonts.FONT_SHA256
    assert fonts.FONT_STACK.startswith(fonts.FONT_FAMILY + ", ")
    monkeypatch.setattr(fonts, "FONT_SHA256", "0" * 64)
    fonts.chart_font_path.cache_clear()
    try:
        with pytest.raises(BuildError, match="SHA-256 " + fonts._sha256(path)):
            fonts.chart_font_path()
        monkeypatch.setattr(fonts, "FONT_PACKAGE", "no_such_font_package")
        with pytest.raises(BuildError, match="is not installed") as raised:
            fonts.chart_font_path()
        assert "make venv" in raised.value.hint
    finally:
        monkeypatch.undo()
        fonts.chart_font_path.cache_clear()


def _matrix(transform: str) -> list[float]:
    """The affine matrix [a, b, c, d, e, f] of an SVG transform list (translate, rotate, scale)."""
    a, b, c, d, e, f = 1.0, 0.0, 0.0, 1.0, 0.0, 0.0
    for name, arguments in re.findall(r"(\w+)\(([^)]*)\)", transform or ""):
        values = [float(v) for v in re.split(r"[\s,]+", arguments.strip())]
        if name == "translate":
            m = [1, 0, 0, 1, values[0], values[1] if len(values) > 1 else 0]
        elif name == "rotate":
            r = math.radians(values[0])
            m = [math.cos(r), math.sin(r), -math.sin(r), math.cos(r), 0, 0]
        elif name == "scale":
            m = [values[0], 0, 0, values[-1], 0, 0]
        else:
            raise AssertionError(f"transform {name} not handled")
        a, b, c, d, e, f = (a * m[0] + c * m[1], b * m[0] + d * m[1], a * m[2] + c * m[3],
                            b * m[2] + d * m[3], a * m[4] + c * m[5] + e, b * m[4] + d * m[5] + f)
    return [a, b, c, d, e, f]


def _text_boxes(svg: str):
    """(text, font size, corners in SVG units) of every line of every <text>, in the pinned font."""
    root = ElementTree.fromstring(svg)
    tag = "{http://www.w3.org/2000/svg}"

    def walk(element, parent):
        own = _matrix(element.get("transform", ""))
        p = parent
        here = [p[0] * own[0] + p[2] * own[1], p[1] * own[0] + p[3] * own[1],
                p[0] * own[2] + p[2] * own[3], p[1] * own[2] + p[3] * own[3],
                p[0] * own[4] + p[2] * own[5] + p[4], p[1] * own[4] + p[3] * own[5] + p[5]]
        if element.tag == tag + "text":
            size = float(element.get("font-size").removesuffix("px"))
            lines = [span.text or "" for span in element.iter(tag + "tspan")] or [element.text]
            anchor = element.get("text-anchor", "start")
            for index, line in enumerate(lines):
                width = fonts.text_width(line, size)
                left = {"start": 0, "middle": -width / 2, "end": -width}[anchor]
                top = index * charts.LINE_HEIGHT
                corners = [(x, y) for x in (left, left + width)
                           for y in (top - 0.88 * size, top + 0.12 * size)]
                yield line, size, [(here[0] * x + here[2] * y + here[4],
                                    here[1] * x + here[3] * y + here[5]) for x, y in corners]
            return
        for child in element:
            yield from walk(child, here)

    yield from walk(root, [1, 0, 0, 1, 0, 0])


def test_every_text_stays_inside_the_viewbox_at_phone_size(rendered):
    for name, svg in rendered["this machine's fonts"].items():
        root = re.match(r"<svg[^>]*>", svg).group(0)
        assert ' width="100%"' in root and " height=" not in root, (name, root)
        _, _, width, height = (float(v) for v in re.search(r'viewBox="([^"]+)"', root)
                               .group(1).split())
        # 358 px of content on a 390 px phone: drawn 1:1 or larger, 12-unit text is >= 12 px.
        assert width <= 358, (name, width)
        boxes = list(_text_boxes(svg))
        assert len(boxes) > 5, name
        for line, size, corners in boxes:
            assert size * 358 / width >= 12, (name, line, size)
            for x, y in corners:
                assert -0.5 <= x <= width + 0.5 and -0.5 <= y <= height + 0.5, (name, line, x, y)


def test_every_text_names_the_pinned_font_first(rendered):
    for name, svg in rendered["this machine's fonts"].items():
        families = set(re.findall(r'font-family="([^"]*)"', svg))
        assert families == {fonts.FONT_STACK}, (name, families)


def test_long_unit_names_wrap_whole_or_end_in_ellipsis_with_a_title(rendered):
    svg = rendered["this machine's fonts"]["zh-units"]
    assert "<tspan>清河县家集</tspan><tspan" in svg and ">镇人民政府</tspan>" in svg
    assert "<tspan>县住房和城</tspan>" in svg and ">乡建设局</tspan>" in svg
    assert ">县教育局</text>" in svg and ">求意见建议</text>" in svg
    full = "清河县人民政府办公室机关事务服务中心后勤保障科"
    assert f"<title>{full}</title></text>" in svg
    shown = re.search(f"<text [^>]*>((?:(?!</text>).)*)<title>{full}</title>", svg).group(1)
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", shown)
    assert len(lines) == 2 and lines[-1].endswith("…") and full.startswith("".join(lines)[:-1])
    english = rendered["this machine's fonts"]["en-units"]
    assert "<title>Qinghe County Housing and Urban-Rural Bureau</title>" in english
    for parts in (charts.wrap("清河县家集镇人民政府"), charts.wrap("Qinghe County Housing")):
        assert all(fonts.text_width(p, charts.FONT_SIZE) <= charts.LABEL_WIDTH for p in parts)
    assert " ".join(charts.wrap("Qinghe County Housing")) == "Qinghe County Housing"  # whole words


def test_every_status_has_a_colour_a_label_and_a_place_in_the_stack():
    assert set(charts.STATUS_ORDER) == set(schema.STATUSES) == set(charts.STATUS_COLORS)
    for language in ("zh", "en"):
        assert set(words.status_labels(language)) == set(schema.STATUSES)
    units = [{"name": "单位甲", "slug": "u-00000001", "done": 1, "merged": 2, "not_adopted": 1}]
    svg, rows = charts.status_by_unit(units, words.status_labels("zh"))
    assert rows[0]["merged"] == 2 and rows[0]["not_adopted"] == 1
    assert "合并办理" in svg and "不予采纳" in svg

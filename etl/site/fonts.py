"""The one pinned CJK font that lays out chart text (and, later, PDFs), checked by its SHA-256."""

from __future__ import annotations

import atexit
import functools
import hashlib
import importlib.util
import shutil
import tempfile
from pathlib import Path

from etl.errors import BuildError

# Noto Sans SC 2.004 (Adobe/Google, SIL OFL 1.1), Simplified Chinese forms, from the PyPI wheel
# pylopdf-fonts-zh-cn==0.1.1 pinned in requirements.txt: a wheel, so `make venv` installs it on
# any machine and no system font can stand in for it.
FONT_PACKAGE = "pylopdf_fonts_zh_cn"
FONT_DISTRIBUTION = "pylopdf-fonts-zh-cn==0.1.1"
FONT_FILE = "NotoSansSC-Regular.otf"
FONT_SHA256 = "faa6c9df652116dde789d351359f3d7e5d2285a2b2a1f04a2d7244df706d5ea9"
# The family the charts name first and measure with. It is the pinned file under a name of our
# own: a machine may have another "Noto Sans SC" (another version, the variable font), and
# vl-convert then measures with the system copy, not the registered one. No browser has this
# name, so readers' browsers go on down FONT_STACK.
FONT_FAMILY = "Gongshi Sans SC"
# What the reader's browser draws with: the pinned design first, then common Simplified Chinese
# system fonts (macOS, Windows, Linux), then the generic family. Latin names only: an English
# site must carry no Chinese characters of its own.
FONT_STACK = ", ".join([FONT_FAMILY, "Noto Sans SC", "Noto Sans CJK SC", "Source Han Sans SC",
                        "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "sans-serif"])
LAYOUT_FILE = "GongshiSansSC-Regular.otf"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.cache
def chart_font_path() -> Path:
    """The pinned font file, after checking it is there and is byte for byte the pinned one."""
    hint = f"run `make venv` (pip install -r requirements.txt installs {FONT_DISTRIBUTION})"
    spec = importlib.util.find_spec(FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BuildError(f"the chart font package {FONT_DISTRIBUTION} is not installed", hint=hint)
    path = Path(next(iter(spec.submodule_search_locations))) / FONT_FILE
    if not path.is_file():
        raise BuildError(f"the chart font {path} is missing", hint=hint)
    found = _sha256(path)
    if found != FONT_SHA256:
        raise BuildError(f"the chart font {path} has SHA-256 {found}, not the pinned {FONT_SHA256}: "
                         "charts laid out with it would differ from every other build",
                         hint=f"reinstall it: pip install --force-reinstall {FONT_DISTRIBUTION}")
    return path


@functools.cache
def layout_font_directory() -> Path:
    """A directory holding only the pinned font, renamed to FONT_FAMILY, for vl-convert.

    Only the name table changes (every glyph and metric is the pinned file's); the signature
    table goes, since it no longer matches. The copy lives for this process only.
    """
    from fontTools.ttLib import TTFont  # a second's import; only a chart build needs it

    font = TTFont(str(chart_font_path()), recalcTimestamp=False, recalcBBoxes=False)
    names = font["name"]
    names.names = [record for record in names.names if record.nameID not in (1, 2, 3, 4, 6, 16, 17)]
    for name_id, value in ((1, FONT_FAMILY), (2, "Regular"), (3, f"{FONT_FAMILY} Regular"),
                           (4, FONT_FAMILY), (6, LAYOUT_FILE.removesuffix(".otf"))):
        names.setName(value, name_id, 3, 1, 0x409)
    if "DSIG" in font:
        del font["DSIG"]
    directory = Path(tempfile.mkdtemp(prefix="gongshi-font-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    font.save(str(directory / LAYOUT_FILE))
    return directory


@functools.cache
def _advances() -> tuple[dict[int, int], int, int]:
    """Advance widths by code point in font units, the default advance, and units per em."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(chart_font_path()), lazy=True)
    metrics = font["hmtx"].metrics
    widths = {code: metrics[glyph][0] for code, glyph in font.getBestCmap().items()}
    units = font["head"].unitsPerEm
    return widths, units, units


def covers(text: str) -> bool:
    """Whether the pinned font has a glyph for every character (else a system font stands in)."""
    widths = _advances()[0]
    return all(ord(character) in widths for character in text)


def text_width(text: str, size: float) -> float:
    """Width of one line of text set in the pinned font at `size` px (no kerning: CJK has none).

    A character the font lacks counts as one em, the width of a CJK glyph.
    """
    widths, default, units = _advances()
    return sum(widths.get(ord(character), default) for character in text) * size / units

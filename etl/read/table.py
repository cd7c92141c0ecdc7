"""A raw table: header and rows of one sheet or file, before any column mapping."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from etl.read.values import ZERO_WIDTH


@dataclass
class RawTable:
    """Header and data rows of one sheet or file, before any column mapping."""

    source: str            # config source name
    file: str              # display name: file name (not the full path) or URL
    sheet: str             # sheet name, "" for CSV/JSON
    headers: list[str]     # header cells, stripped
    rows: list[tuple[int, list]]  # (1-based row number as Excel shows it, cell values)
    meta: dict = field(default_factory=dict)  # sha256, bytes, format, encoding, sheet
    header_row: int = 0    # 1-based row of the header (0 for JSON, which has none)


def header_key(text) -> str:
    """How headers are compared: NFKC (full/half width alike), no white space, case-folded."""
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text).translate(ZERO_WIDTH))
    return "".join(folded.split()).casefold()

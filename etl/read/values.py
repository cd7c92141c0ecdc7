"""Pure parsers for cell values: dates, numbers, booleans and text as staff type them."""

from __future__ import annotations

import calendar
import datetime as dt
import math
import re

from etl import schema

# Excel counts days from 1899-12-30 (this epoch absorbs its 1900 leap-year bug for every
# serial after 60, i.e. every date after 1900-02-28, which is all we meet).
EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_SERIAL_RANGE = (1, 2958465)  # 1900-01-01 .. 9999-12-31, as Excel allows
# A bare number in text is accepted as a serial only if it lands in this window: "2014" in a
# date column is far more likely a year than 1905-07-06.
PLAUSIBLE_SERIAL_YEARS = (1950, 2100)

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)

# Full-width digits and the few separators that appear in typed dates and numbers.  Applied
# only inside the parsers; normalize_text leaves Chinese punctuation alone on purpose.
_HALF_WIDTH = str.maketrans({
    **{chr(0xFF10 + digit): str(digit) for digit in range(10)},
    "．": ".", "／": "/", "－": "-", "：": ":", "，": ",", "　": " ", "％": "%", "＋": "+",
})

_SEPARATED_DATE = re.compile(
    r"(?P<year>\d{4})\s*(?P<sep>[-/.])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*(?P<day>\d{1,2})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_CHINESE_DATE = re.compile(
    r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号號]?")
# Deadlines are written as "by" a date: 2026年6月30日前, 2026年12月底前, 2026年底前.  The end of a
# month or year is its last day; a bare month (2026年6月) or 上旬/中旬/下旬 stays ambiguous.
_BY_SUFFIX = re.compile(r"\s*(?:之前|以前|前)$")
_MONTH_END = re.compile(r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月\s*[底末]")
_YEAR_END = re.compile(r"(?P<year>\d{4})\s*年\s*[底末]")
_CHINESE_MONTH_ONLY = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月(?:份|底|末|初|中旬|上旬|下旬)?")
_COMPACT_DATE = re.compile(r"(?P<year>(?:19|20|21)\d{2})(?P<month>\d{2})(?P<day>\d{2})")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_GROUPED_NUMBER = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# Units people type after a number in a score or count column; dropped, never converted
# (so "92%" is 92, matching a 0-100 satisfaction score).
_NUMBER_UNITS = ("分", "条", "條", "件", "个", "個", "人", "次", "项", "項", "%")

DATE_HINT = "write it like 2014-06-30, 2014/6/30, 2014.6.30 or 2014年6月30日"


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip(" \t\r\n\u3000\u200b\ufeff")


def normalize_text(value) -> str | None:
    """Text as published: stripped, \\r\\n made \\n, zero-width characters dropped; None if empty.

    No NFKC: it would turn Chinese full-width punctuation (，：（）) into ASCII.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, dt.datetime):
        text = value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    text = text.translate(ZERO_WIDTH).replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def _half_width(text: str) -> str:
    return text.translate(ZERO_WIDTH).translate(_HALF_WIDTH).strip()


def _make_date(year: str, month: str, day: str, original) -> dt.date:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"不存在的日期 {original!r} (no such date; check the month and day)")


def _from_serial(serial: float, original) -> dt.date:
    low, high = EXCEL_SERIAL_RANGE
    if not low <= serial <= high:
        raise ValueError(f"不是日期：{original!r} (not a date: number outside Excel's date range; "
                         f"{DATE_HINT})")
    day = EXCEL_EPOCH + dt.timedelta(days=math.floor(serial))
    first, last = PLAUSIBLE_SERIAL_YEARS
    if not first <= day.year <= last:
        raise ValueError(f"不是日期：{original!r} (not a date: as an Excel serial day it would be "
                         f"{day.isoformat()}, outside {first}-{last}; {DATE_HINT})")
    return day


def parse_date(value) -> dt.date | None:
    """A date from a date object, typed text or an Excel serial number; None if empty.

    Raises ValueError (Chinese and English) for anything else, e.g. 长期坚持 or 2014年6月.
    """
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"不是日期：{value!r} (not a date: a true/false value)")
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"不是日期：{value!r} (not a date)")
        compact = _COMPACT_DATE.fullmatch(str(int(value))) if float(value).is_integer() else None
        if compact and value > EXCEL_SERIAL_RANGE[1]:
            return _make_date(*compact.group("year", "month", "day"), value)
        return _from_serial(value, value)
    if not isinstance(value, str):
        raise ValueError(f"不是日期：{value!r} (not a date: unexpected {type(value).__name__})")

    text = _BY_SUFFIX.sub("", _half_width(value).strip())
    for pattern in (_SEPARATED_DATE, _CHINESE_DATE, _COMPACT_DATE):
        match = pattern.fullmatch(text)
        if match:
            return _make_date(*match.group("year", "month", "day"), value)
    if match := _MONTH_END.fullmatch(text):
        year, month = int(match["year"]), int(match["month"])
        if not 1 <= month <= 12:
            raise ValueError(f"不是日期：{value!r} (month {month} does not exist; {DATE_HINT})")
        return _make_date(str(year), str(month), str(calendar.monthrange(year, month)[1]), value)
    if match := _YEAR_END.fullmatch(text):
        return _make_date(match["year"], "12", "31", value)
    if _CHINESE_MONTH_ONLY.fullmatch(text):
        raise ValueError(f"只有年月，没有日：{value!r} (a month without a day is not a date; "
                         f"give the last day, e.g. 2014年6月30日)")
    if _NUMBER.fullmatch(text):
        return _from_serial(float(text), value)
    raise ValueError(f"不是日期：{value!r} (not a date; {DATE_HINT})")


def parse_number(value) -> float | None:
    """A number from a cell: int/float, or text such as "92", "９２", "92.5", "92分", "1,234".

    None if empty; ValueError for anything else (including true/false and infinities).
    """
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"不是数字：{value!r} (not a number: a true/false value)")
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = _half_width(value)
        for unit in _NUMBER_UNITS:
            if text.endswith(unit):
                text = text[: -len(unit)].strip()
                break
        if _GROUPED_NUMBER.fullmatch(text):
            text = text.replace(",", "")
        if not _NUMBER.fullmatch(text):
            raise ValueError(f"不是数字：{value!r} (not a number; write digits such as 92 or 92.5)")
        number = float(text)
    else:
        raise ValueError(f"不是数字：{value!r} (not a number: unexpected {type(value).__name__})")
    if not math.isfinite(number):
        raise ValueError(f"不是数字：{value!r} (not a finite number)")
    return number


def parse_int(value) -> int | None:
    """A whole number (see parse_number); ValueError if it has a fraction."""
    number = parse_number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError(f"不是整数：{value!r} (not a whole number)")
    return int(number)


def parse_bool(value, words: dict[str, bool] | None = None) -> bool | None:
    """True/False from a yes/no word (schema.BOOLEAN_WORDS by default); None if empty."""
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    vocabulary = schema.BOOLEAN_WORDS if words is None else words
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    key = _half_width(str(value)).casefold()
    lookup = {str(word).strip().casefold(): flag for word, flag in vocabulary.items()}
    if key in lookup:
        return lookup[key]
    known = "、".join(sorted({str(word) for word in vocabulary})[:8])
    raise ValueError(f"不是是/否：{value!r} (not a yes/no value; use one of {known})")

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
# Dates written without a year (6月底, 6月30日, 6月), read only with dates.default_year, and a
# month alone (2026年6月), read as its last day only then too.
_NO_YEAR_DATE = re.compile(r"(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号號]?")
_NO_YEAR_MONTH_END = re.compile(r"(?P<month>\d{1,2})\s*月\s*[底末]")
_MONTH_ALONE = re.compile(r"(?:(?P<year>\d{4})\s*年\s*)?(?P<month>\d{1,2})\s*月份?")
# 03/04/2026, with an optional time (and AM/PM): month or day first, as dates.order says.
_YEAR_LAST_DATE = re.compile(
    r"(?P<first>\d{1,2})\s*(?P<sep>[-/.])\s*(?P<second>\d{1,2})\s*(?P=sep)\s*(?P<year>\d{4})"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?)?")
DATE_ORDERS = ("ymd", "mdy", "dmy")
_COMPACT_DATE = re.compile(r"(?P<year>(?:19|20|21)\d{2})(?P<month>\d{2})(?P<day>\d{2})")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_GROUPED_NUMBER = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# Units people type after a number in a score or count column; dropped, never converted
# (so "92%" is 92, matching a 0-100 satisfaction score).
_NUMBER_UNITS = ("分", "条", "條", "件", "个", "個", "人", "次", "项", "項", "%")

DATE_HINT = "write it like 2014-06-30, 2014/6/30, 2014.6.30 or 2014年6月30日"


class CellError(ValueError):
    """A cell that is not the value its field needs.

    The text (Chinese, then English) serves callers with no site language; `code` and
    `params` let validate word the message in the site's language from templates/text.yml.
    """

    def __init__(self, code: str, text: str, **params):
        super().__init__(text)
        self.code = code
        self.params = params


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
        raise CellError("no_such_date", f"不存在的日期 {original!r} (no such date; check the "
                        "month and day)", value=original)


def _from_serial(serial: float, original) -> dt.date:
    low, high = EXCEL_SERIAL_RANGE
    if not low <= serial <= high:
        raise CellError("serial_out_of_range", f"不是日期：{original!r} (not a date: number "
                        f"outside Excel's date range; {DATE_HINT})", value=original)
    day = EXCEL_EPOCH + dt.timedelta(days=math.floor(serial))
    first, last = PLAUSIBLE_SERIAL_YEARS
    if not first <= day.year <= last:
        raise CellError("implausible_serial", f"不是日期：{original!r} (not a date: as an Excel "
                        f"serial day it would be {day.isoformat()}, outside {first}-{last}; "
                        f"{DATE_HINT})", value=original, day=day.isoformat(),
                        first=first, last=last)
    return day


def _last_day(year: int, month: int, original) -> dt.date:
    if not 1 <= month <= 12:
        raise CellError("no_such_month", f"不是日期：{original!r} (month {month} does not exist; "
                        f"{DATE_HINT})", value=original, month=month)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _not_a_date(value, detail: str = "") -> CellError:
    return CellError("not_date", f"不是日期：{value!r} (not a date{detail}; {DATE_HINT})",
                     value=value)


def _without_year(text: str, original, default_year: int | None) -> dt.date | None:
    """6月底, 6月30日, 6月 and 2026年6月: dates only once the config gives a default year."""
    month_end = _NO_YEAR_MONTH_END.fullmatch(text)
    day_match = _NO_YEAR_DATE.fullmatch(text)
    alone = _MONTH_ALONE.fullmatch(text)
    if not (month_end or day_match or alone):
        return None
    if alone and alone["year"] and default_year is None:
        raise CellError("month_only", f"只有年月，没有日：{original!r} (a month without a day is "
                        "not a date; give the last day, e.g. 2014年6月30日, or set "
                        "dates.default_year in the config to read a month as its last day)",
                        value=original)
    if default_year is None:
        raise CellError("no_year", f"没有年份：{original!r} (a date without a year; write the "
                        "year, e.g. 2026年6月30日, or set dates.default_year in the config)",
                        value=original)
    if day_match:
        return _make_date(str(default_year), day_match["month"], day_match["day"], original)
    match = month_end or alone
    year = int(match["year"]) if match.groupdict().get("year") else default_year
    return _last_day(year, int(match["month"]), original)


def _from_formats(text: str, formats) -> dt.date | None:
    for form in formats:
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def parse_date(value, *, formats=(), default_year: int | None = None,
               order: str = "ymd") -> dt.date | None:
    """A date from a date object, typed text or an Excel serial number; None if empty.

    `formats` (strptime) are tried first on text; `default_year` gives 6月底 and 6月30日 a
    year and makes a month alone its last day; `order` (mdy, dmy) reads 03/04/2026.
    Raises CellError (a ValueError) for anything else, e.g. 长期坚持 or 2014年6月.
    """
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        raise CellError("not_date_boolean", f"不是日期：{value!r} (not a date: a true/false value)",
                        value=value)
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise _not_a_date(value)
        compact = _COMPACT_DATE.fullmatch(str(int(value))) if float(value).is_integer() else None
        if compact and value > EXCEL_SERIAL_RANGE[1]:
            return _make_date(*compact.group("year", "month", "day"), value)
        return _from_serial(value, value)
    if not isinstance(value, str):
        raise _not_a_date(value, f": unexpected {type(value).__name__}")

    text = _BY_SUFFIX.sub("", _half_width(value).strip())
    if (parsed := _from_formats(text, formats)) is not None:
        return parsed
    for pattern in (_SEPARATED_DATE, _CHINESE_DATE, _COMPACT_DATE):
        match = pattern.fullmatch(text)
        if match:
            return _make_date(*match.group("year", "month", "day"), value)
    if match := _MONTH_END.fullmatch(text):
        return _last_day(int(match["year"]), int(match["month"]), value)
    if match := _YEAR_END.fullmatch(text):
        return _make_date(match["year"], "12", "31", value)
    if match := _YEAR_LAST_DATE.fullmatch(text):
        if order == "mdy":
            return _make_date(match["year"], match["first"], match["second"], value)
        if order == "dmy":
            return _make_date(match["year"], match["second"], match["first"], value)
        raise CellError("ambiguous_order", f"不是日期：{value!r} (month first or day first? set "
                        "dates.order to mdy or dmy in the config, or write 2014-06-30)",
                        value=value)
    if (parsed := _without_year(text, value, default_year)) is not None:
        return parsed
    if _CHINESE_MONTH_ONLY.fullmatch(text):
        raise CellError("month_only", f"只有年月，没有日：{value!r} (a month without a day is not "
                        "a date; give the last day, e.g. 2014年6月30日)", value=value)
    if _NUMBER.fullmatch(text):
        return _from_serial(float(text), value)
    raise _not_a_date(value)


def parse_number(value) -> float | None:
    """A number from a cell: int/float, or text such as "92", "９２", "92.5", "92分", "1,234".

    None if empty; ValueError for anything else (including true/false and infinities).
    """
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        raise CellError("not_number", f"不是数字：{value!r} (not a number: a true/false value)",
                        value=value)
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
            raise CellError("not_number", f"不是数字：{value!r} (not a number; write digits such "
                            "as 92 or 92.5)", value=value)
        number = float(text)
    else:
        raise CellError("not_number", f"不是数字：{value!r} (not a number: unexpected "
                        f"{type(value).__name__})", value=value)
    if not math.isfinite(number):
        raise CellError("not_number", f"不是数字：{value!r} (not a finite number)", value=value)
    return number


def parse_int(value) -> int | None:
    """A whole number (see parse_number); ValueError if it has a fraction."""
    number = parse_number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise CellError("not_integer", f"不是整数：{value!r} (not a whole number)", value=value)
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
    raise CellError("not_boolean", f"不是是/否：{value!r} (not a yes/no value; use one of "
                    f"{known})", value=value, known=known)

"""Values: dates in every form staff type them, serial numbers, numbers, yes/no, text cleanup."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.read.values import normalize_text, parse_bool, parse_date, parse_int, parse_number

JUNE_30 = dt.date(2014, 6, 30)


@pytest.mark.parametrize("text", [
    "2014-06-30", "2014-6-30", "2014/6/30", "2014/06/30", "2014.6.30", "2014.06.30",
    "2014年6月30日", "2014年06月30日", "2014年6月30号", "2014年6月30", "2014 年 6 月 30 日",
    "２０１４年６月３０日", "２０１４．６．３０", "  2014-06-30\n", "\u200b2014-06-30",
    "2014-06-30 00:00:00", "2014-06-30T10:30", "20140630", "41820", "41820.0", "４１８２０",
])
def test_text_dates(text):
    assert parse_date(text) == JUNE_30


@pytest.mark.parametrize("value", [41820, 41820.0, 41820.75, dt.date(2014, 6, 30),
                                   dt.datetime(2014, 6, 30, 23, 59), 20140630])
def test_date_objects_and_serials(value):
    assert parse_date(value) == JUNE_30


@pytest.mark.parametrize("value", [None, "", "   ", "\u3000", float("nan")])
def test_empty_dates_are_none(value):
    assert parse_date(value) is None


@pytest.mark.parametrize("text, message", [
    ("长期坚持", "不是日期"),
    ("2014年6月", "只有年月"),
    ("2014年6月下旬", "只有年月"),  # 月底 is the last day; 下旬 is a span
    ("2014-02-30", "不存在的日期"),
    ("2014-13-01", "不存在的日期"),
    ("2014-6/30", "不是日期"),      # mixed separators are a typo, not a date
    ("2014", "not a date"),        # a year alone would be 1905-07-06 as a serial
    ("6/30/2014", "不是日期"),
    ("-5", "not a date"),
    ("3000000", "not a date"),
])
def test_not_dates(text, message):
    with pytest.raises(ValueError, match=message):
        parse_date(text)


@pytest.mark.parametrize("value", [True, 0, -1, 2958466, float("inf")])
def test_not_date_numbers(value):
    with pytest.raises(ValueError):
        parse_date(value)


def test_serial_epoch_matches_excel():
    assert parse_date(18264) == dt.date(1950, 1, 1)
    assert parse_date(45658) == dt.date(2025, 1, 1)
    with pytest.raises(ValueError, match="1900-03-01"):
        parse_date(61)  # a real serial, but no list of ours is from 1900: say what it would be


@given(st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_serial_round_trip(day):
    serial = (day - dt.date(1899, 12, 30)).days
    assert parse_date(serial) == day
    assert parse_date(str(serial)) == day
    assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day


@pytest.mark.parametrize("value, expected", [
    (92, 92.0), (92.5, 92.5), ("92", 92.0), ("92.5", 92.5), ("92分", 92.0), ("９２", 92.0),
    ("９２．５ 分", 92.5), ("1,234", 1234.0), ("-3", -3.0), ("92%", 92.0), (" 7 ", 7.0),
    (None, None), ("", None), (float("nan"), None),
])
def test_numbers(value, expected):
    assert parse_number(value) == expected


@pytest.mark.parametrize("value", ["九十二", "92 93", "1,23", "abc", True, "inf", float("inf"),
                                   "92分分"])
def test_not_numbers(value):
    with pytest.raises(ValueError):
        parse_number(value)


def test_integers():
    assert parse_int("12条") == 12
    assert parse_int(12.0) == 12
    assert parse_int("") is None
    with pytest.raises(ValueError, match="不是整数"):
        parse_int("12.5")


@pytest.mark.parametrize("value, expected", [
    ("是", True), ("否", False), ("已答复", True), ("未答复", False), ("YES", True), ("n", False),
    (" 是 ", True), (1, True), (0, False), (True, True), ("１", True), ("", None), (None, None),
])
def test_booleans(value, expected):
    assert parse_bool(value) is expected


def test_boolean_custom_words_and_failure():
    assert parse_bool("答了", {"答了": True}) is True
    with pytest.raises(ValueError, match="不是是/否"):
        parse_bool("也许")
    with pytest.raises(ValueError):
        parse_bool(2)


@pytest.mark.parametrize("value, expected", [
    ("  县住建局 ", "县住建局"), ("a\r\nb\rc", "a\nb\nc"), ("\u200b整改\u200d", "整改"),
    ("（一）加强管理，", "（一）加强管理，"), ("", None), ("\u3000", None), (None, None),
    (12.0, "12"), (12.5, "12.5"), (dt.date(2014, 6, 30), "2014-06-30"),
])
def test_normalize_text(value, expected):
    assert normalize_text(value) == expected


@pytest.mark.parametrize("text, expected", [
    ("2026年6月30日前", dt.date(2026, 6, 30)),
    ("2026年6月30日之前", dt.date(2026, 6, 30)),
    ("2026-06-30前", dt.date(2026, 6, 30)),
    ("2026年12月底前", dt.date(2026, 12, 31)),
    ("2026年2月底", dt.date(2026, 2, 28)),
    ("2024年2月末", dt.date(2024, 2, 29)),
    ("2026年底前", dt.date(2026, 12, 31)),
    ("２０２６年底", dt.date(2026, 12, 31)),
])
def test_deadlines_written_as_by_a_date_or_the_end_of_a_month_or_year(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["2026年6月", "2026年6月前", "2026年6月下旬", "2026年13月底", "前"])
def test_a_month_without_its_end_is_still_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date(text)


# --- the config's date options (dates: formats, default_year, order) -----------------------

@pytest.mark.parametrize("text, expected", [
    ("6月底", dt.date(2026, 6, 30)), ("2月末前", dt.date(2026, 2, 28)),
    ("6月30日", dt.date(2026, 6, 30)), ("6月", dt.date(2026, 6, 30)), ("6月份", dt.date(2026, 6, 30)),
    ("2025年2月", dt.date(2025, 2, 28)),  # its own year wins; a month alone is its last day
])
def test_default_year_reads_dates_without_a_year(text, expected):
    assert parse_date(text, default_year=2026) == expected


@pytest.mark.parametrize("text, code", [("6月底", "no_year"), ("6月30日", "no_year"),
                                        ("2014年6月", "month_only"), ("13月底", "no_year")])
def test_without_a_default_year_those_forms_are_errors_naming_the_option(text, code):
    from etl.read.values import CellError
    with pytest.raises(CellError) as caught:
        parse_date(text)
    assert caught.value.code == code and "dates.default_year" in str(caught.value)


def test_an_impossible_month_with_a_default_year_is_still_an_error():
    with pytest.raises(ValueError, match="month 13"):
        parse_date("13月底", default_year=2026)


def test_explicit_formats_are_tried_first():
    form = "%m/%d/%Y %I:%M:%S %p"
    assert parse_date("03/04/2026 10:15:00 PM", formats=[form]) == dt.date(2026, 3, 4)
    assert parse_date("2014-06-30", formats=[form]) == JUNE_30  # the built-in forms still work


@pytest.mark.parametrize("order, expected", [("mdy", dt.date(2026, 3, 4)),
                                             ("dmy", dt.date(2026, 4, 3))])
def test_order_reads_year_last_dates(order, expected):
    assert parse_date("03/04/2026", order=order) == expected
    assert parse_date("03/04/2026 08:00", order=order) == expected


def test_year_last_dates_need_an_order():
    from etl.read.values import CellError
    with pytest.raises(CellError) as caught:
        parse_date("03/04/2026")
    assert caught.value.code == "ambiguous_order"
    with pytest.raises(ValueError, match="不存在的日期"):
        parse_date("13/25/2026", order="mdy")

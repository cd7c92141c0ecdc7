"""Figure kinds, printed text, labels and definitions."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl import metrics, schema
from etl.site import figures
from etl.site.figures import format_figure
from etl.config import LANGUAGES
from etl.errors import BuildError
from etl.site import words


@pytest.mark.parametrize("key, value, text", [
    ("rate.completion", 0.625, "62.5%"),
    ("rate.completion", 1 / 3, "33.3%"),
    ("rate.completion", 2 / 3, "66.7%"),
    # 6.25 is exact in binary; banker's rounding (round()) would print 6.2%.
    ("rate.on_time", 0.0625, "6.3%"),
    ("rate.on_time", 0.0005, "0.1%"),
    ("rate.reply", 0.0, "0.0%"),
    ("rate.reply", 1.0, "100.0%"),
    ("rate.reply", 1, "100.0%"),
    ("unit.u-3fa2c1d0.rate.completion", 0.5, "50.0%"),
    ("channel.c-3fa2c1d0.rate.reply", 0.125, "12.5%"),
    ("issues.total", 1234, "1,234"),
    ("issues.total", 1234567, "1,234,567"),
    ("issues.total", 0, "0"),
    ("feedback.total", 16521, "16,521"),
    ("unit.u-3fa2c1d0.total", 12, "12"),
    ("channel.c-3fa2c1d0.feedback.total", 1300, "1,300"),
    ("days.median_to_rectify", 37, "37"),
    ("days.median_to_rectify", 37.5, "37.5"),
    ("days.median_to_rectify", 1234.5, "1,234.5"),
    ("satisfaction.mean", 85, "85.0"),
    ("satisfaction.mean", 230 / 3, "76.7"),
    ("satisfaction.mean", 76.25, "76.3"),
    ("claim.1.claimed", 1300, "1,300"),
    ("claim.2.computed", 70.5, "70.5"),
    ("claim.3.computed", None, "—"),
    ("rate.reply", None, "—"),
    ("issues.total", None, "—"),
    ("issues.total", float("nan"), "—"),
])
def test_format_figure(key, value, text):
    assert format_figure(key, value) == text
    assert format_figure(key, value, "en") == text


def test_format_figure_rejects_unknown_language():
    with pytest.raises(ValueError):
        format_figure("issues.total", 1, "fr")


@pytest.mark.parametrize("key, kind", [
    ("rate.on_time", "rate"), ("unit.u-1.rate.completion", "rate"), ("satisfaction.mean", "mean"),
    ("days.median_to_rectify", "days"), ("issues.total", "count"), ("deadline.within_10", "count"),
    ("satisfaction.scored", "count"), ("claim.1.computed", "claim"), ("area.a-1.overdue", "count"),
])
def test_kind_comes_from_the_key(key, kind):
    assert figures.kind(key) == kind


def test_round_half_up_is_not_bankers():
    assert str(figures.round_half_up(2.25)) == "2.3"
    assert str(figures.round_half_up(2.35)) == "2.4"
    assert str(figures.round_half_up(0.05)) == "0.1"


@given(st.fractions(min_value=0, max_value=1))
def test_rates_print_as_one_decimal_percent_close_to_the_value(fraction):
    value = float(fraction)
    text = format_figure("rate.completion", value)
    assert re.fullmatch(r"\d{1,3}\.\d%", text)
    assert abs(float(text[:-1]) - value * 100) <= 0.05 + 1e-9


@given(st.integers(min_value=0, max_value=10**9))
def test_counts_print_with_thousands_separators(count):
    text = format_figure("issues.total", count)
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", text)
    assert int(text.replace(",", "")) == count


def _every_global_key() -> set[str]:
    frame = pd.DataFrame({name: [None] for name in schema.field_names("issues")})
    frame["issue_id"], frame["status"] = ["1"], ["open"]
    feedback = pd.DataFrame({name: [] for name in schema.field_names("feedback")})
    result = metrics.compute(frame, feedback, as_of=dt.date(2026, 11, 20), threshold=80,
                             stale_weeks=8, claims=[], history=[])
    prefixes = tuple(f"{kind}." for kind in figures.GROUP_KINDS)
    return {key for key in result["figures"] if not key.startswith(prefixes)}


def test_every_global_figure_has_a_label_and_a_definition():
    keys = _every_global_key()
    assert keys <= set(figures.LABELS)
    assert keys <= set(figures.DEFINITIONS)
    assert set(figures.LABELS) <= keys  # no label for a figure that does not exist


def test_headline_keys_are_figures_with_labels():
    assert len(figures.HEADLINE_KEYS) == 10
    assert set(figures.HEADLINE_KEYS) <= _every_global_key()


def test_definitions_are_chinese_paragraphs():
    for key, text in figures.DEFINITIONS.items():
        assert re.search(r"[\u4e00-\u9fff]", text), key
        assert "\n" not in text, key


def test_labels_for_group_keys():
    assert figures.label("issues.overdue") == "逾期未完成"
    assert figures.label("unit.u-3fa2c1d0.rate.on_time") == "按期完成率"
    assert figures.label("channel.c-3fa2c1d0.feedback.total") == "意见数"
    assert set(figures.GROUP_KEYS) | set(figures.CHANNEL_EXTRA_KEYS) <= set(figures.GROUP_LABELS)


def test_english_words_cover_every_chinese_key():
    assert list(figures.LABELS_EN) == list(figures.LABELS)
    assert list(figures.GROUP_LABELS_EN) == list(figures.GROUP_LABELS)
    assert list(figures.definitions("en")) == list(figures.definitions("zh"))
    cjk = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
    for key, text in [*figures.LABELS_EN.items(), *figures.GROUP_LABELS_EN.items()]:
        assert not cjk.search(text), key
    for key, text in figures.DEFINITIONS_EN.items():
        # The empty group's name is data, shown as it is on English pages too.
        assert not cjk.search(text.replace(figures.MISSING_GROUP, "")), key
        assert "\n" not in text, key


def test_labels_by_language():
    assert figures.label("issues.overdue", "en") == "Overdue"
    assert figures.label("unit.u-3fa2c1d0.rate.on_time", "en") == "On-time rate"
    assert figures.label("channel.c-3fa2c1d0.feedback.total", "en") == "Opinions"
    assert figures.group_label("done") == "已整改" and figures.group_label("done", "en") == "Rectified"
    assert figures.label("no.such.key", "en") == "no.such.key"
    with pytest.raises(BuildError):
        figures.label("issues.total", "fr")


def test_status_labels_and_field_titles_by_language():
    assert words.status_labels() == words.status_labels("zh")
    assert set(words.status_labels("en")) == set(schema.STATUSES) == set(words.status_labels("zh"))
    assert words.status_labels("en")["done"] == "Completed"
    for language in LANGUAGES:
        titles = words.section("field_titles", language)
        assert set(titles) == set(schema.TABLES)
        for table, fields in schema.TABLES.items():
            assert set(titles[table]) == {f.name for f in fields}, (language, table)
    assert words.field_title("deadline") == "整改时限"
    assert words.field_title("deadline", "en") == "Deadline"
    # The same field name reads as its own table's heading.
    assert words.field_title("issue_id", "zh", "issues") == "问题编号"
    assert words.field_title("issue_id", "zh", "feedback") == "归入问题编号"
    assert words.field_title("unit", "zh", "feedback") == "承办单位"
    with pytest.raises(BuildError):
        words.status_labels("fr")
    with pytest.raises(BuildError):
        words.field_title("deadline", "fr")


def test_every_language_has_the_same_words():
    """One file holds every word; each language block has the same keys, nested ones too."""
    def keys(value, prefix=""):
        if isinstance(value, dict):
            return {k for key, inner in value.items() for k in keys(inner, f"{prefix}{key}.")} | {prefix}
        return {prefix}
    blocks = {language: words.words(language) for language in LANGUAGES}
    assert len({frozenset(keys(block)) for block in blocks.values()}) == 1

"""Ids as file names and anchors: unsafe ids refused, collisions caught, slugs stable."""

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.errors import Location, UnsafePath
from etl.privacy.safepath import (anchor, bucket, check_id, check_unique_casefold, id_from_anchor,
                          slug)

GOOD_IDS = ["QH-2026-0001", "1", "A_1.2", "整改-001", "一", "问题12", "x" * 100, "a..b", "Ｑ１"]
BAD_IDS = [
    "", ".", "..", "...", "../etc", ".hidden", "a/b", "a\\b", "a\x00b", "a\nb", "a\tb", "a\x7fb",
    "a b", "a<b", "a>b", "a:b", 'a"b', "a|b", "a?b", "a*b", "a#b", "a%2e", "a&b", "a'b",
    "a\u202eb", "a\u200bb", "x" * 101, "CON", "con.html", "LPT1", "nul", "abc.", "a+b",
    "a\u3000b", "问题（1）",
]


@pytest.mark.parametrize("value", GOOD_IDS)
def test_safe_ids_come_back_unchanged(value):
    assert check_id(value) == value


@pytest.mark.parametrize("value", BAD_IDS)
def test_unsafe_ids_are_refused(value):
    with pytest.raises(UnsafePath) as error:
        check_id(value)
    assert "issue_id" in str(error.value)
    assert "what to do" in str(error.value)


def test_refusal_names_the_id_the_field_and_the_cell():
    with pytest.raises(UnsafePath) as error:
        check_id("a/b", what="feedback_id",
                 location=Location(file="意见.xlsx", sheet="Sheet1", row=7, column="意见编号"))
    text = str(error.value)
    for expected in ("feedback_id", "'a/b'", "意见.xlsx", "row 7", "意见编号", "SOLIDUS"):
        assert expected in text


def test_non_text_ids_are_refused():
    with pytest.raises(UnsafePath):
        check_id(12)  # type: ignore[arg-type]


def test_ids_differing_only_by_case_or_width_collide():
    with pytest.raises(UnsafePath) as error:
        check_unique_casefold(["QH-1", "qh-1", "B", "Ｂ", "C"], what="issue_id")
    text = str(error.value)
    assert "'QH-1' and 'qh-1'" in text and "'B' and 'Ｂ'" in text and "2 pair(s)" in text


def test_distinct_ids_and_exact_duplicates_pass():
    check_unique_casefold(["QH-1", "QH-2", "问题1", "QH-1"], what="issue_id")


def test_slug_is_the_documented_hash():
    digest = hashlib.sha256("县住建局".encode()).hexdigest()[:8]
    assert slug("unit", "县住建局") == f"u-{digest}"
    assert slug("area", "城关镇").startswith("a-")
    assert slug("category", "x").startswith("c-") and slug("channel", "x").startswith("c-")
    with pytest.raises(ValueError):
        slug("person", "x")


def test_bucket_is_two_hex_digits_of_the_id_alone():
    assert bucket("QH-2026-0001") == hashlib.sha256(b"QH-2026-0001").hexdigest()[:2]
    assert re.fullmatch("[0-9a-f]{2}", bucket("问题1"))


def test_anchor_keeps_ascii_ids_readable():
    assert anchor("QH-2026-0001") == "issue-QH-2026-0001"
    assert anchor("A_1.2") == "issue-A_5f1_2e2"
    assert anchor("问") == "issue-_e9_97_ae"


@settings(max_examples=500, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_anchor_is_injective_reversible_and_html_safe(first, second):
    assert re.fullmatch(r"issue-[A-Za-z0-9_\-]+", anchor(first))
    assert id_from_anchor(anchor(first)) == first
    if first != second:
        assert anchor(first) != anchor(second)


def test_id_from_anchor_refuses_foreign_text():
    with pytest.raises(ValueError):
        id_from_anchor("section-1")
    with pytest.raises(ValueError):
        id_from_anchor("issue-a_zz")

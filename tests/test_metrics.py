"""Metrics: hand-computed small cases for each definition, and invariants under Hypothesis."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import metrics, schema
from etl.site import figures
from etl.ledger import claims as claim_check
from etl.ledger import history
from etl.ledger import manifests
from etl.ledger import tables
from etl.errors import EtlError
from etl.ledger.figure_rules import FINISHED
from etl.privacy.safepath import slug

AS_OF = dt.date(2026, 11, 20)
D = dt.date


def issues_frame(rows: list[dict]) -> pd.DataFrame:
    """A canonical issues frame with the dtypes read_table gives (Float64 satisfaction)."""
    columns = {name: [row.get(name) for row in rows] for name in schema.field_names("issues")}
    frame = pd.DataFrame(columns)
    frame["satisfaction"] = pd.array(columns["satisfaction"], dtype="Float64")
    frame["feedback_count"] = pd.array(columns["feedback_count"], dtype="Int64")
    return frame


def feedback_frame(rows: list[dict]) -> pd.DataFrame:
    columns = {name: [row.get(name) for row in rows] for name in schema.field_names("feedback")}
    frame = pd.DataFrame(columns)
    frame["replied"] = pd.array(columns["replied"], dtype="boolean")
    return frame


def compute(rows, feedback=(), *, history_entries=(), claims=(), as_of=AS_OF, threshold=80,
            stale_weeks=8):
    return metrics.compute(issues_frame(list(rows)), feedback_frame(list(feedback)), as_of=as_of,
                           threshold=threshold, stale_weeks=stale_weeks, claims=list(claims),
                           history=[(when, issues_frame(list(past)), *rest)
                                    for when, past, *rest in history_entries])


# A small campaign whose every figure is worked out by hand in the comments below.
CASE_ISSUES = [
    dict(issue_id="1", status="done", unit="住建局", area="城关镇", category="形式主义",
         channel="信箱", identified_on=D(2026, 1, 10), deadline=D(2026, 6, 30),
         completed_on=D(2026, 6, 20), satisfaction=90.0),
    dict(issue_id="2", status="done", unit="住建局", identified_on=D(2026, 2, 1),
         deadline=D(2026, 4, 30), completed_on=D(2026, 4, 30), satisfaction=80.0),
    dict(issue_id="3", status="done", unit="教育局", identified_on=D(2026, 3, 1),
         completed_on=D(2026, 5, 1)),
    dict(issue_id="4", status="rework", unit="教育局", channel="热线", identified_on=D(2026, 3, 15),
         deadline=D(2026, 10, 31), satisfaction=60.0),
    dict(issue_id="5", status="in_progress", deadline=D(2026, 11, 25)),
    dict(issue_id="6", status="open", unit="住建局", deadline=D(2026, 12, 5)),
    dict(issue_id="7", status="long_term", deadline=D(2026, 1, 1)),
    dict(issue_id="8", status="in_progress"),
    dict(issue_id="9", status="open", deadline=D(2027, 1, 31)),
]
CASE_HISTORY = [
    (D(2026, 8, 1), [
        dict(issue_id="1", status="in_progress", deadline=D(2026, 5, 31)),
        dict(issue_id="2", status="in_progress", deadline=D(2026, 4, 30)),
        dict(issue_id="5", status="in_progress", deadline=D(2026, 9, 30)),
        dict(issue_id="6", status="open", deadline=D(2026, 12, 5)),
        dict(issue_id="8", status="open"),
    ], "2026-08-01-aaaaaaaa"),
    (D(2026, 10, 15), [
        dict(issue_id="1", status="done", deadline=D(2026, 6, 30)),
        dict(issue_id="2", status="done", deadline=D(2026, 4, 30)),
        dict(issue_id="5", status="in_progress", deadline=D(2026, 11, 25)),
        dict(issue_id="6", status="open", deadline=D(2026, 12, 5)),
        dict(issue_id="8", status="in_progress"),
    ], "2026-10-15-bbbbbbbb"),
]
CASE_FEEDBACK = [
    dict(feedback_id="a", channel="信箱", replied=True),
    dict(feedback_id="b", channel="信箱", replied=True),
    dict(feedback_id="c", channel="热线", replied=False),
    dict(feedback_id="d", channel="热线", replied=None),
]
CASE_CLAIMS = [
    {"label": "已整改", "metric": "issues.done", "value": 3.0, "date": D(2026, 10, 31), "source": "报告"},
    {"label": "完成率", "metric": "rate.completion", "value": 33.3, "date": None, "source": ""},
    {"label": "按期率", "metric": "rate.on_time", "value": 50.1, "date": "2026-10-31", "source": ""},
    {"label": "不存在", "metric": "issues.nonexistent", "value": 1, "date": None, "source": ""},
    {"label": "用时", "metric": "days.median_to_rectify", "value": 88, "date": None, "source": ""},
]


@pytest.fixture(scope="module")
def case():
    return compute(CASE_ISSUES, CASE_FEEDBACK, history_entries=CASE_HISTORY, claims=CASE_CLAIMS)


def test_case_counts(case):
    f = case["figures"]
    assert (f["issues.total"], f["issues.open"], f["issues.in_progress"], f["issues.done"],
            f["issues.long_term"], f["issues.rework"], f["issues.rectified"]) == (9, 2, 2, 3, 1, 1, 3)
    assert f["rate.completion"] == 3 / 9


def test_case_feedback(case):
    f = case["figures"]
    # An empty "replied" cell is not a reply.
    assert (f["feedback.total"], f["feedback.replied"], f["rate.reply"]) == (4, 2, 0.5)


def test_case_on_time_uses_the_first_deadline(case):
    f = case["figures"]
    # Item 1 was done 06-20: late against its first deadline 05-31, on time against 06-30.
    # Item 2 was done on its deadline day (on time); item 3 has no deadline anywhere.
    assert (f["issues.done_on_time"], f["issues.done_with_deadline"]) == (1, 2)
    assert f["rate.on_time"] == 0.5
    assert f["rate.on_time_current"] == 1.0
    assert f["issues.deadline_extended"] == 2  # items 1 and 5


def test_case_overdue(case):
    f = case["figures"]
    # Item 4 (rework, 10-31) is late; 7 is long_term, so its past deadline does not count.
    assert f["issues.overdue"] == 1
    # Item 5's first deadline 09-30 has passed, though it was moved to 11-25.
    assert f["issues.overdue_first_deadline"] == 2
    assert case["lists"]["overdue"] == ["4"]


def test_case_median_days(case):
    # 1: 01-10 -> 06-20 = 161; 2: 02-01 -> 04-30 = 88; 3: 03-01 -> 05-01 = 61.
    assert case["figures"]["days.median_to_rectify"] == 88


def test_case_satisfaction(case):
    f = case["figures"]
    # Scores 90, 80 (equal to the threshold counts as satisfied), 60.
    assert (f["satisfaction.scored"], f["satisfaction.satisfied"]) == (3, 2)
    assert f["rate.satisfaction"] == 2 / 3
    assert f["satisfaction.mean"] == pytest.approx(230 / 3)


def test_case_deadline_buckets(case):
    f = case["figures"]
    # Pending (not done, not long_term): 4 overdue, 5 in 5 days, 6 in 15, 9 in 72, 8 no date.
    assert [f[f"deadline.{name}"] for name in ("overdue", "within_10", "within_20", "later", "none")] \
        == [1, 1, 1, 1, 1]
    assert case["lists"]["due_10"] == ["5"]
    assert case["lists"]["due_20"] == ["6"]


def test_case_stale(case):
    # 5 and 6 unchanged since 08-01 (111 days >= 8 weeks); 8 changed on 10-15 (36 days);
    # 4 and 9 are not in any earlier snapshot.
    assert case["figures"]["issues.stale"] == 2
    assert case["lists"]["stale"] == ["5", "6"]
    assert case["lists"]["rework"] == ["4"]


def test_case_groups(case):
    units = case["groups"]["unit"]
    assert [group["name"] for group in units] == ["未填写", "住建局", "教育局"]
    by_name = {group["name"]: group for group in units}
    assert by_name["住建局"]["slug"] == slug("unit", "住建局")
    assert by_name["住建局"]["figures"] == {
        "total": 3, "open": 1, "in_progress": 0, "done": 2, "long_term": 0, "rework": 0,
        "explained": 0, "not_adopted": 0, "merged": 0, "transferred": 0,
        "overdue": 0, "rate.completion": 2 / 3, "rate.on_time": 0.5,
        # Scores 90 and 80, both satisfied; no opinion names a unit.
        "rate.satisfaction": 1.0, "feedback.total": 0, "feedback.replied": 0, "rate.reply": None,
        "days.median_to_reply": None, "rate.reply_prompt": None, "rate.reply_in_limit": None,
        # The history names no units: every earlier item was in 未填写, so both done are new.
        "change.done": 2, "change.overdue": 0}
    assert by_name["教育局"]["figures"]["overdue"] == 1
    assert by_name["教育局"]["figures"]["rate.on_time"] is None
    assert case["figures"][f"unit.{slug('unit', '教育局')}.rework"] == 1
    assert case["figures"][f"unit.{slug('unit', '未填写')}.total"] == 4


def test_case_channels(case):
    channels = case["groups"]["channel"]
    assert [group["name"] for group in channels] == ["未填写", "信箱", "热线"]
    hotline = channels[2]["figures"]
    assert (hotline["total"], hotline["feedback.total"], hotline["feedback.replied"],
            hotline["rate.reply"]) == (1, 2, 0, 0.0)
    assert channels[0]["figures"]["rate.reply"] is None
    assert case["figures"][f"channel.{slug('channel', '信箱')}.rate.reply"] == 1.0


def test_case_funnel(case):
    assert case["funnel"] == [{"stage": "opinions", "value": 4}, {"stage": "issues", "value": 9},
                              {"stage": "rectified", "value": 3}]


def test_case_burnup(case):
    burnup = case["series"]["burnup"]
    assert [point["date"] for point in burnup] == [
        "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30",
        "2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31", "2026-11-20"]
    assert [point["identified"] for point in burnup[:3]] == [1, 2, 4]
    assert [point["done"] for point in burnup[2:6]] == [0, 1, 2, 3]
    assert burnup[-1] == {"date": "2026-11-20", "identified": 4, "done": 3}


def test_case_snapshot_series(case):
    snapshots = case["series"]["snapshots"]
    assert snapshots[0] == {"snapshot_id": "2026-08-01-aaaaaaaa", "as_of": "2026-08-01", "open": 2,
                            "in_progress": 3, "done": 0, "long_term": 0, "rework": 0,
                            "explained": 0, "not_adopted": 0, "merged": 0, "transferred": 0,
                            "total": 5}
    assert snapshots[-1] == {"snapshot_id": None, "as_of": "2026-11-20", "open": 2,
                             "in_progress": 2, "done": 3, "long_term": 1, "rework": 1,
                             "explained": 0, "not_adopted": 0, "merged": 0, "transferred": 0,
                             "total": 9}


def test_case_claims(case):
    claims = case["claims"]
    # Claims 1 and 3 are dated 10-31: checked against the 10-15 snapshot, the newest on or
    # before their date, which had 2 items done and no completion dates (so no on-time rate).
    assert [(c["claimed"], c["computed"], c["matches"]) for c in claims] == [
        (3, 2, False), (33.3, 33.3, True), (50.1, None, False), (1, None, False), (88, 88, True)]
    assert claims[0]["date"] == "2026-10-31" and claims[0]["source"] == "报告"
    assert (claims[0]["checked_as_of"], claims[0]["checked_snapshot"]) == \
        ("2026-10-15", "2026-10-15-bbbbbbbb")
    assert (claims[1]["checked_as_of"], claims[1]["checked_snapshot"]) == ("2026-11-20", None)
    assert not any(c["reported_only"] for c in claims)
    assert claims[1]["kind"] == "rate"
    assert case["figures"]["claim.3.claimed"] == 50.1
    assert case["figures"]["claim.4.computed"] is None


def test_case_shape_and_parameters(case):
    assert set(case) == {"as_of", "parameters", "figures", "groups", "funnel", "series", "lists",
                         "days_late", "claims", "ranking"}
    assert case["as_of"] == "2026-11-20"
    assert case["parameters"] == {"satisfaction_threshold": 80, "stale_weeks": 8,
                                  "reply_prompt_days": 7, "reply_limit_days": 15,
                                  "ranking_min_items": 20, "ranking_size": 3}
    assert set(case["groups"]) == {"unit", "area", "category", "channel"}
    json.dumps(case, allow_nan=False)


def test_empty_tables_give_nulls_not_errors():
    result = compute([])
    f = result["figures"]
    # No opinion rows and no deadlines: those figures cannot be counted, so None ("—"), not 0.
    assert f["issues.total"] == 0 and f["feedback.total"] is None
    assert f["issues.overdue"] is None
    for key in ("rate.completion", "rate.on_time", "rate.reply", "rate.satisfaction",
                "satisfaction.mean", "days.median_to_rectify"):
        assert f[key] is None
    assert result["series"]["burnup"] == []


def test_figures_the_data_cannot_support_are_none_not_zero():
    rows = [dict(issue_id="1", status="open", unit="县住建局"),
            dict(issue_id="2", status="done", unit="县住建局")]
    result = compute(rows)
    f = result["figures"]
    assert f["feedback.total"] is None and f["rate.reply"] is None
    assert f["issues.overdue"] is None and f["deadline.overdue"] is None
    [unit] = result["groups"]["unit"]
    assert unit["figures"]["overdue"] is None
    assert [stage["stage"] for stage in result["funnel"]] == ["issues", "rectified"]
    # Once the data has deadlines and opinions, zeros are real counts again.
    dated = [row | {"deadline": D(2099, 1, 1)} for row in rows]
    f = compute(dated, [dict(feedback_id="F1", channel="短信")])["figures"]
    assert f["issues.overdue"] == 0 and f["feedback.total"] == 1


def test_median_of_an_even_count_is_the_middle_average():
    rows = [dict(issue_id=str(n), status="done", identified_on=D(2026, 1, 1),
                 completed_on=D(2026, 1, 1) + dt.timedelta(days=days))
            for n, days in enumerate([10, 20, 30, 45])]
    assert compute(rows)["figures"]["days.median_to_rectify"] == 25
    assert compute(rows[1:] + [rows[0] | {"issue_id": "x", "completed_on": D(2026, 1, 2)}]
                   )["figures"]["days.median_to_rectify"] == 25
    assert compute(rows[:3] + [rows[3] | {"completed_on": D(2026, 2, 1)}]
                   )["figures"]["days.median_to_rectify"] == 25  # 10, 20, 30, 31
    assert compute(rows[:2])["figures"]["days.median_to_rectify"] == 15


def test_done_without_completion_date_is_not_on_time():
    rows = [dict(issue_id="1", status="done", deadline=D(2026, 5, 1)),
            dict(issue_id="2", status="done", deadline=D(2026, 5, 1), completed_on=D(2026, 4, 1))]
    assert compute(rows)["figures"]["rate.on_time"] == 0.5


def test_unpublished_columns_give_unknown_not_zero():
    rows = [dict(issue_id="1", status="done", deadline=D(2026, 5, 1))]
    result = compute(rows, [dict(feedback_id="a", channel="信箱")])
    f = result["figures"]
    assert f["rate.on_time"] is None and f["issues.done_on_time"] is None
    assert f["issues.done_with_deadline"] == 1
    assert f["rate.reply"] is None and f["feedback.replied"] is None
    assert result["groups"]["channel"][0]["figures"]["rate.reply"] is None


def test_stale_needs_history_and_the_full_span():
    rows = [dict(issue_id="1", status="open")]
    assert compute(rows)["figures"]["issues.stale"] == 0
    seven_weeks = [(AS_OF - dt.timedelta(weeks=7), rows)]
    eight_weeks = [(AS_OF - dt.timedelta(weeks=8), rows)]
    assert compute(rows, history_entries=seven_weeks)["figures"]["issues.stale"] == 0
    assert compute(rows, history_entries=eight_weeks)["lists"]["stale"] == ["1"]
    # A gap (missing from a snapshot) restarts the count.
    gap = eight_weeks + [(AS_OF - dt.timedelta(weeks=4), [])]
    assert compute(rows, history_entries=gap)["figures"]["issues.stale"] == 0
    done = [dict(issue_id="1", status="done")]
    assert compute(done, history_entries=[(AS_OF - dt.timedelta(weeks=20), done)]
                   )["figures"]["issues.stale"] == 0


def test_a_rerun_of_this_publish_is_not_history():
    rerun = CASE_HISTORY + [(AS_OF, CASE_ISSUES, "2026-11-20-cccccccc")]
    assert compute(CASE_ISSUES, history_entries=rerun) == compute(CASE_ISSUES,
                                                                 history_entries=CASE_HISTORY)
    # A same-day snapshot that differs is a real earlier publish and stays.
    corrected = [dict(row, status="in_progress") if row["issue_id"] == "9" else row for row in CASE_ISSUES]
    differs = CASE_HISTORY + [(AS_OF, corrected, "2026-11-20-dddddddd")]
    assert len(compute(CASE_ISSUES, history_entries=differs)["series"]["snapshots"]) == 4
    moved = [dict(row, deadline=None) if row["issue_id"] == "9" else row for row in CASE_ISSUES]
    differs = CASE_HISTORY + [(AS_OF, moved, "2026-11-20-eeeeeeee")]
    assert len(compute(CASE_ISSUES, history_entries=differs)["series"]["snapshots"]) == 4


def test_only_the_newest_same_day_snapshot_can_be_a_rerun():
    """Same-day publishes A (deadline 6-30) then B (9-30), and today's data back to A's: A is a
    real publish, so 6-30 stays the first deadline and a 7-15 finish is late."""
    today = [dict(issue_id="1", status="done", deadline=D(2026, 6, 30), completed_on=D(2026, 7, 15))]
    moved = [dict(today[0], deadline=D(2026, 9, 30))]
    a_then_b = [(AS_OF, today, "2026-11-20-aaaaaaaa"), (AS_OF, moved, "2026-11-20-bbbbbbbb")]
    result = compute(today, history_entries=a_then_b)
    assert result["figures"]["rate.on_time"] == 0
    assert [s["snapshot_id"] for s in result["series"]["snapshots"]] == [
        "2026-11-20-aaaaaaaa", "2026-11-20-bbbbbbbb", None]
    # The other order: A is the newest and this very publish, so only it is left out.
    b_then_a = a_then_b[::-1]
    result = compute(today, history_entries=b_then_a)
    assert result["figures"]["rate.on_time"] == 1  # B published 9-30 first
    assert [s["snapshot_id"] for s in result["series"]["snapshots"]] == ["2026-11-20-bbbbbbbb", None]


def test_unknown_status_stops_with_a_clear_error():
    with pytest.raises(EtlError, match="status 'finished'"):
        compute([dict(issue_id="1", status="finished")])


def test_deadline_bucket_edges():
    rows = [dict(issue_id=str(days), status="in_progress", deadline=AS_OF + dt.timedelta(days=days))
            for days in (-1, 0, 10, 11, 20, 21)]
    result = compute(rows)
    assert result["lists"]["overdue"] == ["-1"]
    assert result["lists"]["due_10"] == ["0", "10"]
    assert result["lists"]["due_20"] == ["11", "20"]
    assert result["figures"]["deadline.later"] == 1


def test_a_deadline_moved_earlier_is_not_an_extension():
    rows = [dict(issue_id="1", status="open", deadline=D(2026, 12, 1))]
    earlier = [(D(2026, 6, 1), [dict(issue_id="1", status="open", deadline=D(2026, 12, 31))])]
    assert compute(rows, history_entries=earlier)["figures"]["issues.deadline_extended"] == 0


def test_a_deadline_dropped_for_a_note_or_nothing_is_an_extension():
    rows = [dict(issue_id="1", status="in_progress", deadline_note="长期坚持"),
            dict(issue_id="2", status="open"),
            dict(issue_id="3", status="open"),
            dict(issue_id="4", status="open", deadline=D(2026, 12, 31)),
            dict(issue_id="5", status="open", deadline=D(2026, 9, 30))]
    earlier = [(D(2026, 6, 1), [dict(issue_id=n, status="open", deadline=D(2026, 9, 30))
                                for n in ("1", "2", "4", "5")] + [dict(issue_id="3", status="open")])]
    f = compute(rows, history_entries=earlier)["figures"]
    assert f["issues.deadline_extended"] == 3  # 1 and 2 lost their date, 4 moved later
    # Without a date they are not overdue now, but they still are by the first deadline.
    assert f["issues.overdue"] == 1 and f["issues.overdue_first_deadline"] == 4


def test_rate_claims_round_half_up_and_missing_values_never_match():
    rows = [dict(issue_id=str(n), status="done" if n == 0 else "open") for n in range(16)]
    claims = [{"label": "完成率", "metric": "rate.completion", "value": 6.3},  # 1/16 = 6.25%
              {"label": "空", "metric": "issues.unknown", "value": None}]
    checked = compute(rows, claims=claims)["claims"]
    assert [(c["computed"], c["matches"]) for c in checked] == [(6.3, True), (None, False)]


def test_lists_sort_overdue_by_lateness_then_natural_id():
    rows = [dict(issue_id="10", status="open", deadline=D(2026, 11, 1)),
            dict(issue_id="2", status="open", deadline=D(2026, 11, 1)),
            dict(issue_id="3", status="open", deadline=D(2026, 1, 1))]
    result = compute(rows)
    assert result["lists"]["overdue"] == ["3", "2", "10"]
    assert result["days_late"] == {"10": (AS_OF - D(2026, 11, 1)).days,
                                   "2": (AS_OF - D(2026, 11, 1)).days,
                                   "3": (AS_OF - D(2026, 1, 1)).days}


def test_group_ties_sort_by_name():
    rows = [dict(issue_id="1", status="open", area="乙"), dict(issue_id="2", status="open", area="甲"),
            dict(issue_id="3", status="open", area="")]
    assert [g["name"] for g in compute(rows)["groups"]["area"]] == ["乙", "未填写", "甲"]


# ---- invariants -------------------------------------------------------------------------------

NAMES = st.sampled_from([None, "", "甲", "乙", "丙"])
OFFSET_DAYS = st.integers(min_value=-400, max_value=100)


def _maybe_date(offsets=OFFSET_DAYS):
    return st.one_of(st.none(), offsets.map(lambda days: AS_OF + dt.timedelta(days=days)))


ISSUE = st.fixed_dictionaries({
    "status": st.sampled_from(schema.STATUSES), "unit": NAMES, "area": NAMES, "category": NAMES,
    "channel": NAMES, "identified_on": _maybe_date(), "deadline": _maybe_date(),
    "completed_on": _maybe_date(), "satisfaction": st.one_of(
        st.none(), st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 2))),
})
OPINION = st.fixed_dictionaries({"channel": NAMES, "unit": NAMES,
                                 "replied": st.sampled_from([None, True, False]),
                                 "received_on": _maybe_date(st.integers(-300, 0)),
                                 "replied_on": _maybe_date(st.integers(-300, 0))})


@st.composite
def campaigns(draw):
    """Issues, opinions and up to three earlier snapshots of some of those issues."""
    rows = [dict(row, issue_id=f"Q-{n}") for n, row in enumerate(draw(st.lists(ISSUE, max_size=20)))]
    opinions = [dict(row, feedback_id=f"F{n}") for n, row in enumerate(draw(st.lists(OPINION, max_size=10)))]
    dates = sorted(draw(st.lists(st.integers(min_value=1, max_value=200), max_size=3, unique=True)),
                   reverse=True)
    earlier = []
    for days_before in dates:
        past = [dict(issue_id=row["issue_id"], status=draw(st.sampled_from(schema.STATUSES)),
                     deadline=draw(_maybe_date()), unit=draw(NAMES))
                for row in rows if draw(st.booleans())]
        earlier.append((AS_OF - dt.timedelta(days=days_before), past))
    return rows, opinions, earlier


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(campaigns())
def test_invariants(campaign):
    rows, opinions, earlier = campaign
    result = compute(rows, opinions, history_entries=earlier)
    f = result["figures"]
    json.dumps(result, allow_nan=False)
    for key, value in f.items():
        assert value is None or isinstance(value, (int, float)), key
        if ".rate." in f".{key}" and value is not None:
            assert 0 <= value <= 1, key
    assert f["issues.total"] == len(rows) == sum(f[f"issues.{s}"] for s in schema.STATUSES)
    assert f["issues.done"] <= f["issues.total"]
    # Closures that are not fixes are counted apart: never in done, never overdue or stale.
    assert f["issues.closed_not_fixed"] == sum(f[f"issues.{s}"] for s in schema.CLOSURES)
    assert f["issues.done"] + f["issues.closed_not_fixed"] <= f["issues.total"]
    closed = {r["issue_id"] for r in rows if r["status"] in schema.CLOSURES}
    assert not closed & set(result["lists"]["overdue"])
    stages = {stage["stage"]: stage["value"] for stage in result["funnel"]}
    assert stages.get("closed_not_fixed") == (len(closed) or None)
    assert stages["rectified"] == f["issues.done"]
    assert f["feedback.total"] == (len(opinions) if opinions else None)
    if opinions and any(row["replied"] is not None for row in opinions):
        assert f["feedback.replied"] <= f["feedback.total"]
    else:
        assert f["feedback.replied"] is None and f["rate.reply"] is None
    for kind in ("unit", "area", "category", "channel"):
        names = [g["name"] for g in result["groups"][kind]]
        assert len(set(names)) == len(names) and "" not in names and None not in names
        assert sum(g["figures"]["total"] for g in result["groups"][kind]) == f["issues.total"]
        for group in result["groups"][kind]:
            for key, value in group["figures"].items():
                assert f[f"{kind}.{group['slug']}.{key}"] == value
    assert sum(g["figures"]["feedback.total"] or 0
               for g in result["groups"]["channel"]) == len(opinions)
    pending = sum(row["status"] not in FINISHED for row in rows)
    buckets = [f[f"deadline.{n}"] for n in ("overdue", "within_10", "within_20", "later", "none")]
    assert sum(bucket or 0 for bucket in buckets) == pending
    if not any(row["deadline"] is not None for row in rows):  # no deadlines: unknown, not 0
        assert f["issues.overdue"] is None and f["deadline.none"] == pending
    else:
        assert f["deadline.overdue"] == f["issues.overdue"] == len(result["lists"]["overdue"])
        assert len(result["lists"]["due_10"]) == f["deadline.within_10"]
        assert len(result["lists"]["due_20"]) == f["deadline.within_20"]
    assert set(result["lists"]["stale"]) <= {r["issue_id"] for r in rows
                                              if r["status"] not in FINISHED}
    assert f["issues.done_with_deadline"] <= f["issues.done"]
    if any(row["completed_on"] is not None for row in rows):
        assert f["issues.done_on_time"] <= f["issues.done_with_deadline"]
    else:
        assert f["issues.done_on_time"] is None and f["rate.on_time"] is None
    assert result["series"]["snapshots"][-1]["total"] == len(rows)
    _reply_and_scorecard_invariants(result, rows, opinions, earlier)
    burnup = result["series"]["burnup"]
    for before, after in zip(burnup, burnup[1:]):
        assert before["identified"] <= after["identified"] and before["done"] <= after["done"]


def _reply_and_scorecard_invariants(result, rows, opinions, earlier):
    f = result["figures"]
    days = [(o["replied_on"] - o["received_on"]).days for o in opinions
            if o["replied"] is True and o["received_on"] and o["replied_on"]]
    if any(o["replied_on"] is not None for o in opinions):
        if days:
            assert min(days) <= f["days.median_to_reply"] <= max(days)
        else:
            assert f["days.median_to_reply"] is None
        if f["rate.reply_prompt"] is not None:  # 7 days and under is also 15 and under
            assert f["rate.reply_prompt"] <= f["rate.reply_in_limit"]
    else:
        assert f["days.median_to_reply"] is f["rate.reply_prompt"] is None
    units = result["groups"]["unit"]
    assert sum(g["figures"]["feedback.total"] or 0 for g in units) == \
        sum(bool(o["unit"]) for o in opinions)
    ranking = result["ranking"]
    eligible = {g["slug"] for g in units if g["figures"]["total"] >= ranking["min_items"]}
    assert set(ranking["eligible"]) == eligible
    assert not set(ranking["top"]) & set(ranking["bottom"])
    assert ranking["top"] == ranking["eligible"][:len(ranking["top"])]
    completion = {g["slug"]: g["figures"]["rate.completion"] for g in units}
    order = [completion[name] for name in ranking["eligible"]]
    assert order == sorted(order, reverse=True)
    # The change since the last publish adds up to the whole list's change, when every unit
    # of the previous publish is still there (one gone takes its earlier items with it).
    series = result["series"]["snapshots"]
    if len(series) < 2:
        assert all(g["figures"]["change.done"] is None for g in units)
        return
    previous_rows = earlier[len(series) - 2][1]  # the rerun, if any, is left out of the series
    names = {g["name"] for g in units}
    if {row["unit"] or figures.MISSING_GROUP for row in previous_rows} <= names:
        assert sum(g["figures"]["change.done"] for g in units) == \
            f["issues.done"] - series[-2]["done"]


@FAST
@given(campaigns(), st.randoms(use_true_random=False))
def test_deterministic_and_independent_of_row_order(campaign, random):
    rows, opinions, earlier = campaign
    first = metrics.to_json(compute(rows, opinions, history_entries=earlier))
    assert metrics.to_json(compute(rows, opinions, history_entries=earlier)) == first
    shuffled_rows, shuffled_opinions = rows[:], opinions[:]
    random.shuffle(shuffled_rows)
    random.shuffle(shuffled_opinions)
    assert metrics.to_json(compute(shuffled_rows, shuffled_opinions, history_entries=earlier)) == first


@FAST
@given(campaigns())
def test_without_history_nothing_is_stale_and_first_deadline_is_current(campaign):
    rows, opinions, _ = campaign
    f = compute(rows, opinions)["figures"]
    assert f["issues.stale"] == 0
    assert f["rate.on_time"] == f["rate.on_time_current"]
    assert f["issues.deadline_extended"] == 0
    assert f["issues.overdue_first_deadline"] == f["issues.overdue"]


@st.composite
def extended_deadlines(draw):
    """Issues with history in which every deadline was only ever moved later, never removed."""
    rows, opinions, _ = draw(campaigns())
    dated = [row for row in rows if row["deadline"] is not None]
    earlier = []
    for days_before in (90, 30):
        past = [dict(issue_id=row["issue_id"], status="in_progress",
                     deadline=row["deadline"] - dt.timedelta(days=draw(st.integers(0, 60))))
                for row in dated if draw(st.booleans())]
        earlier.append((AS_OF - dt.timedelta(days=days_before), past))
    return rows, opinions, earlier


@FAST
@given(extended_deadlines())
def test_on_time_against_first_deadline_never_beats_current(campaign):
    rows, opinions, earlier = campaign
    f = compute(rows, opinions, history_entries=earlier)["figures"]
    if f["rate.on_time"] is not None:
        assert f["rate.on_time"] <= f["rate.on_time_current"]
    assert (f["issues.overdue_first_deadline"] or 0) >= (f["issues.overdue"] or 0)


@FAST
@given(campaigns(), st.data())
def test_a_snapshot_with_earlier_deadlines_never_raises_on_time(campaign, data):
    rows, opinions, earlier = campaign
    before = compute(rows, opinions, history_entries=earlier)
    first = history.first_deadlines(history.issue_records(issues_frame(rows)),
                                    [history.past_snapshot(when, issues_frame(past))
                                     for when, past in earlier])
    # The new snapshot shows deadlines no later than the first one known so far: the
    # current deadline is then an extension of it.
    added = [dict(issue_id=issue_id, status="open",
                  deadline=deadline - dt.timedelta(days=data.draw(st.integers(0, 30))))
             for issue_id, deadline in sorted(first.items()) if data.draw(st.booleans())]
    position = data.draw(st.integers(0, len(earlier)))
    when = AS_OF - dt.timedelta(days=250) if position == 0 else earlier[position - 1][0]
    more = earlier[:position] + [(when, added)] + earlier[position:]
    after = compute(rows, opinions, history_entries=more)["figures"]
    assert after["issues.done_with_deadline"] == before["figures"]["issues.done_with_deadline"]
    if before["figures"]["rate.on_time"] is not None:
        assert after["rate.on_time"] <= before["figures"]["rate.on_time"]


@FAST
@given(campaigns(), st.data())
def test_a_claim_of_the_computed_figure_matches(campaign, data):
    rows, opinions, earlier = campaign
    plain = compute(rows, opinions, history_entries=earlier)
    candidates = sorted(key for key, value in plain["figures"].items() if value is not None)
    metric = data.draw(st.sampled_from(candidates))
    value = plain["figures"][metric]
    stated = float(claim_check.claim_value(figures.kind(metric), value))
    claimed = compute(rows, opinions, history_entries=earlier,
                      claims=[{"label": "x", "metric": metric, "value": stated, "date": None,
                               "source": ""}])
    assert claimed["claims"][0]["matches"], (metric, value, stated)
    assert {k: v for k, v in claimed["figures"].items() if not k.startswith("claim.")} == plain["figures"]


@FAST
@given(campaigns())
def test_compute_does_not_change_its_inputs(campaign):
    rows, opinions, earlier = campaign
    issues, feedback = issues_frame(rows), feedback_frame(opinions)
    frames = [(when, issues_frame(past)) for when, past in earlier]
    metrics.compute(issues, feedback, as_of=AS_OF, threshold=80, stale_weeks=8, claims=[],
                    history=frames)
    pd.testing.assert_frame_equal(issues, issues_frame(rows))
    pd.testing.assert_frame_equal(feedback, feedback_frame(opinions))
    for (_, frame), (_, past) in zip(frames, earlier):
        pd.testing.assert_frame_equal(frame, issues_frame(past))


# ---- run, derive and the snapshot chain -------------------------------------------------------

def _write_snapshot(parent, snapshot_id, as_of, rows, previous=None, feedback=None, metrics_json=None):
    """A snapshot folder parent/<snapshot_id> whose manifest links to `previous` by hash."""
    folder = parent / snapshot_id
    folder.mkdir(parents=True)
    tables.write_table(issues_frame(rows), folder / "issues.csv", "issues")
    if feedback is not None:
        tables.write_table(feedback_frame(feedback), folder / "feedback.csv", "feedback")
    if metrics_json is not None:
        (folder / "metrics.json").write_text(metrics_json, encoding="utf-8")
    manifest = {"snapshot_id": snapshot_id, "as_of": as_of.isoformat(),
                "previous": {"snapshot_id": previous,
                             "manifest_sha256": manifests.manifest_hash(parent / previous)}
                if previous else None}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.fixture
def published(write_config, tmp_path):
    """A config with claims, the case tables in tables/, and the case history as two snapshots."""
    from etl.config import load_config
    # Parameters away from the defaults, so derive must take them from metrics.json.
    # The 10-31 claim is checked against the 10-15 snapshot, which had 2 items done.
    config = load_config(write_config(
        stale_weeks=16, satisfaction_threshold=85, replies={"prompt_days": 5},
        ranking={"min_items": 2, "size": 1}, claims=[
        {"label": "已整改", "metric": "issues.done", "value": 2, "date": D(2026, 10, 31),
         "source": "报告"},
        {"label": "完成率", "metric": "rate.completion", "value": 33.3}]))
    tables.write_table(issues_frame(CASE_ISSUES), config.work_dir / "tables" / "issues.csv", "issues")
    tables.write_table(feedback_frame(CASE_FEEDBACK), config.work_dir / "tables" / "feedback.csv",
                       "feedback")
    (older_when, older_rows, older_id), (newer_when, newer_rows, newer_id) = CASE_HISTORY
    _write_snapshot(config.snapshots_dir, older_id, older_when, older_rows)
    _write_snapshot(config.snapshots_dir, newer_id, newer_when, newer_rows, previous=older_id)
    return config


def test_run_writes_metrics_json(published):
    path = metrics.run(published)
    assert path == published.work_dir / "metrics.json"
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and "住建局" in text
    written = json.loads(text)
    assert written["figures"]["rate.on_time"] == 0.5  # the history was read in chain order
    assert written["lists"]["stale"] == []  # 111 days unchanged is under 16 weeks
    assert written["parameters"] == {"satisfaction_threshold": 85, "stale_weeks": 16,
                                     "reply_prompt_days": 5, "reply_limit_days": 15,
                                     "ranking_min_items": 2, "ranking_size": 1}
    # 未填写 (4 items) and 住建局 (3) reach 2 items; 教育局 (2) too: three eligible, one a side.
    assert len(written["ranking"]["eligible"]) == 3 and len(written["ranking"]["top"]) == 1
    assert written["figures"]["satisfaction.satisfied"] == 1
    assert [s["snapshot_id"] for s in written["series"]["snapshots"]] == [
        "2026-08-01-aaaaaaaa", "2026-10-15-bbbbbbbb", None]
    assert [(c["claimed"], c["matches"], c["date"]) for c in written["claims"]] == [
        (2, True, "2026-10-31"), (33.3, True, None)]
    assert metrics.run(published).read_text(encoding="utf-8") == text


def test_derive_reproduces_what_run_wrote(published, tmp_path):
    text = metrics.run(published).read_text(encoding="utf-8")
    snapshots = manifests.chain(published.snapshots_dir)
    current = tmp_path / "current"
    current.mkdir()
    for name in ("issues.csv", "feedback.csv"):
        shutil.copy(published.work_dir / "tables" / name, current / name)
    (current / "metrics.json").write_text(text, encoding="utf-8")
    assert metrics.to_json(metrics.derive(snapshots + [current])) == text
    # A figure changed after the fact no longer matches what the data says.
    tables.write_table(issues_frame(CASE_ISSUES[:-1]), current / "issues.csv", "issues")
    assert metrics.derive(snapshots + [current])["figures"] != json.loads(text)["figures"]


def test_derive_without_feedback_counts_no_opinions(tmp_path):
    rows = [dict(issue_id="1", status="done")]
    result = compute(rows)
    folder = _write_snapshot(tmp_path, "s", AS_OF, rows, metrics_json=metrics.to_json(result))
    assert metrics.derive([folder]) == json.loads(metrics.to_json(result))


# ---- reply speed, scorecards, ranking, claims at their own date -------------------------------

REPLY_FEEDBACK = [  # days from receipt to reply: 3, 7, 10, 20; one not replied; one undated
    dict(feedback_id="a", channel="信箱", unit="住建局", replied=True,
         received_on=D(2026, 10, 1), replied_on=D(2026, 10, 4)),
    dict(feedback_id="b", channel="信箱", unit="住建局", replied=True,
         received_on=D(2026, 10, 1), replied_on=D(2026, 10, 8)),
    dict(feedback_id="c", channel="热线", unit="教育局", replied=True,
         received_on=D(2026, 10, 1), replied_on=D(2026, 10, 11)),
    dict(feedback_id="d", channel="热线", unit="教育局", replied=True,
         received_on=D(2026, 10, 1), replied_on=D(2026, 10, 21)),
    dict(feedback_id="e", channel="热线", unit="教育局", replied=False,
         received_on=D(2026, 10, 1)),
    dict(feedback_id="f", channel="热线", replied=True, replied_on=D(2026, 10, 2)),
]


def test_reply_speed_whole_channel_and_unit():
    result = compute(CASE_ISSUES, REPLY_FEEDBACK)
    f = result["figures"]
    # Median of 3, 7, 10, 20 is 8.5; five opinions have a receipt date: 2 within 7 days,
    # 3 within 15 (the one not replied counts against both; the undated one is not counted).
    assert f["days.median_to_reply"] == 8.5
    assert f["rate.reply_prompt"] == 2 / 5
    assert f["rate.reply_in_limit"] == 3 / 5
    hotline = f"channel.{slug('channel', '热线')}"
    assert (f[f"{hotline}.days.median_to_reply"], f[f"{hotline}.rate.reply_prompt"],
            f[f"{hotline}.rate.reply_in_limit"]) == (15, 0.0, 1 / 3)
    housing = f"unit.{slug('unit', '住建局')}"
    assert (f[f"{housing}.feedback.total"], f[f"{housing}.rate.reply"],
            f[f"{housing}.days.median_to_reply"], f[f"{housing}.rate.reply_prompt"]) == (2, 1.0, 5, 1.0)
    # Other limits are a setting, recorded in the parameters.
    strict = metrics.compute(
        issues_frame(CASE_ISSUES), feedback_frame(REPLY_FEEDBACK), as_of=AS_OF, threshold=80,
        stale_weeks=8, claims=[], history=[],
        settings={"reply_prompt_days": 3, "reply_limit_days": 10})
    assert strict["figures"]["rate.reply_prompt"] == 1 / 5
    assert strict["figures"]["rate.reply_in_limit"] == 3 / 5
    assert strict["parameters"]["reply_prompt_days"] == 3


def test_no_reply_dates_give_no_reply_speed(case):
    assert case["figures"]["days.median_to_reply"] is None
    assert case["figures"]["rate.reply_prompt"] is None


def test_unit_change_since_the_last_publish():
    before = [dict(issue_id="1", status="in_progress", unit="住建局", deadline=D(2026, 9, 1)),
              dict(issue_id="2", status="done", unit="住建局"),
              dict(issue_id="4", status="open", unit="住建局", deadline=D(2026, 9, 1))]
    result = compute(CASE_ISSUES, history_entries=[(D(2026, 10, 1), before, "2026-10-01-x")])
    figures_of = {g["name"]: g["figures"] for g in result["groups"]["unit"]}
    # 住建局 then: 1 done (item 2), 2 overdue on 10-01 (items 1 and 4, deadline 09-01); now
    # 2 done, 0 overdue. 教育局 had nothing then; item 4 has moved to it and is overdue now.
    assert (figures_of["住建局"]["change.done"], figures_of["住建局"]["change.overdue"]) == (1, -2)
    assert (figures_of["教育局"]["change.done"], figures_of["教育局"]["change.overdue"]) == (1, 1)
    first = compute(CASE_ISSUES)
    assert all(g["figures"]["change.done"] is None for g in first["groups"]["unit"])


def test_ranking_takes_only_units_with_enough_items():
    rows = []
    for unit, done, total in (("甲", 9, 10), ("乙", 5, 10), ("丙", 8, 10), ("丁", 1, 10),
                              ("戊", 1, 2)):
        rows += [dict(issue_id=f"{unit}{n}", unit=unit, status="done" if n < done else "open")
                 for n in range(total)]
    result = metrics.compute(issues_frame(rows), feedback_frame([]), as_of=AS_OF, threshold=80,
                             stale_weeks=8, claims=[], history=[],
                             settings={"ranking_min_items": 10, "ranking_size": 3})
    ranking = result["ranking"]
    names = {g["slug"]: g["name"] for g in result["groups"]["unit"]}
    # 戊 has 2 items, under the minimum of 10; four eligible units give two on each list.
    assert [names[s] for s in ranking["eligible"]] == ["甲", "丙", "乙", "丁"]
    assert [names[s] for s in ranking["top"]] == ["甲", "丙"]
    assert [names[s] for s in ranking["bottom"]] == ["丁", "乙"]
    assert (ranking["min_items"], ranking["size"]) == (10, 3)
    default = compute(rows)["ranking"]
    assert default["eligible"] == [] and default["min_items"] == 20


def test_a_claim_is_checked_against_the_snapshot_of_its_date():
    history_entries = [
        (D(2026, 9, 30), [dict(issue_id="1", status="done")], "2026-09-30-a",
         feedback_frame([dict(feedback_id="a", channel="信箱")])),
        (D(2026, 10, 31), [dict(issue_id="1", status="done"), dict(issue_id="2", status="done")],
         "2026-10-31-b", feedback_frame([dict(feedback_id=x, channel="信箱") for x in "abc"])),
    ]
    claims = [
        {"label": "已整改", "metric": "issues.done", "value": 2, "date": "2026-10-31"},
        {"label": "已整改", "metric": "issues.done", "value": 2, "date": D(2026, 11, 5)},
        {"label": "意见", "metric": "feedback.total", "value": 1, "date": D(2026, 10, 1)},
        {"label": "已整改", "metric": "issues.done", "value": 3, "date": "2026-11-20"},
        {"label": "太早", "metric": "issues.done", "value": 1, "date": "2026-01-01"},
        {"label": "入户走访", "metric": "", "value": 3000, "date": "2026-10-31"},
    ]
    result = compute(CASE_ISSUES, history_entries=history_entries, claims=claims)
    checked = [(c["computed"], c["matches"], c["checked_as_of"], c["reported_only"])
               for c in result["claims"]]
    assert checked == [
        (2, True, "2026-10-31", False),   # the 10-31 snapshot had 2 done; today 3
        (2, True, "2026-10-31", False),   # 11-05: the newest snapshot on or before it
        (1, True, "2026-09-30", False),   # that snapshot's own feedback table
        (3, True, "2026-11-20", False),   # today's claim, today's figures
        (None, False, None, False),       # older than every snapshot: cannot be checked
        (None, False, None, True),        # no metric: reported only
    ]
    assert result["claims"][0]["checked_snapshot"] == "2026-10-31-b"
    assert result["figures"]["claim.6.claimed"] == 3000


def test_closures_that_are_not_fixes_are_counted_apart_and_shown_in_the_funnel():
    rows = [dict(issue_id="1", status="done", deadline=D(2026, 6, 30), completed_on=D(2026, 6, 1)),
            dict(issue_id="2", status="explained", deadline=D(2026, 6, 30)),
            dict(issue_id="3", status="not_adopted", deadline=D(2026, 6, 30)),
            dict(issue_id="4", status="merged", deadline=D(2026, 6, 30)),
            dict(issue_id="5", status="merged", deadline=D(2026, 6, 30)),
            dict(issue_id="6", status="transferred"),
            dict(issue_id="7", status="open", deadline=D(2026, 6, 30))]
    result = compute(rows)
    f = result["figures"]
    assert (f["issues.explained"], f["issues.not_adopted"], f["issues.merged"],
            f["issues.transferred"], f["issues.closed_not_fixed"]) == (1, 1, 2, 1, 5)
    # Never rectified: done, the completion rate and the rectified funnel stage count item 1 only.
    assert f["issues.done"] == f["issues.rectified"] == 1 and f["rate.completion"] == 1 / 7
    # Closed, so never overdue and no deadline bucket: only item 7 is overdue.
    assert f["issues.overdue"] == 1 and result["lists"]["overdue"] == ["7"]
    assert f["deadline.none"] == 0
    assert result["funnel"][-2:] == [{"stage": "rectified", "value": 1},
                                     {"stage": "closed_not_fixed", "value": 5}]
    [unit] = result["groups"]["unit"]
    assert unit["figures"]["merged"] == 2 and unit["figures"]["done"] == 1


def test_closure_status_words_map_to_their_codes():
    words = {schema.status_key(word): status for word, status in schema.DEFAULT_STATUS_WORDS.items()}
    assert [words[schema.status_key(w)] for w in ("解释说明", "不予采纳", "合并办理", "移交", "合併")] \
        == ["explained", "not_adopted", "merged", "transferred", "merged"]
    assert set(schema.CLOSURES) <= set(schema.DEFAULT_STATUS_WORDS.values())
    assert all(figures.DEFINITIONS[f"issues.{s}"] and figures.LABELS_EN[f"issues.{s}"]
               for s in (*schema.CLOSURES, "closed_not_fixed"))


def test_immediate_fixes_are_counted_apart_and_unknown_without_the_column():
    rows = [dict(issue_id="1", status="done", immediate=True, completed_on=D(2026, 3, 1)),
            dict(issue_id="2", status="in_progress", immediate=True),
            dict(issue_id="3", status="done", immediate=False, completed_on=D(2026, 3, 1)),
            dict(issue_id="4", status="open")]
    frame = issues_frame(rows)
    frame["immediate"] = pd.array([True, True, False, None], dtype="boolean")  # as read_table
    result = metrics.compute(frame, feedback_frame([]), as_of=AS_OF, threshold=80, stale_weeks=8,
                             claims=[], history=[])
    f = result["figures"]
    assert (f["issues.immediate"], f["issues.immediate_done"]) == (2, 1)
    # Still counted in their own status: an immediate fix is a fix, not a status of its own.
    assert f["issues.done"] == 2 and f["issues.in_progress"] == 1
    f = compute([dict(issue_id="1", status="done")])["figures"]
    assert f["issues.immediate"] is None and f["issues.immediate_done"] is None

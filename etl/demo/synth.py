"""Deterministic synthetic campaign: a county's 作风建设 lists, exported the way offices export them."""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

from etl.demo.model import Campaign, Feedback, Issue  # noqa: F401  (re-exported)
from etl.demo.synth_export import (  # noqa: F401  (re-exported for tests and bench)
    FEEDBACK_FILE, FEEDBACK_HEADERS, ISSUE_HEADERS, ISSUES_FILE, issue_state, write_export)
from etl.demo.synth_phrases import (
    ANONYMOUS_CHANNELS, AREAS, CHANNELS, CLOSURE_NOTES, CLOSURE_WORDS, COMMUNITIES, COUNTY_WIDE,
    FAKE_MOBILE_PREFIXES, FEEDBACK_ASKS, FEEDBACK_OPENINGS, GENERAL_MEASURES, GIVEN_NAMES,
    NUMBERING, RESULT_CHECKS, RESULT_LEADS, ROADS, SCHOOLS, SECTOR_UNITS, SERVICES, STATUS_WORDS,
    STYLE_CATEGORIES, SURNAMES, TEMPLATES, TOPIC_ISSUES, VILLAGES)

DEFAULT_AS_OF = dt.date(2026, 11, 20)
DEFAULT_SEED = 2026
CAMPAIGN_DAYS = 264  # 2026-03-01 .. 2026-11-20: the drive started at the beginning of March
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643 check digit


def _weighted(rng: random.Random, pairs) -> str:
    words, weights = zip(*pairs)
    return rng.choices(words, weights)[0]


def _month_end(day: dt.date) -> dt.date:
    first_of_next = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first_of_next - dt.timedelta(days=1)


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return _month_end(dt.date(index // 12, index % 12 + 1, 1))


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def fake_mobile(rng: random.Random) -> str:
    return rng.choice(FAKE_MOBILE_PREFIXES) + f"{rng.randrange(1000):03d}"


def fake_id_number(rng: random.Random) -> str:
    """A well-formed 18-character resident ID (valid check digit) for an invented person."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(18000))
    body = "110101" + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, ID_WEIGHTS))
    return body + "10X98765432"[total % 11]


def _town_unit(area: str) -> str:
    return area + ("办事处" if area.endswith("街道") else "人民政府")


def all_units() -> list[str]:
    return [u for pool in SECTOR_UNITS.values() for u in pool] + [_town_unit(a) for a in AREAS]


def _numbered(parts: list[str]) -> str:
    return "；".join(f"{NUMBERING[i]}是{part}" for i, part in enumerate(parts)) + "。"


def _place(rng: random.Random, pool: str, units: list[str]) -> tuple[str, str]:
    """Area and responsible unit for a template's units: named ones, "乡镇" or "任意"."""
    area = rng.choice(AREAS)
    if pool == "乡镇":
        return area, _town_unit(area)
    if pool != "任意":
        return area, rng.choice(pool.split("、"))
    unit = rng.choice(units)
    if unit.endswith(("人民政府", "办事处")):
        return unit.removesuffix("人民政府").removesuffix("办事处"), unit
    # A county department's conduct is often nobody's township in particular.
    return (COUNTY_WIDE if rng.random() < 0.5 else area), unit


def _describe(rng: random.Random, template: str, area: str, unit: str) -> str:
    local = "" if area == COUNTY_WIDE else area
    return template.format(area=local, unit=unit, village=local + rng.choice(VILLAGES),
                           road=rng.choice(ROADS), community=rng.choice(COMMUNITIES),
                           service=rng.choice(SERVICES), school=rng.choice(SCHOOLS),
                           topic_issue=rng.choice(TOPIC_ISSUES))


def _make_issue(rng: random.Random, start: dt.date, as_of: dt.date, units: list[str]) -> Issue:
    category, pool, topic, template, own_measures, target = rng.choice(TEMPLATES)
    area, unit = _place(rng, pool, units)
    description = _describe(rng, template, area, unit)
    # The item's own measures first, then the general ones rectification reports add.
    general = GENERAL_MEASURES["作风" if category in STYLE_CATEGORIES else "行业"]
    steps = own_measures.split("；") + rng.sample(general, rng.randint(1, 2))
    measures = _numbered(steps[:len(NUMBERING)])
    span = (as_of - start).days
    identified = start + dt.timedelta(days=10 + int((span - 25) * rng.random() ** 1.4))
    # 长期坚持 is mostly how conduct problems are answered; works projects get a date.
    long_term = rng.random() < (0.12 if category in STYLE_CATEGORIES else 0.03)
    deadline = None
    if not long_term:
        deadline = _month_end(identified + dt.timedelta(days=rng.randint(30, 170)))
        if rng.random() < 0.4:  # many offices promise by the end of a quarter
            while deadline.month % 3:
                deadline = _month_end(deadline + dt.timedelta(days=1))
    started = identified + dt.timedelta(days=rng.randint(2, 20))
    if rng.random() < 0.05:  # a slow starter: still 未启动 at some exports
        started = identified + dt.timedelta(days=rng.randint(40, 220))
    completed = None
    if deadline is not None:
        # Most finish before the deadline; a late minority is what "overdue" lists are made of.
        fraction = rng.uniform(0.15, 1.0) if rng.random() < 0.8 else rng.uniform(1.0, 2.0)
        completed = identified + dt.timedelta(days=int((deadline - identified).days * fraction))
        completed = max(completed, started + dt.timedelta(days=rng.randint(5, 30)))
        if completed >= as_of:
            completed = None
    score = scored_on = None
    rework_status = False
    result = final_reply = ""
    final_on = None
    if completed is not None:
        result = f"{rng.choice(RESULT_LEADS)}，{rng.choice(RESULT_CHECKS)}。"
        final_on = completed + dt.timedelta(days=rng.randint(1, 10))
        final_reply = (f"您反映的{topic}问题，{unit}已按整改措施落实，{result[:-1]}。"
                       "感谢您对我县作风建设工作的关心和支持。")
        if rng.random() < 0.95:
            scored_on = completed + dt.timedelta(days=rng.randint(3, 20))
            low = rng.random() < 0.07
            score = rng.randint(55, 79) if low else round(rng.triangular(80, 100, 96))
            rework_status = low and rng.random() < 0.5
    interim_on = None
    interim_reply = ""
    if rng.random() < 0.6:
        interim_on = started + dt.timedelta(days=rng.randint(3, 15))
        when = f"将于{deadline.year}年{deadline.month}月底前完成" if deadline else "将长期坚持、常抓不懈"
        interim_reply = f"您反映的{topic}问题已列入整改清单，{unit}正在按计划推进，{when}。"
    words = {status: _weighted(rng, pairs) for status, pairs in STATUS_WORDS.items()}
    return Issue("", category, topic, description, area, unit, _name(rng), "", identified,
                 measures, target, deadline, deadline, None, started, completed, result, score,
                 scored_on, rework_status, interim_reply, interim_on, final_reply, final_on, words,
                 rng.randrange(100))


def _extend_deadlines(rng: random.Random, issues: list[Issue], as_of: dt.date) -> None:
    """Give ~5% of items an earlier first deadline that was quietly pushed back later on."""
    wanted = max(1, round(len(issues) * 0.05))
    order = list(range(len(issues)))
    rng.shuffle(order)
    for index in order:
        if wanted == 0:
            break
        issue = issues[index]
        if issue.deadline is None:
            continue
        first = _months_before(issue.deadline, rng.randint(1, 3))
        # Extended within the last ~80 days, so earlier exports still show the first deadline.
        if not (issue.identified + dt.timedelta(days=30) <= first < as_of
                and first >= as_of - dt.timedelta(days=80)):
            continue
        if issue.completed is not None and issue.completed <= first:
            continue
        extended = first + dt.timedelta(days=rng.randint(-15, 10))
        issue.first_deadline = first
        issue.extended_on = min(max(extended, as_of - dt.timedelta(days=75)),
                                as_of - dt.timedelta(days=1))
        wanted -= 1


def _close_without_fix(issues: list[Issue], seed: int, as_of: dt.date) -> None:
    """Close a few pending items without a fix (解释说明, 不予采纳, 合并, 移交).

    Its own random stream, so the rest of the campaign is the same with or without them;
    closed within the last ~70 days, so earlier exports still show most of them as pending.
    """
    rng = random.Random(f"gongshi-synth-closures:{seed}:{as_of.isoformat()}:{len(issues)}")
    wanted = max(1, round(len(issues) * 0.008))
    candidates = [index for index, issue in enumerate(issues)
                  if issue.completed is None and issue.deadline is not None
                  and issue.extended_on is None and issue.identified < as_of - dt.timedelta(days=40)]
    picked = rng.sample(candidates, min(len(candidates), wanted * len(CLOSURE_NOTES)))
    for number, index in enumerate(picked):
        issue = issues[index]
        closure = list(CLOSURE_NOTES)[number % len(CLOSURE_NOTES)]
        issue.closure = closure
        issue.closed_on = max(issue.started + dt.timedelta(days=rng.randint(3, 20)),
                              as_of - dt.timedelta(days=rng.randint(1, 70)))
        issue.closed_on = min(issue.closed_on, as_of - dt.timedelta(days=1))
        issue.closure_note = rng.choice(CLOSURE_NOTES[closure]).format(unit=issue.unit)
        issue.words[closure] = _weighted(rng, CLOSURE_WORDS[closure])
        if closure == "merged":  # joins an item listed before it, of the same unit where one is
            earlier = [other for other in issues[:index] if not other.closure]
            same = [other for other in earlier if other.unit == issue.unit] or earlier
            issue.merged_into = rng.choice(same).issue_id if same else ""
            if not issue.merged_into:
                issue.closure, issue.closed_on, issue.closure_note = "", None, ""


def _mark_immediate(issues: list[Issue], seed: int, as_of: dt.date) -> None:
    """Flag ~4% of items 立行立改: those finished within a month of being listed, mostly.

    Its own random stream, like the closures, so the rest of the campaign stays the same.
    """
    rng = random.Random(f"gongshi-synth-immediate:{seed}:{as_of.isoformat()}:{len(issues)}")
    quick = [issue for issue in issues if not issue.closure and issue.completed is not None
             and (issue.completed - issue.identified).days <= 30]
    for issue in rng.sample(quick, min(len(quick), round(len(issues) * 0.04))):
        issue.immediate = True


def _make_feedback(rng: random.Random, issue: Issue | None, start: dt.date, as_of: dt.date,
                   units: list[str]) -> Feedback:
    channels = list(CHANNELS.items())
    if issue is not None:
        received = max(start, issue.identified - dt.timedelta(days=rng.randint(1, 30)))
        channel = issue.channel if issue.channel and rng.random() < 0.6 else _weighted(rng, channels)
        area = issue.area if issue.area != COUNTY_WIDE else rng.choice(AREAS)
        unit, body = issue.unit, issue.description
    else:
        span = (as_of - start).days
        received = start + dt.timedelta(days=int((span - 1) * rng.random() ** 1.3))
        _, pool, _, template, _, _ = rng.choice(TEMPLATES)
        area, unit = _place(rng, pool, units)
        area = rng.choice(AREAS) if area == COUNTY_WIDE else area
        channel, body = _weighted(rng, channels), _describe(rng, template, area, unit)
    opening = rng.choice(FEEDBACK_OPENINGS).format(area=area, village=area + rng.choice(VILLAGES))
    ask = rng.choice(FEEDBACK_ASKS)
    text = f"{opening}{body}，{ask}" if ask else f"{opening}{body}。"
    if rng.random() < 0.06:  # people write their contact details into the free text
        text += rng.choice([f"联系电话：{fake_mobile(rng)}。", f"我的身份证号是{fake_id_number(rng)}。",
                            f"手机{fake_mobile(rng)}，盼回复。",
                            f"座机0319-5550{rng.randrange(1000):03d}。",
                            f"邮箱qh{rng.randrange(10, 99)}@example.com。"])
    if channel in ANONYMOUS_CHANNELS or rng.random() < 0.12:
        complainant, contact = "匿名", ""
    else:
        complainant, contact = _name(rng), fake_mobile(rng)
    replied_on = None
    if rng.random() < 0.79:
        replied_on = received + dt.timedelta(days=1 + int(rng.expovariate(1 / 9)))
        if replied_on > as_of:
            replied_on = None
    return Feedback(received, channel, area, unit, replied_on, issue.issue_id if issue else "",
                    text, complainant, contact, rng.randrange(100))


def make_campaign(issues: int = 600, feedback: int = 1300, *, seed: int = DEFAULT_SEED,
                  as_of: dt.date = DEFAULT_AS_OF) -> Campaign:
    """The whole campaign from a seed alone: same arguments, same campaign."""
    rng = random.Random(f"gongshi-synth:{seed}:{as_of.isoformat()}:{issues}:{feedback}")
    start = as_of - dt.timedelta(days=CAMPAIGN_DAYS)
    units = all_units()
    items = [_make_issue(rng, start, as_of, units) for _ in range(issues)]
    items.sort(key=lambda item: item.identified)  # ids follow the order items entered the list
    width = max(4, len(str(issues)))
    for number, item in enumerate(items, start=1):
        item.issue_id = f"QH-{start.year}-{number:0{width}d}"
        item.channel = _weighted(rng, list(CHANNELS.items()))
    _extend_deadlines(rng, items, as_of)
    _close_without_fix(items, seed, as_of)
    _mark_immediate(items, seed, as_of)

    linked_total = min(feedback, max(issues, round(feedback * 0.9)))
    counts = [1 if index < linked_total else 0 for index in range(issues)]
    popularity = [rng.paretovariate(1.6) for _ in range(issues)]
    for index in rng.choices(range(issues), popularity, k=max(0, linked_total - issues)):
        counts[index] += 1
    opinions = []
    for item, count in zip(items, counts):
        item.feedback_count = count
        opinions += [_make_feedback(rng, item, start, as_of, units) for _ in range(count)]
    opinions += [_make_feedback(rng, None, start, as_of, units)
                 for _ in range(feedback - len(opinions))]
    opinions.sort(key=lambda opinion: opinion.received)
    width = max(5, len(str(feedback)))
    for number, opinion in enumerate(opinions, start=1):
        opinion.feedback_id = f"YJ-{start.year}-{number:0{width}d}"
    return Campaign(as_of, items, opinions)


def default_history(as_of: dt.date) -> list[dt.date]:
    """Month-ends of the three months before the as-of month: the office's monthly exports."""
    return [_months_before(as_of, months) for months in (3, 2, 1)]


def generate(out: Path, *, issues: int = 600, feedback: int = 1300, seed: int = DEFAULT_SEED,
             as_of: dt.date = DEFAULT_AS_OF, history: list[dt.date] = (),
             history_out: Path | None = None) -> dict:
    """Write the current export into `out` and each earlier one into history_out/<date>/."""
    late = [day.isoformat() for day in history if day >= as_of]
    if late:  # checked before writing anything, so a typo leaves no half-written exports
        raise ValueError(f"--history: {', '.join(late)} is not before the as-of date {as_of}")
    campaign = make_campaign(issues, feedback, seed=seed, as_of=as_of)
    written = {as_of.isoformat(): write_export(campaign, as_of, Path(out))}
    history_root = Path(history_out) if history_out else Path(out).parent / "history"
    for day in sorted(history):
        written[day.isoformat()] = write_export(campaign, day, history_root / day.isoformat())
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--issues", type=int, default=600, help="number of issues (default 600)")
    parser.add_argument("--feedback", type=int, default=1300, help="number of opinions (default 1300)")
    parser.add_argument("--out", default="site_data/sources", help="folder for the current export")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"default {DEFAULT_SEED}")
    parser.add_argument("--as-of", default=DEFAULT_AS_OF.isoformat(), help="export date YYYY-MM-DD")
    parser.add_argument("--history", metavar="DATE,DATE,...",
                        help="also write earlier exports at these dates (default with "
                             "--history-out: the last three month-ends)")
    parser.add_argument("--history-out", metavar="DIR",
                        help="folder for earlier exports, one subfolder per date "
                             "(default: history/ next to --out)")


def run_cli(args) -> None:
    from etl.errors import ConfigError

    try:
        as_of = dt.date.fromisoformat(args.as_of)
        history = [dt.date.fromisoformat(part.strip()) for part in args.history.split(",")
                   if part.strip()] if args.history else []
    except ValueError as error:
        raise ConfigError([f"synth: {error}; write dates like 2026-11-20"])
    if args.history_out and not args.history:
        history = default_history(as_of)
    if args.issues < 1 or args.feedback < 0:
        raise ConfigError(["synth: --issues must be at least 1 and --feedback at least 0"])
    try:
        written = generate(Path(args.out), issues=args.issues, feedback=args.feedback,
                           seed=args.seed, as_of=as_of, history=history,
                           history_out=Path(args.history_out) if args.history_out else None)
    except ValueError as error:
        raise ConfigError([f"synth: {error}"])
    for day, counts in sorted(written.items()):
        print(f"{day}: {counts['issues']} issues, {counts['feedback']} opinions")

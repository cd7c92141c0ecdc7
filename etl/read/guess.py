"""Guess a source's config from its headers and values: columns, status words, dates, personal data.

Used by `python -m etl init`. Every guess says why it was made, so staff can confirm it; the
rules are deliberately few and plain (names first, then keywords, then what the values look
like), because a wrong guess that looks certain is worse than a question.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from etl import schema
from etl.read.table import RawTable, header_key
from etl.read.values import parse_date

# English names of 311 open-data exports (NYC spelling, Socrata API spelling alike once
# compared by header_key), Open311 GeoReport v2 fields and common English exports.
ENGLISH_COLUMNS: dict[str, dict[str, str]] = {
    "issues": {
        "Unique Key": "issue_id", "service_request_id": "issue_id", "Request ID": "issue_id",
        "Case ID": "issue_id", "Ticket ID": "issue_id", "ID": "issue_id",
        "Descriptor": "description", "Description": "description", "Details": "description",
        "Summary": "title", "Subject": "title",
        "Complaint Type": "category", "service_name": "category", "Service Name": "category",
        "Request Type": "category", "Category": "category", "Type": "category",
        "Borough": "area", "zipcode": "area", "District": "area", "Neighborhood": "area",
        "Agency": "unit", "agency_responsible": "unit", "Department": "unit",
        "Responsible Agency": "unit", "Assigned To": "unit",
        "Created Date": "identified_on", "requested_datetime": "identified_on",
        "Opened": "identified_on", "Date Opened": "identified_on", "Received": "identified_on",
        "Due Date": "deadline", "expected_datetime": "deadline", "Target Date": "deadline",
        "Status": "status", "State": "status",
        "Closed Date": "completed_on", "Closed": "completed_on", "Date Closed": "completed_on",
        "Resolution Description": "result", "status_notes": "result", "Resolution": "result",
        "Open Data Channel Type": "channel", "Source": "channel", "Channel": "channel",
    },
    "feedback": {
        "Feedback ID": "feedback_id", "Received": "received_on", "Channel": "channel",
        "Source": "channel", "Department": "unit", "Replied": "replied",
    },
}

# Header keywords, tried in order when no name matches: (keyword, field) per table.
KEYWORDS: dict[str, tuple[tuple[str, str], ...]] = {
    "issues": (("编号", "issue_id"), ("序号", "issue_id"), ("标题", "title"),
               ("描述", "description"), ("问题", "description"), ("类别", "category"),
               ("类型", "category"), ("乡镇", "area"), ("街道", "area"), ("区域", "area"),
               ("单位", "unit"), ("部门", "unit"), ("渠道", "channel"), ("来源", "channel"),
               ("时限", "deadline"), ("期限", "deadline"), ("进展", "status"),
               ("状态", "status"), ("进度", "status"), ("完成时间", "completed_on"),
               ("办结时间", "completed_on"), ("完成日期", "completed_on"), ("措施", "measures"),
               ("目标", "target"), ("满意", "satisfaction"), ("答复日期", "replied_on"),
               ("答复", "reply"), ("日期", "identified_on")),
    "feedback": (("编号", "feedback_id"), ("日期", "received_on"), ("渠道", "channel"),
                 ("来源", "channel"), ("乡镇", "area"), ("区域", "area"), ("单位", "unit"),
                 ("答复", "replied"), ("内容", "text")),
}

# Headers that hold a person's name, contact or home: never published. (keyword, what)
PERSONAL_HEADERS = (
    ("姓名", "a name"), ("反映人", "a name"), ("举报人", "a name"), ("投诉人", "a name"),
    ("来信人", "a name"), ("责任人", "a name"), ("联系", "contact details"), ("电话", "a phone"),
    ("手机", "a phone"), ("身份证", "an ID number"), ("住址", "an address"),
    ("地址", "an address"), ("邮箱", "an e-mail"), ("address", "an address"),
    ("street", "an address"), ("intersection", "an address"), ("latitude", "a location"),
    ("longitude", "a location"), ("location", "a location"), ("coordinate", "a location"),
    ("bbl", "a property number"), ("phone", "a phone"), ("email", "an e-mail"),
    ("contact", "contact details"), ("name", "a name"),
)
# Column names that contain a personal keyword but say nothing personal.
NOT_PERSONAL = ("agency name", "service_name", "location type", "park facility name")
PERSONAL_VALUES = ((re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "phone numbers"),
                   (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "ID numbers"),
                   (re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"), "e-mail addresses"))

DATE_FIELDS = {name for table in schema.TABLES.values() for name in
               (f.name for f in table if f.type == "date")}
# strptime forms tried on date columns, most specific first.
DATE_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S",
                "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y",
                "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d",
                "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")

# Status words not in the vocabulary: keyword -> proposed status, first hit wins.
STATUS_HINTS = (("基本", "in_progress"), ("部分", "in_progress"), ("返工", "rework"), ("重新", "rework"), ("reopen", "rework"),
                ("长期", "long_term"), ("持续", "long_term"), ("ongoing", "long_term"),
                ("未", "open"), ("待", "open"), ("open", "open"), ("new", "open"),
                ("完成", "done"), ("办结", "done"), ("销号", "done"), ("到位", "done"),
                ("resolved", "done"), ("complete", "done"), ("closed", "done"),
                ("中", "in_progress"), ("推进", "in_progress"), ("progress", "in_progress"),
                ("assigned", "in_progress"), ("pending", "in_progress"))


@dataclass
class Guess:
    """What init proposes for one source table; `confirm` lists what staff must check."""

    table: str
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)  # header -> (field, why)
    unmapped: list[str] = field(default_factory=list)
    personal: dict[str, str] = field(default_factory=dict)  # header -> what it holds
    statuses: dict[str, tuple[str, bool]] = field(default_factory=dict)  # word -> (status, known)
    date_formats: dict[str, list[str]] = field(default_factory=dict)  # format -> headers
    date_forms_understood: list[str] = field(default_factory=list)  # headers read as they are
    aliases: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (canonical, sure)
    latest_date: dt.date | None = None
    confirm: list[str] = field(default_factory=list)


def _name_lookup(table: str) -> dict[str, str]:
    lookup = {header_key(h): f for h, f in ENGLISH_COLUMNS[table].items()}
    lookup.update({header_key(h): f for h, f in schema.DEFAULT_COLUMNS[table].items()})
    return lookup


def table_of(headers: list[str]) -> str:
    """issues or feedback: the table whose names match more headers (issues on a tie)."""
    keys = {header_key(h) for h in headers}
    score = {table: len(keys & set(_name_lookup(table))) for table in schema.TABLES}
    feedback_key = {header_key(h) for h, f in schema.DEFAULT_COLUMNS["feedback"].items()
                    if f == "feedback_id" and h not in schema.DEFAULT_COLUMNS["issues"]}
    if keys & feedback_key and score["feedback"] >= score["issues"]:
        return "feedback"
    return "issues" if score["issues"] >= score["feedback"] else "feedback"


def _personal(header: str, values: list, by_values: bool) -> str:
    """What personal data the column holds, by its header; by its values too for a column no
    field takes (free text that is published is redacted instead, etl/privacy/redact.py)."""
    folded = header.casefold()
    if any(harmless in folded for harmless in NOT_PERSONAL):
        return ""
    for keyword, what in PERSONAL_HEADERS:
        if keyword in folded:
            return what
    if not by_values:
        return ""
    texts = [str(v) for v in values if isinstance(v, str)]
    for pattern, what in PERSONAL_VALUES:
        hits = sum(1 for text in texts if pattern.search(text))
        if texts and hits * 5 >= len(texts):  # one cell in five: a column of them, not a slip
            return what
    return ""


def guess(raw: RawTable, table: str | None = None, vocabulary: dict[str, str] | None = None
          ) -> Guess:
    """Every proposal init makes for one raw table."""
    table = table or table_of(raw.headers)
    result = Guess(table=table)
    columns_of = {position: [cells[position] for _n, cells in raw.rows if position < len(cells)
                             and cells[position] not in (None, "")]
                  for position in range(len(raw.headers))}
    names = _name_lookup(table)
    taken: dict[str, str] = {}
    unread_by_header: dict[str, tuple[str, list[str]]] = {}  # header -> (field, texts)
    for position, header in enumerate(raw.headers):
        if not header:
            continue
        values = columns_of[position]
        target, why = names.get(header_key(header)), "known name"
        personal = _personal(header, values, by_values=False)
        if target is None and not personal:
            target = next((f for keyword, f in KEYWORDS[table] if keyword in header), None)
            why = "keyword in the header"
        if target is None and not personal:
            personal = _personal(header, values, by_values=True)
        if personal:
            result.personal[header] = personal
            # Only fields that are never published may take a personal column.
            if target is None or next(f for f in schema.TABLES[table] if f.name == target).public:
                continue
        if target is None or target in taken:
            if values:
                result.unmapped.append(header)
            if target in taken:
                result.confirm.append(f"{header!r} also looks like {target}, which "
                                      f"{taken[target]!r} already gives; it is left unmapped")
            continue
        taken[target] = header
        result.columns[header] = (target, why)
        if why != "known name":
            result.confirm.append(f"column {header!r} -> {target} ({why})")
        if target == "status":
            _statuses(values, result, vocabulary or {})
        elif target == "unit":
            result.aliases = unit_aliases(values)
        if target in DATE_FIELDS:
            _dates(header, values, result, target, unread_by_header)
    _choose_formats(result, unread_by_header)
    for key_field in (schema.PRIMARY_KEYS[table],) + tuple(
            f.name for f in schema.TABLES[table] if f.required):
        if key_field not in taken:
            result.confirm.append(f"no column found for the required field {key_field}: add "
                                  f"its header under this source's columns")
    return result


def propose_status(word: str) -> str:
    folded = word.casefold()
    return next((status for keyword, status in STATUS_HINTS if keyword in folded), "open")


def _statuses(values: list, result: Guess, vocabulary: dict[str, str]) -> None:
    known = {**{schema.status_key(w): s for w, s in schema.DEFAULT_STATUS_WORDS.items()},
             **{schema.status_key(w): s for w, s in vocabulary.items()}}
    for word, _count in Counter(str(v).strip() for v in values).most_common():
        status = known.get(schema.status_key(word))
        result.statuses[word] = (status or propose_status(word), status is not None)
        if status is None:
            result.confirm.append(f"status word {word!r} -> {result.statuses[word][0]} "
                                  "(a guess from its wording)")


EVENT_FIELDS = ("identified_on", "completed_on", "replied_on", "received_on")


def _dates(header: str, values: list, result: Guess, target: str,
           unread_by_header: dict[str, tuple[str, list[str]]]) -> None:
    """Note a date column: read as written, or its values for _choose_formats."""
    unread = []
    for text in (str(v).strip() for v in values):
        try:
            day = parse_date(text)
        except ValueError:
            unread.append(text)
            continue
        if target in EVENT_FIELDS and day:
            _later(result, day)
    if unread:
        unread_by_header[header] = (target, unread)
    else:
        result.date_forms_understood.append(header)


def _later(result: Guess, day: dt.date) -> None:
    if result.latest_date is None or day > result.latest_date:
        result.latest_date = day


def _choose_formats(result: Guess, unread_by_header: dict[str, tuple[str, list[str]]]) -> None:
    """The fewest formats that read the most unread dates; never month-first and day-first
    both, since the first listed would silently read the other's dates."""
    order = list(unread_by_header)
    left = {(h, t) for h, (_target, texts) in unread_by_header.items() for t in texts}
    candidates = list(DATE_FORMATS)
    while left and candidates:
        counts = {form: sum(1 for _h, t in left if _strptime(t, form)) for form in candidates}
        best = max(candidates, key=lambda form: counts[form])  # first listed on a tie
        if counts[best] == 0:
            break
        covered = {(h, t) for h, t in left if _strptime(t, best)}
        result.date_formats[best] = sorted({h for h, _t in covered},
                                           key=order.index)
        left -= covered
        candidates.remove(best)
        if best.startswith(("%m/%d", "%d/%m")):
            swapped = "%d/%m" if best.startswith("%m/%d") else "%m/%d"
            candidates = [form for form in candidates if not form.startswith(swapped)]
            if all(_strptime(t, swapped + best[5:]) for _h, t in covered):
                result.confirm.append(f"dates read as {best} also all fit {swapped + best[5:]}"
                                      " (no day above 12 was seen): check which is meant")
        for header, text in covered:
            if unread_by_header[header][0] in EVENT_FIELDS:
                _later(result, _strptime(text, best))
    if left:
        sample = ", ".join(sorted({repr(t) for _h, t in left})[:3])
        result.confirm.append(f"{len(left)} date value(s) fit no known form (such as {sample}); "
                              "they are reported by validate")


def _strptime(text: str, form: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, form).date()
    except ValueError:
        return None


def _alias_key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name)
    return "".join(folded.split()).casefold()


def _abbreviates(short: str, long_: str) -> bool:
    """县住建局 of 县住房和城乡建设局, 县交通局 of 县交通运输局: the short name's characters in
    order inside the long one, with the same first two and last character. Names of equal
    length are never proposed: 河东街道 and 河西街道 differ by one character and are two places."""
    if len(short) < 3 or len(short) == len(long_) or len(long_) - len(short) > 6:
        return False
    if short[:2] != long_[:2] or short[-1] != long_[-1]:
        return False
    rest = iter(long_)
    return all(char in rest for char in short)


def unit_aliases(values: list) -> dict[str, tuple[str, bool]]:
    """Spelling -> (the most used spelling, sure): sure when they differ only in spaces, width or
    case; unsure when one is close to the other (a longer official name, a typo)."""
    counts = Counter(str(v).strip() for v in values if str(v).strip())
    groups: dict[str, list[str]] = {}
    # The most used spelling leads; on a tie, the one already in its plain form (no stray
    # space, half-width letters).
    ranked = sorted(counts, key=lambda n: (-counts[n], n != unicodedata.normalize(
        "NFKC", "".join(n.split()))))
    for name in ranked:
        groups.setdefault(_alias_key(name), []).append(name)
    aliases = {}
    for spellings in groups.values():
        for other in spellings[1:]:
            aliases[other] = (spellings[0], True)
    heads = [spellings[0] for spellings in groups.values()]  # most used first
    for index, name in enumerate(heads):
        for canonical in heads[:index]:
            if name in aliases or canonical in aliases:
                continue
            if _abbreviates(*sorted((name, canonical), key=len)):
                aliases[name] = (canonical, False)
    return aliases

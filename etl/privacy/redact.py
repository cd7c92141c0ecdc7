"""Find and hide personal data in free text: IDs, phones, e-mail, bank cards and person names.

Decisions (issue 5):
- Shape, not validity: anything shaped like a resident ID (18 characters, last may be x/X,
  optionally split 6-8-4 or in fours; or the old 15 digits) is hidden even with a wrong
  check digit or birth date, because a mistyped ID still identifies a person.  All-digit
  unified social credit codes of companies have the same shape and are hidden too.
- Bank cards: any unbroken run of 16-19 digits is hidden by shape (no amount, date or count
  is that long).  Cards written in groups of four ("6222 0202 0000 1234 567") are hidden when
  they pass the Luhn check or start with 62 (UnionPay); without that rule lists of years such
  as "2014 2015 2016 2017" would be hidden too.
- Runs of 20 or more digits are hidden as well: they are usually an ID and a phone number
  run together, and no figure in a rectification list is that long.
- Digits are matched as whole runs: a phone number inside a longer number is not a phone
  number.  Every Unicode decimal digit (fullwidth １２３, mathematical 𝟭𝟯𝟴, Arabic-Indic ...),
  fullwidth punctuation, every space and tab and the various dashes count the same as their
  ASCII forms.  Groups may be split by up to three spaces or a dash (with optional spaces),
  not by dots.  Invisible characters (soft hyphen, zero-width space and joiners, word joiner,
  BOM, bidi marks) are ignored, as a reader does not see them: "139\u00ad0013\u00ad8000" is
  a phone number, and the hit's span covers the invisible characters inside it.
- Landlines are written the way offices write them: area code with or without brackets, or
  after +86 without its 0 ("+86 10 6552 8888"); the local part unbroken or split 3-4 / 4-4
  ("0531-8888 8888", "010-6552-8888").  A leading trunk 0 before a mobile ("013800138000")
  is still a mobile.
- Local landline numbers without an area code ("8888888", "8888-8888") look exactly like
  amounts, so they are hidden only after a word such as 电话 or 联系方式; QQ numbers only
  after "QQ".
- A mobile shape (1[3-9] and 9 more digits, or 3-4-4) or a landline with its area code is
  always hidden, whatever follows it.  Words after a number are no guide: "13800138000万先生"
  is a phone number and Mr Wan, "13800138000人" a phone number and a stray word.  A county
  list never carries an unseparated 11-digit amount (13.8 billion yuan), and an amount
  does not start with 0, so "15000000000元" is hidden too; amounts are kept when written as
  they are in practice ("150亿元", "15,000,000,000元", "22000000 元").
- Markers hold no digits and redact_text repeats until nothing is found, so its output is a
  fixed point: redacting again changes nothing and find_personal_data finds nothing in it.

Issue 11 added the shapes of etl.privacy.foreign (NANP, Hong Kong, Taiwan, SSN, passports),
person names (etl.privacy.names), markers in the site language (etl.privacy.markers), and
known ids: a hit that is, or lies inside, an id of a published table is never hidden.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass

from etl.privacy import foreign
from etl.privacy.markers import markers
from etl.privacy.names import DEFAULT_RULES, NameRules, find_names

MARKERS = markers("zh")


@dataclass(frozen=True)
class Match:
    """One hit: its kind (a key of MARKERS), span in the original text, and the text found."""

    kind: str
    start: int
    end: int
    text: str


# Every decimal digit, space, dash and format character lies below U+20000 (tags aside).
_BY_CATEGORY: dict[str, list[str]] = {}
for _character in map(chr, range(0x20000)):
    _BY_CATEGORY.setdefault(unicodedata.category(_character), []).append(_character)


def _character_class(characters) -> str:
    """A regex class of `characters` written as ranges: far faster to match than a long list."""
    ranges: list[list[int]] = []
    for code in sorted({ord(character) for character in characters}):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "[" + "".join(re.escape(chr(low)) + ("-" + re.escape(chr(high)) if high > low else "")
                         for low, high in ranges) + "]"


def _fold_table() -> dict[int, str]:
    """One-to-one character map so spans found in the folded text are spans in the original."""
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}  # fullwidth ASCII
    # Every decimal digit (Nd): fullwidth, Arabic-Indic, mathematical bold 𝟭 ...  Astral
    # digits are one code point each in a str, so the map stays one-to-one.
    for digit in _BY_CATEGORY["Nd"]:
        table[ord(digit)] = str(unicodedata.digit(digit))
    # Every space (Zs) and the tab, as in "138\t0013\t8000" pasted from a spreadsheet.
    for space in _BY_CATEGORY["Zs"] + ["\t"]:
        table[ord(space)] = " "
    for dash in _BY_CATEGORY["Pd"] + ["\u2043", "\u2212"]:
        table[ord(dash)] = "-"
    for unchanged in "0123456789 -":
        del table[ord(unchanged)]
    return table


_FOLD = _fold_table()
_NEEDS_FOLD = re.compile(_character_class(map(chr, _FOLD)))


def fold(text: str) -> str:
    """ASCII-fold digits, punctuation, spaces and dashes, keeping every character's position."""
    return text.translate(_FOLD) if _NEEDS_FOLD.search(text) else text


# Characters a reader does not see: format characters (soft hyphen U+00AD, zero-width space,
# joiners, word joiner U+2060, BOM U+FEFF, bidi marks, tags), variation selectors, the
# combining grapheme joiner and the keycap mark of "1\ufe0f\u20e3".  "139\u00ad0013\u00ad8000"
# reads as a phone number, so they are removed before matching, not treated as separators.
_INVISIBLE_CHARACTERS = (_BY_CATEGORY["Cf"] + list(map(chr, range(0xE0000, 0xE0080)))
                         + list(map(chr, range(0xFE00, 0xFE10))) + ["\u034f", "\u20e3"])
_INVISIBLE = re.compile(_character_class(_INVISIBLE_CHARACTERS) + "+")
# A quick first look, several times faster on a page: a class of BMP characters is a bitmap
# lookup, and any astral character (rare in a page) sends the text on to the exact pattern.
_MAYBE_INVISIBLE = re.compile(_character_class(
    character for character in _INVISIBLE_CHARACTERS if ord(character) < 0x10000)[:-1]
    + "\U00010000-\U0010ffff]")


class _Visible:
    """`text` without invisible characters, and the way back from its positions to the original."""

    def __init__(self, text: str) -> None:
        pieces, self._starts, self._offsets = [], [0], [0]
        position = kept = 0
        runs = _INVISIBLE.finditer(text) if _MAYBE_INVISIBLE.search(text) else ()
        for run in runs:
            pieces.append(text[position:run.start()])
            kept += run.start() - position
            position = run.end()
            self._starts.append(kept)
            self._offsets.append(position - kept)
        pieces.append(text[position:])
        self.text = "".join(pieces) if len(pieces) > 1 else text

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of visible text[start:end], invisible characters inside included."""
        if len(self._starts) == 1:
            return start, end
        first = self._offsets[bisect.bisect_right(self._starts, start) - 1]
        last = self._offsets[bisect.bisect_right(self._starts, end - 1) - 1]
        return start + first, end + last


# Separator allowed between digit groups: up to three spaces (tabs and every Unicode space
# fold to one), or a dash with up to two spaces each side.  Not dots: "1.2.3" is a version.
_SEP = r"(?: {0,2}- {0,2}| {1,3})"
_OPT = _SEP + "?"
_BEFORE = r"(?<![0-9])"
_AFTER = r"(?![0-9])"
# In machine files (JSON, SVG) digits after a decimal point are fractions like 0.6666666666666666.
_BEFORE_NOT_FRACTION = r"(?<![0-9]\.)"
# +86 / 86 / 0086 / (+86) / （+86）.
_COUNTRY = r"\(?(?:\+|00)?86\)?"
# Area codes written without their 0 after +86: 10 Beijing, 2x, then three digits from 3xx.
_AREA_AFTER_COUNTRY = r"(?:10|2[0-9]|[3-9][0-9]{2})"
# The local part of a landline: 7 or 8 digits, unbroken or split 3-4 / 4-4 as offices write it.
_LOCAL = r"(?:[1-9][0-9]{6,7}|[1-9][0-9]{2,3}" + _SEP + r"[0-9]{4})"
_EXTENSION = r"(?:(?: ?(?:-|转|分机|ext\.?|x|#) ?)[0-9]{1,6})?"

_DIGIT_PATTERNS = [
    # Grouped in fours with a trailing X: "1101 0119 9003 0712 3X".
    ("id_card", r"[0-9]{4}(?:" + _SEP + r"[0-9]{4}){3}" + _OPT + r"[0-9][xX]"),
    # 18-character ID, optionally split 6-8-4 by spaces or dashes; X or x as the check digit.
    ("id_card", r"[0-9]{6}" + _OPT + r"[0-9]{8}" + _OPT + r"[0-9]{3}[xX]"),
    ("id_card", r"[0-9]{6}" + _SEP + r"[0-9]{8}" + _SEP + r"[0-9]{4}"),
    # Unbroken runs of 15 or more: classified by length in _classify_run, never rejected.
    ("run", r"[0-9]{15,}"),
    # Old 15-digit ID split 6-6-3.
    ("id_card", r"[0-9]{6}" + _SEP + r"[0-9]{6}" + _SEP + r"[0-9]{3}"),
    # Mobile with optional +86 / 86 / 0086 / (+86) prefix or the trunk 0 ("013800138000"),
    # split 3-4-4 or not at all.  Whatever follows: "13800138000万先生" is a phone and Mr Wan.
    ("mobile", r"(?:" + _COUNTRY + _OPT + r"|0)?1[3-9][0-9]" + _OPT + r"[0-9]{4}" + _OPT
     + r"[0-9]{4}"),
    # Landline with area code: 010-12345678, (010)12345678, 0531 8888 8888, 0531-8888888-123,
    # optionally after +86 (also with the 0 left in: "+86 0531 ...").
    ("landline", r"(?:" + _COUNTRY + _OPT + r")?(?:\(0[1-9][0-9]{1,2}\) ?|0[1-9][0-9]{1,2}"
     + _OPT + r")" + _LOCAL + _EXTENSION),
    # +86 and the area code without its 0: "+86 10 6552 8888", "+86 (531) 8888 8888".
    ("landline", r"\(?(?:\+|00)86\)?" + _OPT + r"(?:\(" + _AREA_AFTER_COUNTRY + r"\) ?|"
     + _AREA_AFTER_COUNTRY + _OPT + r")" + _LOCAL + _EXTENSION),
    *foreign.DIGIT_PATTERNS,
    # Cards in groups of four, 16-19 digits.  Last, because it is the only shape that can be
    # rejected after matching (see _classify); every other shape at a position is tried first.
    ("card_grouped", r"[0-9]{4}(?:" + _SEP + r"[0-9]{4}){3}(?:" + _SEP + r"[0-9]{1,3})?"),
]

_KEYWORD_PATTERNS = [
    # Local landline only after a word that says it is a phone number.
    ("landline", r"(?:电话|座机|联系方式|热线|(?<![A-Za-z])(?:[Tt]el|TEL))(?:号码)?[:： ]{0,2}"
     r"(?P<number>[2-9][0-9]{6,7}|[2-9][0-9]{2,3}" + _SEP + r"[0-9]{4})(?![0-9])"),
    ("qq", r"(?:QQ|qq|Qq)(?:号|号码)?[:： ]{0,2}(?P<number>[1-9][0-9]{4,11})(?![0-9])"),
    *foreign.KEYWORD_PATTERNS,
]

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
    r"(?![A-Za-z])")


def _compile(before: str) -> re.Pattern:
    alternatives = "|".join(f"(?P<{kind}{index}>{pattern})"
                            for index, (kind, pattern) in enumerate(_DIGIT_PATTERNS))
    return re.compile(before + r"(?:" + alternatives + r")" + _AFTER)


_DIGITS = _compile(_BEFORE)
_DIGITS_NOT_FRACTION = _compile(_BEFORE + _BEFORE_NOT_FRACTION)
_KEYWORDS = [(kind, re.compile(pattern)) for kind, pattern in _KEYWORD_PATTERNS]
_GROUP_KIND = {f"{kind}{index}": kind for index, (kind, _) in enumerate(_DIGIT_PATTERNS)}


def luhn_valid(digits: str) -> bool:
    """The Luhn check every bank card number carries in its last digit."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _plausible_birth_date(digits: str) -> bool:
    year, month, day = int(digits[0:4]), int(digits[4:6]), int(digits[6:8])
    return 1880 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31


def _classify_run(run: str) -> str:
    length = len(run)
    if length == 15:
        return "id_card"
    if length == 18 and (_plausible_birth_date(run[6:14])
                         or not (run.startswith("62") and luhn_valid(run))):
        # Either way it is hidden; this only picks the marker a reader sees.
        return "id_card"
    if length <= 19:
        return "bank_card"
    return "long_number"


def _classify(kind: str, found: str) -> str | None:
    if kind == "run":
        return _classify_run(found)
    if kind == "card_grouped":
        digits = re.sub(r"[^0-9]", "", found)
        if len(digits) == 18:
            return "id_card"  # an ID written in fours; hidden whatever its check digit
        return "bank_card" if luhn_valid(digits) or digits.startswith("62") else None
    return kind


# Finding candidates first keeps the scan of a 100 MB site fast: the full patterns cost ~150 ns
# a character, this one (it starts with a character class, which the regex engine skips to in
# C) a few.  Every digit shape above holds at least 10 digits with at most 6 separator
# characters between two of them; dates ("2026-11-20", 8 digits) are not candidates.  It runs
# on the text with invisible characters removed, so only visible separators count here.
_CANDIDATE_SEPARATOR = "[" + re.escape("()+-. ") + "".join(
    re.escape(chr(code)) for code, folded in sorted(_FOLD.items()) if folded in "()+-. ") + "]"
_CANDIDATE_DIGIT = r"\d"  # every decimal digit (Nd), as _FOLD folds them
_CANDIDATE = re.compile(_CANDIDATE_DIGIT + "(?:" + _CANDIDATE_SEPARATOR + "{0,6}"
                        + _CANDIDATE_DIGIT + "){9,}")
_KEYWORD_TRIGGERS = ("电话", "座机", "联系方式", "热线", "tel", "Tel", "TEL", "QQ", "qq", "Qq",
                     *foreign.TRIGGERS)
_KEYWORD_TRIGGERS += tuple(word.translate({code: chr(code + 0xFEE0) for code in range(0x21, 0x7F)})
                           for word in _KEYWORD_TRIGGERS if word.isascii())
_TRIGGER = re.compile("|".join(re.escape(word) for word in _KEYWORD_TRIGGERS))
_FOREIGN_CANDIDATE = re.compile(foreign.CANDIDATE)
# Context kept around a candidate: enough for "(+86) " or "联系电话：" before and "转123456" after.
_CONTEXT = 16
_EMAIL_CONTEXT = 256


def _find_all(text: str, needle: str):
    position = text.find(needle)
    while position != -1:
        yield position
        position = text.find(needle, position + 1)


def _windows(text: str) -> list[tuple[int, int]]:
    """Merged spans of `text` that can hold personal data; everything outside is skipped."""
    spans = [(m.start() - _CONTEXT, m.end() + _CONTEXT) for m in _CANDIDATE.finditer(text)]
    spans += [(m.start() - _CONTEXT, m.end() + _CONTEXT)
              for m in _FOREIGN_CANDIDATE.finditer(text)]
    for at_sign in ("@", "\uff20"):
        spans += [(p - _EMAIL_CONTEXT, p + _EMAIL_CONTEXT) for p in _find_all(text, at_sign)]
    spans += [(m.start() - 2, m.start() + 3 * _CONTEXT) for m in _TRIGGER.finditer(text)]
    spans.sort()
    merged: list[list[int]] = []
    for start, end in spans:
        start, end = max(start, 0), min(end, len(text))
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _candidates_in(folded: str, offset: int, lead: int, skip_fractions: bool):
    """Hits in one folded window; the first `lead` characters are only there for lookbehinds."""
    if "@" in folded:
        for m in _EMAIL.finditer(folded, lead):
            yield m.start() + offset, m.end() + offset, "email"
    pattern = _DIGITS_NOT_FRACTION if skip_fractions else _DIGITS
    position = lead
    while (found := pattern.search(folded, position)) is not None:
        kind = _classify(_GROUP_KIND[found.lastgroup], found.group())
        if kind is not None:
            yield found.start() + offset, found.end() + offset, kind
            position = found.end()
        else:
            # A rejected list of years may still hold a real hit after one of its separators.
            position = found.start() + 1
    for kind, keyword in _KEYWORDS:
        for m in keyword.finditer(folded, lead):
            yield m.start("number") + offset, m.end("number") + offset, kind


def find_personal_data(text: str, *, skip_fractions: bool = False,
                       names: NameRules | None = DEFAULT_RULES,
                       known_ids: Collection[str] = ()) -> list[Match]:
    """Every piece of personal data in `text`, in order, never overlapping.

    skip_fractions ignores digits right after a decimal point, for machine-written files
    (JSON, SVG) full of floats like 0.6666666666666666; free text is redacted without it.
    names: the rules for person names (None: numbers and e-mail only).  known_ids: ids of
    the published tables, never hidden ("QH-2026-0001", a 311 Unique Key).
    """
    if not text:
        return []
    visible = _Visible(text)
    candidates: list[tuple[int, int, str]] = []
    if names is not None:
        candidates += [(start, end, "name") for start, end in find_names(visible.text, names)]
    for start, end in _windows(visible.text):
        # Two characters before the window let the lookbehinds see a digit or "3." there.
        lead = min(start, 2)
        candidates += _candidates_in(fold(visible.text[start - lead:end]), start - lead, lead,
                                     skip_fractions)
    # Earliest first, and of two starting together the longer; overlapping later ones are dropped.
    candidates.sort(key=lambda item: (item[0], -item[1]))
    matches: list[Match] = []
    reached = 0
    for start, end, kind in candidates:
        if start >= reached and not (known_ids and _is_known_id(visible.text, start, end,
                                                                known_ids)):
            original_start, original_end = visible.span(start, end)
            matches.append(Match(kind, original_start, original_end,
                                 text[original_start:original_end]))
            reached = end
    return matches


_ID_CHARACTER = re.compile(r"[A-Za-z0-9_\-]")


def _is_known_id(text: str, start: int, end: int, known_ids: Collection[str]) -> bool:
    """Whether text[start:end] is a known id or lies inside one written as a whole word."""
    while start > 0 and _ID_CHARACTER.match(text[start - 1]):
        start -= 1
    while end < len(text) and _ID_CHARACTER.match(text[end]):
        end += 1
    word = text[start:end].strip()
    return word in known_ids or fold(word) in known_ids


def _replace_once(text: str, language: str, names: NameRules | None,
                  known_ids: Collection[str], found: list[tuple[Match, str]]) -> str:
    matches = find_personal_data(text, names=names, known_ids=known_ids)
    if not matches:
        return text
    words = markers(language)
    pieces, position = [], 0
    for match in matches:
        pieces += [text[position:match.start], words[match.kind]]
        found.append((match, text))
        position = match.end
    pieces.append(text[position:])
    return "".join(pieces)


def redact_with_matches(text: str, language: str = "zh", *,
                        names: NameRules | None = DEFAULT_RULES,
                        known_ids: Collection[str] = ()) -> tuple[str, list[tuple[Match, str]]]:
    """`text` redacted as redact_text does, and each hit with the text it was found in."""
    found: list[tuple[Match, str]] = []
    if not isinstance(text, str) or not text:
        return text, found
    for _ in range(10):
        redacted = _replace_once(text, language, names, known_ids, found)
        if redacted == text:
            return text, found
        text = redacted
    return text, found


def redact_text(text: str, language: str = "zh", *, names: NameRules | None = DEFAULT_RULES,
                known_ids: Collection[str] = ()) -> str:
    """`text` with each piece of personal data replaced by the marker of its kind.

    Repeated until nothing is found, so the result is a fixed point: redacting twice changes
    nothing and no hit survives (removing one hit can expose digits it was glued to).
    Markers are in `language`, one of etl.config.LANGUAGES.
    """
    return redact_with_matches(text, language, names=names, known_ids=known_ids)[0]


def mask(found: str, kind: str = "") -> str:
    """A preview that shows the shape of a hit but not the number: '138****8000', '张*'."""
    if kind == "name":
        return found[:1] + "*" * max(len(found) - 1, 1)
    if "@" in found:
        local, _, domain = found.partition("@")
        return f"{local[:1]}***@{domain}"
    keep = 2 if len(found) <= 8 else 3
    return found[:keep] + "*" * max(len(found) - 2 * keep, 3) + found[-keep:]

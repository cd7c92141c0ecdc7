"""Find and hide personal data in free text: resident ID, mobile, landline, e-mail, bank card.

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
  number.  Fullwidth digits (１２３), fullwidth punctuation and the various dashes and
  spaces count the same as their ASCII forms.  Groups may be split by a space or a dash
  (with optional spaces), not by dots.
- Local landline numbers without an area code ("8888888") look exactly like amounts, so they
  are hidden only after a word such as 电话 or 联系方式; QQ numbers only after "QQ".  Mobile
  and landline shapes directly followed by a word of AMOUNT_UNITS (元, 万, % ...) are
  amounts, not phone numbers.
- Markers hold no digits and redact_text repeats until nothing is found, so its output is a
  fixed point: redacting again changes nothing and find_personal_data finds nothing in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKERS = {
    "id_card": "[身份证号已隐去]",
    "mobile": "[手机号已隐去]",
    "landline": "[电话已隐去]",
    "email": "[邮箱已隐去]",
    "bank_card": "[银行卡号已隐去]",
    "qq": "[QQ号已隐去]",
    "long_number": "[长数字已隐去]",
}


@dataclass(frozen=True)
class Match:
    """One hit: its kind (a key of MARKERS), span in the original text, and the text found."""

    kind: str
    start: int
    end: int
    text: str


def _fold_table() -> dict[int, str]:
    """One-to-one character map so spans found in the folded text are spans in the original."""
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}  # fullwidth ASCII
    for space in "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u3000":
        table[ord(space)] = " "
    for dash in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63":
        table[ord(dash)] = "-"
    return table


_FOLD = _fold_table()
_NEEDS_FOLD = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_FOLD)) + "]")


def fold(text: str) -> str:
    """ASCII-fold digits, punctuation, spaces and dashes, keeping every character's position."""
    return text.translate(_FOLD) if _NEEDS_FOLD.search(text) else text


# Separator allowed between digit groups: one space, or a dash with optional single spaces.
_SEP = r"(?: ?- ?| )"
_OPT = _SEP + "?"
_BEFORE = r"(?<![0-9])"
_AFTER = r"(?![0-9])"
# In machine files (JSON, SVG) digits after a decimal point are fractions like 0.6666666666666666.
_BEFORE_NOT_FRACTION = r"(?<![0-9]\.)"
# Words that make a phone-shaped number an amount or a count: "15000000000元".
AMOUNT_UNITS = ("元", "万", "亿", "千", "百", "%", "‰", "美元", "平方", "亩", "吨", "户", "人")
_NOT_AMOUNT = r"(?! ?(?:" + "|".join(AMOUNT_UNITS) + "))"

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
    # Mobile with optional +86 / 86 / 0086 / (+86) prefix, split 3-4-4 or not at all.
    ("mobile", r"(?:\(?(?:\+|00)?86\)?" + _OPT + r")?1[3-9][0-9]" + _OPT + r"[0-9]{4}" + _OPT
     + r"[0-9]{4}" + _NOT_AMOUNT),
    # Landline with area code: 010-12345678, (010)12345678, 0531 8888888, 0531-8888888-123.
    ("landline", r"(?:\(0[1-9][0-9]{1,2}\) ?|0[1-9][0-9]{1,2}" + _OPT + r")[1-9][0-9]{6,7}"
     r"(?:(?: ?(?:-|转|分机|ext\.?|x|#) ?)[0-9]{1,6})?" + _NOT_AMOUNT),
    # Cards in groups of four, 16-19 digits.  Last, because it is the only shape that can be
    # rejected after matching (see _classify); every other shape at a position is tried first.
    ("card_grouped", r"[0-9]{4}(?:" + _SEP + r"[0-9]{4}){3}(?:" + _SEP + r"[0-9]{1,3})?"),
]

_KEYWORD_PATTERNS = [
    # Local landline only after a word that says it is a phone number.
    ("landline", r"(?:电话|座机|联系方式|热线|(?<![A-Za-z])(?:[Tt]el|TEL))(?:号码)?[:： ]{0,2}"
     r"(?P<number>[2-9][0-9]{6,7})(?![0-9])"),
    ("qq", r"(?:QQ|qq|Qq)(?:号|号码)?[:： ]{0,2}(?P<number>[1-9][0-9]{4,11})(?![0-9])"),
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
# C) a few.  Every digit shape above holds at least 10 digits with at most 3 separator
# characters between two of them; dates ("2026-11-20", 8 digits) are not candidates.
_CANDIDATE_SEPARATOR = "[" + re.escape("()+- ") + "".join(
    re.escape(chr(code)) for code, folded in sorted(_FOLD.items()) if folded in "()+- ") + "]"
_CANDIDATE_DIGIT = "[0-9\uff10-\uff19]"
_CANDIDATE = re.compile(_CANDIDATE_DIGIT + "(?:" + _CANDIDATE_SEPARATOR + "{0,3}"
                        + _CANDIDATE_DIGIT + "){9,}")
_KEYWORD_TRIGGERS = ("电话", "座机", "联系方式", "热线", "tel", "Tel", "TEL", "QQ", "qq", "Qq")
_KEYWORD_TRIGGERS += tuple(word.translate({code: chr(code + 0xFEE0) for code in range(0x21, 0x7F)})
                           for word in _KEYWORD_TRIGGERS if word.isascii())
_TRIGGER = re.compile("|".join(re.escape(word) for word in _KEYWORD_TRIGGERS))
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


def find_personal_data(text: str, *, skip_fractions: bool = False) -> list[Match]:
    """Every piece of personal data in `text`, in order, never overlapping.

    skip_fractions ignores digits right after a decimal point, for machine-written files
    (JSON, SVG) full of floats like 0.6666666666666666; free text is redacted without it.
    """
    if not text:
        return []
    candidates: list[tuple[int, int, str]] = []
    for start, end in _windows(text):
        # Two characters before the window let the lookbehinds see a digit or "3." there.
        lead = min(start, 2)
        candidates += _candidates_in(fold(text[start - lead:end]), start - lead, lead,
                                     skip_fractions)
    # Earliest first, and of two starting together the longer; overlapping later ones are dropped.
    candidates.sort(key=lambda item: (item[0], -item[1]))
    matches: list[Match] = []
    reached = 0
    for start, end, kind in candidates:
        if start >= reached:
            matches.append(Match(kind, start, end, text[start:end]))
            reached = end
    return matches


def _replace_once(text: str) -> str:
    matches = find_personal_data(text)
    if not matches:
        return text
    pieces, position = [], 0
    for match in matches:
        pieces += [text[position:match.start], MARKERS[match.kind]]
        position = match.end
    pieces.append(text[position:])
    return "".join(pieces)


def redact_text(text: str) -> str:
    """`text` with each piece of personal data replaced by the marker of its kind.

    Repeated until nothing is found, so the result is a fixed point: redacting twice changes
    nothing and no hit survives (removing one hit can expose digits it was glued to).
    """
    if not isinstance(text, str) or not text:
        return text
    for _ in range(10):
        redacted = _replace_once(text)
        if redacted == text:
            return text
        text = redacted
    return text


def mask(found: str) -> str:
    """A preview that shows the shape of a hit but not the number: '138****8000'."""
    if "@" in found:
        local, _, domain = found.partition("@")
        return f"{local[:1]}***@{domain}"
    keep = 2 if len(found) <= 8 else 3
    return found[:keep] + "*" * max(len(found) - 2 * keep, 3) + found[-keep:]

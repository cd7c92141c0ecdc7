"""The leak scan's own detectors: simpler and more suspicious than redaction's, on purpose.

Redaction knows the shapes of personal numbers; a shape it does not know is published.  The
scan therefore does not reuse it (issue 11: a US export's phone numbers passed both).  It flags:
- any run of 7 or more digits once separators (spaces, dashes, dots between three or more
  groups, brackets) are removed, unless the run is a known id of the published tables, a date,
  an amount (a currency sign before it, a unit such as 元 or % after it) or part of a digest;
- anything shaped like an e-mail address;
- any name known to be personal (from a complainant or contact column), wherever it appears.
A float's fraction ("0.6666666666666666") is not a run: only the part before its point counts.
SVG geometry attributes are machine numbers and are not read.  Hits carry the kind of data and
its shape ("11 digits"), never the data, so the error message cannot leak it either.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field

MIN_DIGITS = 7

_DASHES = {code: "-" for code in (0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212, 0xFE58,
                                  0xFE63, 0xFF0D, 0x2043)}
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u206f\u20e3\u3164\ufe00-\ufe0f\ufeff\uffa0"
                        "\U000e0000-\U000e007f]")
_FILLER = "_"
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")


def fold(text: str) -> str:
    """Digits of every script as ASCII, fullwidth as ASCII, every dash '-', invisibles gone."""
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    if not text.isascii():
        # One regex pass finds the rare non-ASCII digits (str.isdecimal's set: \d in re);
        # a loop over every character cost seconds on a site of 10,000 pages.
        text = _OTHER_DIGIT.sub(lambda match: str(unicodedata.digit(match.group())), text)
    return text


def _blank(match: re.Match) -> str:
    return re.sub(r"[^\n]", _FILLER, match.group())


# Machine text that is not a number anyone typed.  Each is replaced by filler of the same
# length (newlines kept), so line numbers stay right.
_MACHINE = [
    # Snapshot ids "2026-11-20-9d6a23e0e06b9bb2": a date and 16 hex digits, maybe all digits.
    re.compile(r"(?<![0-9A-Za-z])\d{4}-\d{2}-\d{2}-[0-9a-f]{16}(?![0-9A-Za-z])"),
    # Hex digests and commit ids: 16 or more hex digits with at least one letter among them.
    re.compile(r"(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{16,}(?![0-9A-Za-z])"),
    re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
    # Group slugs (etl.privacy.safepath.slug: "u-1947129e") and hex literals in scripts.
    re.compile(r"(?<![0-9A-Za-z])[a-z]-[0-9a-f]{8}(?![0-9A-Za-z])"),
    re.compile(r"(?<![0-9A-Za-z])0x[0-9a-fA-F]+(?![0-9A-Za-z])"),
    # CSS colours "#0000009e" in styles and SVG: a # and 3, 4, 6 or 8 hex digits.
    re.compile(r"(?<![&0-9A-Za-z])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3,4})(?![0-9A-Za-z])"),
    # Subresource-integrity and base64 digests: "sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K...".
    re.compile(r"sha(?:256|384|512)[-:][A-Za-z0-9+/=_-]{20,}"),
    # SVG geometry: coordinates, sizes and transforms are numbers a chart library wrote.
    re.compile(r"""(?<![\w-])(?:d|points|viewBox|transform|x|y|x1|x2|y1|y2|cx|cy|r|rx|ry|dx|dy|"""
               r"""width|height|stroke-dasharray|stroke-dashoffset|stroke-width|"""
               r"""stroke-miterlimit|font-size|opacity|fill-opacity|stroke-opacity|offset)"""
               r"""=(?:"[^"<>]*"|'[^'<>]*')"""),
    # File sizes in manifests and data packages.
    re.compile(r'"(?:\w+_)?(?:bytes|size)": ?\d+'),
    # Dates: 2026-11-20, 2026/11/20, 2026.11.20, 20261120 and 20261120103000.
    re.compile(r"(?<![0-9])(?:19|20)\d{2}([-/.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12]\d|3[01])"
               r"(?![0-9])"),
    re.compile(r"(?<![0-9])(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
               r"(?:(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?)?(?![0-9])"),
    # Lists and ranges of years: "2014 2015 2016 2017", "2014-2017".
    re.compile(r"(?<![0-9])(?:(?:19|20)\d{2}[ \t-]{1,3})+(?:19|20)\d{2}(?![0-9])"),
]
# A run of digit groups: groups of digits (with decimal fractions), joined by up to three
# spaces, dashes or brackets, or by dots when there are three or more groups (212.555.0143).
_GROUPS = r"\d+(?:[ \t\-()]{1,3}\d+)*"
_RUN = re.compile(r"\d+(?:\.\d+){2,}(?:[ \t\-()]{1,3}\d+)*|" + _GROUPS + r"(?:\.\d+)?")
_AMOUNT_AFTER = re.compile(r"\s?(?:元(?!旦)|万|亿|億|%|％|‰|美元|港元|港币|块|yuan|dollars|USD|RMB|CNY|HKD)")
# Shapes no amount has, whatever unit follows: a mobile ("13800138000万先生" is Mr Wan) and
# anything of 15 digits or more.
_NEVER_AN_AMOUNT = re.compile(r"0?1[3-9]\d{9}|\d{15,}")
_AMOUNT_BEFORE = re.compile(r"(?:[¥￥$€£]|RMB|USD|HKD|CNY)\s?$")
_ID_CHARACTERS = re.compile(r"[A-Za-z0-9_\-.#/]+")
_ID_SPLIT = re.compile(r"[_\-.#/]")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.([A-Za-z]{2,})"
                    r"(?![A-Za-z])")
_NOT_DOMAINS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "js", "css", "map", "ico"})


@dataclass(frozen=True)
class Suspect:
    """One thing that looks like personal data: its kind, where it starts, and its shape."""

    kind: str
    start: int
    shape: str
    line: int = 0


@dataclass(frozen=True)
class Knowledge:
    """What the scan knows of the site: ids of its published tables and personal names."""

    known_ids: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()
    _name_lengths: tuple[int, ...] = field(default=(), compare=False, repr=False)
    _name_starts: re.Pattern | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = frozenset(name for name in self.names if len(name) >= 2)
        object.__setattr__(self, "known_ids", frozenset(i.casefold() for i in self.known_ids))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_name_lengths", tuple(sorted({len(n) for n in names})))
        if names:
            starts = "".join(sorted({re.escape(name[0]) for name in names}))
            object.__setattr__(self, "_name_starts", re.compile(f"[{starts}]"))

    def find_names(self, text: str) -> list[int]:
        if self._name_starts is None:
            return []
        found = []
        for match in self._name_starts.finditer(text):
            position = match.start()
            if any(text[position:position + length] in self.names
                   for length in self._name_lengths):
                found.append(position)
        return found


def _digit_kind(digits: str, text: str) -> str:
    """A plain word for what a run of digits may be, for the message; never the digits."""
    length = len(digits)
    if length in (15, 18) or (length == 17 and text.rstrip().endswith(("X", "x"))):
        return "possible ID number"
    if (length == 11 and digits.startswith("1")) or (length == 12 and digits.startswith("01")):
        return "possible mobile number"
    if 16 <= length <= 19:
        return "possible bank card number"
    if length in (10, 11) or (7 <= length <= 12 and re.search(r"[() .\-]", text)):
        return "possible phone number"
    return "unexplained run of digits"


def _counted_digits(run: str) -> str:
    """The digits of a run that count: a single trailing fraction is a float's, not a number's."""
    if re.fullmatch(_GROUPS + r"\.\d+", run):
        run = run[:run.rindex(".")]
    return re.sub(r"\D", "", run)


def _is_known_id(text: str, start: int, end: int, known_ids: Collection[str]) -> bool:
    """Whether the run lies inside a known id written in the id-like word around it."""
    if not known_ids:
        return False
    while start > 0 and _ID_CHARACTERS.fullmatch(text[start - 1]):
        start -= 1
    while end < len(text) and _ID_CHARACTERS.fullmatch(text[end]):
        end += 1
    word = text[start:end]
    # Every piece of the word between separators, and every join of neighbouring pieces:
    # "issue-QH-2026-0001" holds "QH-2026-0001".
    cuts = [0] + [m.start() for m in _ID_SPLIT.finditer(word)] + [len(word)]
    for i, left in enumerate(cuts):
        for right in cuts[i + 1:]:
            piece = word[left:right].strip("_-.#/")
            if piece.casefold() in known_ids:
                return True
    return False


def find_suspects(text: str, knowledge: Knowledge = Knowledge()) -> list[Suspect]:
    """Everything in `text` that may be personal data, in order."""
    folded = fold(text)
    for pattern in _MACHINE:
        folded = pattern.sub(_blank, folded)
    suspects = []
    for match in _RUN.finditer(folded):
        digits = _counted_digits(match.group())
        if len(digits) < MIN_DIGITS:
            continue
        if not _NEVER_AN_AMOUNT.fullmatch(digits) and (
                _AMOUNT_AFTER.match(folded, match.end())
                or _AMOUNT_BEFORE.search(folded, max(0, match.start() - 4), match.start())):
            continue
        if _is_known_id(folded, match.start(), match.end(), knowledge.known_ids):
            continue
        suspects.append(Suspect(_digit_kind(digits, folded[match.start():match.end() + 1]),
                                match.start(), f"{len(digits)} digits"))
    if "@" in folded:
        for match in _EMAIL.finditer(folded):
            if match.group(1).lower() not in _NOT_DOMAINS:
                suspects.append(Suspect("e-mail address", match.start(), "an address"))
    for position in knowledge.find_names(folded):
        suspects.append(Suspect("personal name from a complainant or contact column", position,
                                "a known name"))
    if not suspects:
        return []
    newlines = [m.start() for m in re.finditer("\n", folded)]
    return sorted((Suspect(s.kind, s.start, s.shape, bisect.bisect_left(newlines, s.start) + 1)
                   for s in suspects), key=lambda suspect: suspect.start)

"""Ids and names from a source made safe for file names, URLs and HTML anchors."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from etl.errors import Location, UnsafePath

MAX_ID_LENGTH = 100
SLUG_KINDS = ("unit", "area", "category", "channel")

# Reserved device names on Windows: a file called CON or com1.html cannot be created there.
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{n}" for n in range(10)] + [f"lpt{n}" for n in range(10)]
)
_ASCII_ALLOWED = re.compile(r"[A-Za-z0-9_.\-]")
# Characters an HTML id, a CSS selector and a URL fragment all accept without escaping.
_ANCHOR_PLAIN = re.compile(r"[A-Za-z0-9\-]")


def _describe(character: str) -> str:
    name = unicodedata.name(character, "")
    code = f"U+{ord(character):04X}"
    return f"{character!r} ({code} {name})" if name else f"{code}"


def _unsafe_character(value: str) -> str | None:
    """The first character not allowed in an id: ASCII letters/digits/-_. or non-ASCII letters/digits."""
    for character in value:
        if ord(character) < 128:
            if not _ASCII_ALLOWED.fullmatch(character):
                return character
        # Letters and digits of any script (Chinese included); everything else - spaces, marks,
        # punctuation, bidi and zero-width controls - can hide or spoof characters in a path.
        elif unicodedata.category(character)[0] not in ("L", "N"):
            return character
    return None


def check_id(value: str, *, what: str = "issue_id", location: Location | None = None) -> str:
    """Return `value` unchanged if it is safe as a file name and URL part; raise UnsafePath if not."""
    hint = (f"change the {what} in the source to letters, digits, Chinese characters, '-', '_' "
            "or '.', at most 100 characters, and publish again")

    def fail(reason: str) -> UnsafePath:
        return UnsafePath(f"{what} {value!r} {reason}", location=location, hint=hint)

    if not isinstance(value, str):
        raise fail(f"is a {type(value).__name__}, not text")
    if value == "":
        raise fail("is empty")
    if len(value) > MAX_ID_LENGTH:
        raise fail(f"is {len(value)} characters long (at most {MAX_ID_LENGTH})")
    if value.startswith("."):
        raise fail("starts with a dot (a hidden file, or '..' climbing out of the folder)")
    if value.endswith("."):
        raise fail("ends with a dot (Windows drops it, so two ids would share a file)")
    bad = _unsafe_character(value)
    if bad is not None:
        raise fail(f"contains the character {_describe(bad)}, unsafe in a file name or URL")
    if value.split(".")[0].casefold() in _WINDOWS_RESERVED:
        raise fail("is a reserved device name on Windows")
    return value


def fold(value: str) -> str:
    # NFKC maps fullwidth ＡＢ１ to AB1; casefold merges case; NFKC again because casefold can
    # produce sequences that normalise further (for example the German sharp s).
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


def check_unique_casefold(values: Iterable[str], *, what: str = "issue_id") -> None:
    """Raise UnsafePath when ids differ only by case or width; they would share a file on Windows/macOS.

    Exact duplicates are left to validation, which reports them with their rows.
    """
    first_seen: dict[str, str] = {}
    clashes: list[tuple[str, str]] = []
    for value in values:
        key = fold(value)
        earlier = first_seen.setdefault(key, value)
        if earlier != value and (earlier, value) not in clashes:
            clashes.append((earlier, value))
    if clashes:
        shown = "; ".join(f"{a!r} and {b!r}" for a, b in clashes[:20])
        more = f" (and {len(clashes) - 20} more pairs)" if len(clashes) > 20 else ""
        raise UnsafePath(
            f"{len(clashes)} pair(s) of {what} values differ only by upper/lower case or "
            f"fullwidth/halfwidth characters: {shown}{more}",
            hint=f"make each {what} distinct in the source (case-insensitive file systems "
                 "would store them as one file) and publish again")


def slug(kind: str, name: str) -> str:
    """Stable ASCII slug for a group page: 'u-3fa2c1d0' for a unit; depends on the name alone."""
    if kind not in SLUG_KINDS:
        raise ValueError(f"slug kind must be one of {', '.join(SLUG_KINDS)}, not {kind!r}")
    return f"{kind[0]}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


def bucket(issue_id: str) -> str:
    """Two hex digits naming the page an issue lives on, fixed for the id whatever else exists."""
    return hashlib.sha256(issue_id.encode("utf-8")).hexdigest()[:2]


def anchor(issue_id: str) -> str:
    """HTML id for an issue: 'issue-' + the id with every byte outside [A-Za-z0-9-] as _hh.

    '_' is the escape character and is itself encoded, so the mapping is injective and
    `id_from_anchor` reverses it; ASCII ids like QH-2026-0001 stay readable.
    """
    parts = []
    for character in issue_id:
        if _ANCHOR_PLAIN.fullmatch(character):
            parts.append(character)
        else:
            parts.append("".join(f"_{byte:02x}" for byte in character.encode("utf-8")))
    return "issue-" + "".join(parts)


def id_from_anchor(html_id: str) -> str:
    """Reverse `anchor`; raises ValueError on text `anchor` could not have produced."""
    if not html_id.startswith("issue-"):
        raise ValueError(f"{html_id!r} is not an issue anchor")
    encoded = html_id[len("issue-"):]
    if not re.fullmatch(r"(?:[A-Za-z0-9\-]|_[0-9a-f]{2})*", encoded):
        raise ValueError(f"{html_id!r} is not an issue anchor")
    data = bytearray()
    for piece in re.finditer(r"_([0-9a-f]{2})|[A-Za-z0-9\-]", encoded):
        data += bytes([int(piece.group(1), 16)]) if piece.group(1) else piece.group().encode()
    return data.decode("utf-8")  # UnicodeDecodeError is a ValueError

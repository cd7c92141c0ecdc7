"""Last check before publishing: no personal data anywhere in the built site's text files."""

from __future__ import annotations

import csv
import fnmatch
import gzip
import html
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from etl import schema
from etl.privacy import redact
from etl.errors import LeakFound
from etl.site import words

# Never text; skipped without reading.
BINARY_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".avif", ".bmp", ".tif", ".tiff",
    ".woff", ".woff2", ".ttf", ".otf", ".eot", ".pdf", ".zip", ".xlsx", ".xls", ".ods",
    ".parquet", ".sqlite", ".db", ".mp4", ".webm", ".mp3", ".wasm", ".minisig",
})
# Bundled, minified files of the MkDocs theme: third-party code, full of long numeric constants,
# and nothing from our sources ever lands in them.  Our own scripts (not *.min.*) are scanned.
THEME_ASSET_GLOBS = (
    "assets/javascripts/*.min.js", "assets/javascripts/*.min.js.map",
    "assets/javascripts/lunr/*", "assets/javascripts/workers/*",
    "assets/stylesheets/*.min.css", "assets/stylesheets/*.min.css.map",
)
MAX_LISTED = 50
_SNIFF_BYTES = 8192
# A digest, commit id or UUID can contain a run of digits that looks like a card or phone.
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Hit:
    """One piece of personal data in one file, with enough to find it but not to read it."""

    file: str
    where: str
    kind: str
    preview: str

    def describe(self) -> str:
        return f"{self.file} {self.where}: {self.kind} {self.preview}"


def _is_theme_asset(relative: str) -> bool:
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in THEME_ASSET_GLOBS)


def _read_text(path: Path) -> str | None:
    """The file as text, or None when it is binary."""
    data = path.read_bytes()
    if path.suffix.lower() == ".gz":
        # sitemap.xml.gz and friends: compressed text is still published text.
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return None
    if b"\x00" in data[:_SNIFF_BYTES]:
        return None
    return data.decode("utf-8", errors="replace")


def _widen(text: str, start: int, end: int, extra: str = "") -> str:
    """The whole ASCII word (letters, digits and `extra`) around text[start:end]."""
    def part_of_word(character: str) -> bool:
        return (character.isascii() and character.isalnum()) or character in extra

    while start > 0 and part_of_word(text[start - 1]):
        start -= 1
    while end < len(text) and part_of_word(text[end]):
        end += 1
    return text[start:end]


def _inside_digest(text: str, match: redact.Match) -> bool:
    """Whether the hit is part of a hex digest (sha256:…, a commit id) or a UUID, not a number."""
    word = _widen(text, match.start, match.end)
    if _HEX_DIGEST.fullmatch(word) and any(c in "abcdefABCDEF" for c in word):
        return True
    return bool(_UUID.fullmatch(_widen(text, match.start, match.end, "-")))


def find_leaks(text: str) -> list[redact.Match]:
    """Personal data in one file's text, leaving out digests and float fractions."""
    matches = redact.find_personal_data(text, skip_fractions=True)
    return [m for m in matches if not _inside_digest(text, m)]


def _locate_csv(text: str) -> dict[int, str]:
    """For a CSV, map each hit's order to 'row R, column NAME' so the source column is named."""
    places = []
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] = []
    for number, row in enumerate(rows, start=1):
        if number == 1:
            header = row
        for index, cell in enumerate(row):
            column = header[index] if index < len(header) else f"#{index + 1}"
            places += [f"row {number}, column {column}"] * len(find_leaks(cell))
    return dict(enumerate(places))


def _locate_json(text: str) -> dict[int, str]:
    """For JSON, map each hit's order to the key path holding it, such as [12].description."""
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    places: list[str] = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                places.extend([f"key {path}.{key} (name)"] * len(find_leaks(str(key))))
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")
        elif isinstance(node, str):
            places.extend([f"key {path or '.'}"] * len(find_leaks(reveal(node))))
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            places.extend([f"key {path or '.'}"] * len(find_leaks(json.dumps(node))))

    walk(document, "")
    return dict(enumerate(places))


_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def reveal(text: str) -> str:
    """The text as a reader or a program would see it: entities and \\u escapes decoded.

    Pages write every '-', '.', '@' and '+' of source text as a character reference
    (etl.privacy.textsafe), so '138&#45;0013&#45;8000' must be read as the phone number it shows.
    """
    if "\\u" in text:
        text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "&" in text:
        text = html.unescape(text)
    return text


def scan_file(path: Path, relative: str) -> list[Hit]:
    """Hits in one file; empty for binary files."""
    raw = _read_text(path)
    if raw is None:
        return []
    text = reveal(raw)
    matches = find_leaks(text)
    if not matches:
        return []
    suffix = path.suffix.lower()
    places: dict[int, str] = {}
    if suffix == ".csv":
        places = _locate_csv(text)
    elif suffix == ".json":
        places = _locate_json(raw)
    if len(places) != len(matches):
        places = {}  # the file's structure and its text disagree; line numbers still help
    hits = []
    for order, match in enumerate(matches):
        line = text.count("\n", 0, match.start) + 1
        where = f"line {line}" + (f", {places[order]}" if order in places else "")
        hits.append(Hit(relative, where, match.kind, redact.mask(match.text)))
    return hits


def scan_site(site_dir: Path, *, skip: tuple[str, ...] = ()) -> list[Hit]:
    """Every hit in the site's text files, in path order; `skip` adds globs of vendored files."""
    hits: list[Hit] = []
    for path in sorted(p for p in Path(site_dir).rglob("*") if p.is_file()):
        relative = path.relative_to(site_dir).as_posix()
        if path.suffix.lower() in BINARY_SUFFIXES or _is_theme_asset(relative):
            continue
        if any(fnmatch.fnmatchcase(relative, pattern) for pattern in skip):
            continue
        hits += scan_file(path, relative)
    return hits


def run(site_dir: Path, *, skip: tuple[str, ...] = ()) -> None:
    """Raise LeakFound naming each file and a masked preview if the built site holds personal data."""
    site_dir = Path(site_dir)
    if not site_dir.is_dir():
        raise LeakFound(f"cannot scan {site_dir}: not a folder",
                        hint="build the site first (python -m etl build), then scan it")
    hits = scan_site(site_dir, skip=skip)
    if not hits:
        return
    files = sorted({hit.file for hit in hits})
    lines = [f"the built site {site_dir} holds {len(hits)} piece(s) of personal data "
             f"in {len(files)} file(s):"]
    lines += [f"  - {hit.describe()}" for hit in hits[:MAX_LISTED]]
    if len(hits) > MAX_LISTED:
        lines.append(f"  ... and {len(hits) - MAX_LISTED} more")
    raise LeakFound("\n".join(lines), hint=_hint())


def _hint() -> str:
    titles = (words.field_title(field.name, "zh") for table in schema.TABLES.values() for field in table
              if field.type == "string" and field.public
              and field.name not in schema.PRIMARY_KEYS.values() and field.name != "status")
    columns = "、".join(dict.fromkeys(titles))  # each title once, in schema order
    return ("each hit came from a source cell: find the row the page or file shows and check its "
            f"text columns ({columns}) and its id; remove the personal data from the source, or, "
            "if it is a form etl/redact.py does not hide yet, report it so redaction can be "
            "extended; then publish again. Nothing is published while this check fails")

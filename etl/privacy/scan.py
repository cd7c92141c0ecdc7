"""Last check before publishing: no personal data anywhere in the built site's text files.

Its detectors are its own (etl.privacy.scan_detectors), not redaction's: a form redaction does
not know must not pass the scan for the same reason.  A hit names the file, the place and the
kind of data, never the data.
"""

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

import brotli

from etl import schema
from etl.errors import LeakFound
from etl.privacy.scan_detectors import Knowledge, Suspect, find_suspects
from etl.site import words
from etl.staff import progress

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


@dataclass(frozen=True)
class Hit:
    """One suspected piece of personal data in one file: where and what kind, not what."""

    file: str
    where: str
    kind: str
    preview: str

    def describe(self) -> str:
        return f"{self.file} {self.where}: {self.kind} {self.preview}"


def _is_theme_asset(relative: str) -> bool:
    return any(fnmatch.fnmatchcase(relative, pattern) for pattern in THEME_ASSET_GLOBS)


def _decompressed(path: Path) -> bytes | None:
    """The file's bytes, a .gz or .br decompressed (compressed text is still published text);
    None when it does not decompress."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    try:
        if suffix == ".gz":
            return gzip.decompress(data)
        if suffix == ".br":
            return brotli.decompress(data)
    except (OSError, EOFError, brotli.error):
        return None
    return data


def _copy_of_sibling(path: Path) -> bool:
    """A precompressed copy (config precompress) of the file beside it, which is scanned itself."""
    sibling = path.with_suffix("")
    return (path.suffix.lower() in (".gz", ".br") and sibling.is_file()
            and _decompressed(path) == sibling.read_bytes())


def _read_text(path: Path) -> str | None:
    """The file as text, or None when it is binary."""
    data = _decompressed(path)
    if data is None:
        return None
    if b"\x00" in data[:_SNIFF_BYTES]:
        return None
    return data.decode("utf-8", errors="replace")


def find_leaks(text: str, knowledge: Knowledge = Knowledge()) -> list[Suspect]:
    """Suspected personal data in one file's text."""
    return find_suspects(text, knowledge)


def _known_ids(site_dir: Path) -> frozenset[str]:
    """The ids of every published table in the site (issue_id, feedback_id, a 311 Unique Key),
    and the file sizes its manifests record: numbers the site prints that are nobody's."""
    ids: set[str] = set()
    keys = set(schema.PRIMARY_KEYS.values()) | {"issue_id"}
    for path in sorted(Path(site_dir).glob("data/**/*.csv")):
        rows = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig", errors="replace")))
        header = next(rows, [])
        columns = [index for index, name in enumerate(header) if name in keys]
        for row in rows:
            ids.update(row[index].lstrip("'") for index in columns if index < len(row) and row[index])
    # The data page prints each snapshot file's size in bytes: seven digits on a big site.
    for path in sorted(Path(site_dir).glob("data/**/manifest.json")):
        try:
            files = json.loads(path.read_text(encoding="utf-8")).get("files") or {}
        except (ValueError, AttributeError):
            continue
        ids.update(str(entry["bytes"]) for entry in files.values()
                   if isinstance(entry, dict) and isinstance(entry.get("bytes"), int))
    return frozenset(ids)


def _locate_csv(text: str, knowledge: Knowledge) -> dict[int, str]:
    """For a CSV, map each hit's order to 'row R, column NAME' so the source column is named."""
    places = []
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header: list[str] = []
    for number, row in enumerate(rows, start=1):
        if number == 1:
            header = row
        for index, cell in enumerate(row):
            column = header[index] if index < len(header) else f"#{index + 1}"
            places += [f"row {number}, column {column}"] * len(find_leaks(cell, knowledge))
    return dict(enumerate(places))


def _locate_json(text: str, knowledge: Knowledge) -> dict[int, str]:
    """For JSON, map each hit's order to the key path holding it, such as [12].description."""
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    places: list[str] = []

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                places.extend([f"key {path}.{key} (name)"] * len(find_leaks(str(key), knowledge)))
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")
        elif isinstance(node, str):
            places.extend([f"key {path or '.'}"] * len(find_leaks(reveal(node), knowledge)))
        elif isinstance(node, (int, float)) and not isinstance(node, bool):
            number = "" if path.endswith(("bytes", "size")) else json.dumps(node)
            places.extend([f"key {path or '.'}"] * len(find_leaks(number, knowledge)))

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


def scan_file(path: Path, relative: str, knowledge: Knowledge = Knowledge()) -> list[Hit]:
    """Hits in one file; empty for binary files."""
    raw = _read_text(path)
    if raw is None:
        return []
    text = reveal(raw)
    matches = find_leaks(text, knowledge)
    if not matches:
        return []
    suffix = path.suffix.lower()
    places: dict[int, str] = {}
    if suffix == ".csv":
        places = _locate_csv(text, knowledge)
    elif suffix == ".json":
        places = _locate_json(raw, knowledge)
    if len(places) != len(matches):
        places = {}  # the file's structure and its text disagree; line numbers still help
    hits = []
    for order, match in enumerate(matches):
        where = f"line {match.line}" + (f", {places[order]}" if order in places else "")
        hits.append(Hit(relative, where, match.kind, f"({match.shape})"))
    return hits


def scan_site(site_dir: Path, *, skip: tuple[str, ...] = (), known_ids: frozenset[str] = frozenset(),
              names: frozenset[str] = frozenset()) -> list[Hit]:
    """Every hit in the site's text files, in path order; `skip` adds globs of vendored files.

    The ids of the site's own published tables are known ids; `known_ids` adds more, and
    `names` are names known to be personal (etl.privacy.review.names_to_scan).
    """
    knowledge = Knowledge(frozenset(known_ids) | _known_ids(site_dir), frozenset(names))
    hits: list[Hit] = []
    for path in progress.track(sorted(p for p in Path(site_dir).rglob("*") if p.is_file()), "scan"):
        relative = path.relative_to(site_dir).as_posix()
        if path.suffix.lower() in BINARY_SUFFIXES or _is_theme_asset(relative):
            continue
        if any(fnmatch.fnmatchcase(relative, pattern) for pattern in skip):
            continue
        if _copy_of_sibling(path):
            continue
        hits += scan_file(path, relative, knowledge)
    return hits


def run(site_dir: Path, *, skip: tuple[str, ...] = (), known_ids: frozenset[str] = frozenset(),
        names: frozenset[str] = frozenset()) -> None:
    """Raise LeakFound naming each file and the kind of data if the built site may hold some."""
    site_dir = Path(site_dir)
    if not site_dir.is_dir():
        raise LeakFound(f"cannot scan {site_dir}: not a folder",
                        hint="build the site first (python -m etl build), then scan it")
    hits = scan_site(site_dir, skip=skip, known_ids=known_ids, names=names)
    if not hits:
        return
    files = sorted({hit.file for hit in hits})
    lines = [f"the built site {site_dir} holds {len(hits)} piece(s) of possible personal data "
             f"in {len(files)} file(s):"]
    lines += [f"  - {hit.describe()}" for hit in hits[:MAX_LISTED]]
    if len(hits) > MAX_LISTED:
        lines.append(f"  ... and {len(hits) - MAX_LISTED} more")
    raise LeakFound("\n".join(lines), hint=_hint())


def _hint() -> str:
    titles = (words.field_title(field.name, "zh", name) for name, table in schema.TABLES.items() for field in table
              if field.type == "string" and field.public
              and field.name not in schema.PRIMARY_KEYS.values() and field.name != "status")
    columns = "、".join(dict.fromkeys(titles))  # each title once, in schema order
    return ("each hit came from a source cell: find the row the page or file shows and check its "
            f"text columns ({columns}) and its id; remove the personal data from the source, or, "
            "if it is a form etl/privacy/redact.py does not hide yet, report it so redaction can "
            "be extended; a number that is not personal (a work order number) reads as one when "
            "written with a word in it (工单QH-123456) or its unit (元, %); then publish again. "
            "The review list of what redaction hid is transform/redactions.csv in the work dir. "
            "Nothing is published while this check fails")

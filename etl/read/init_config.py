"""`python -m etl init`: read staff's own exports and write a commented config that publishes them.

Each source (a file or URL: xlsx/xls/ods, CSV, JSON, Open311 JSON/XML) is read the way extract
reads it; etl/read/guess.py proposes the mapping, status words, date formats, personal columns
and unit aliases; this module writes them as YAML with a comment on every guess, loads the
result with load_config (a config init writes must load), and returns what staff must confirm.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import tempfile
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from etl import schema
from etl.config import Publish, Source, load_config, source_date
from etl.errors import EtlError, SourceError
from etl.read import adapters, guess, http
from etl.read.formats import detect_format, public_url
from etl.read.sources import SPREADSHEET_FORMATS, read_bytes
from etl.read.table import RawTable
from etl.site import words

KNOWN_HEADERS = frozenset(
    [h for table in schema.TABLES for h in schema.DEFAULT_COLUMNS[table]]
    + [h for table in schema.TABLES for h in guess.ENGLISH_COLUMNS[table]])


@dataclass
class Found:
    """One source as init read it and what it guessed."""

    spec: str                      # the path or URL as given
    kind: str                      # file, http, open311, open311_xml
    raw: RawTable
    proposal: guess.Guess
    name: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def is_url(self) -> bool:
        return self.spec.startswith(("http://", "https://"))


def _q(value) -> str:
    """A YAML scalar: JSON's quoting is valid YAML and keeps Chinese as it is."""
    return json.dumps(value, ensure_ascii=False)


def _load_bytes(spec: str, cache_dir: Path) -> bytes:
    if spec.startswith(("http://", "https://")):
        data, _meta = http.fetch(Source(name="init", url=spec), cache_dir=cache_dir)
        return data
    try:
        return Path(spec).read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read {spec}: {error.strerror}",
                          hint="give the path of an export (xlsx, xls, ods, csv, json) or a URL")


def _feed_kind(data: bytes) -> str:
    """open311 / open311_xml when the bytes are a GeoReport v2 list, else ''."""
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
    if head.startswith(b"<") and b"service_requests" in head:
        return "open311_xml"
    if head[:1] in (b"[", b"{"):
        try:
            parsed = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            return ""
        if isinstance(parsed, dict):
            parsed = parsed.get("service_requests")
        if isinstance(parsed, list) and parsed and isinstance(parsed[0], dict) \
                and "service_request_id" in parsed[0]:
            return "open311"
    return ""


def _best_sheet(data: bytes, name: str, fmt: str) -> RawTable:
    """The sheet whose header names the most known columns (the first on a tie)."""
    import python_calamine
    with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) as book:
        names = list(book.sheet_names)
    best, best_score, failure = None, -1, None
    for sheet in names:
        try:
            table = read_bytes(data, name=name, source_name="init", fmt=fmt, sheet=sheet,
                               known_headers=KNOWN_HEADERS)
        except SourceError as error:
            failure = failure or error
            continue
        keys = {h.casefold() for h in KNOWN_HEADERS}
        score = sum(1 for header in table.headers if header.casefold() in keys)
        if score > best_score:
            best, best_score = table, score
    if best is None:
        raise failure
    return best


def read_one(spec: str, cache_dir: Path) -> Found:
    data = _load_bytes(spec, cache_dir)
    name = public_url(spec) if spec.startswith(("http://", "https://")) else Path(spec).name
    kind = _feed_kind(data)
    if kind:
        raw = adapters.to_raw_table(kind, data, name=name, source_name="init")
        proposal = guess.guess(raw, "issues")
        proposal.columns = {}  # the adapter names its columns by field already
        found = Found(spec, kind, raw, proposal)
        missing = sum(1 for _n, cells in raw.rows if cells[raw.headers.index("unit")] is None)
        if missing:
            found.notes.append(f"{missing} of {len(raw.rows)} requests have no "
                               "agency_responsible: unit_fallback service_name gives them their "
                               "service's name as the unit")
            proposal.confirm.append(f"unit_fallback: service_name for the {missing} requests "
                                    "without agency_responsible (or give a fixed unit name)")
        return found
    fmt = detect_format(data, name)
    if fmt in SPREADSHEET_FORMATS:
        raw = _best_sheet(data, name, fmt)
    else:
        raw = read_bytes(data, name=name, source_name="init", known_headers=KNOWN_HEADERS)
    kind = "http" if spec.startswith(("http://", "https://")) else "file"
    return Found(spec, kind, raw, guess.guess(raw))


def _language(found: list[Found]) -> str:
    headers = [h for f in found for h in f.raw.headers if h]
    ascii_share = sum(1 for h in headers if h.isascii()) / max(1, len(headers))
    return "en" if ascii_share > 0.8 else "zh"


def _as_of(found: list[Found]) -> dt.date:
    today = source_date() or dt.date.today()
    latest = max((f.proposal.latest_date for f in found if f.proposal.latest_date),
                 default=None)
    return max(today, latest) if latest else today


def run(specs: list[str], out: Path, *, force: bool = False) -> list[str]:
    """Write the config for these sources to `out`; return the summary lines to print."""
    out = Path(out)
    if out.exists() and not force:
        raise EtlError(f"{out} already exists", hint="choose another --out, or add --force")
    with tempfile.TemporaryDirectory(prefix="gongshi-init-") as cache:
        found = [read_one(spec, Path(cache)) for spec in specs]
    used: dict[str, int] = {}
    for item in found:
        base = item.proposal.table
        used[base] = used.get(base, 0) + 1
        item.name = base if used[base] == 1 else f"{base}{used[base]}"
    if "issues" not in used:
        raise EtlError("none of the sources looks like an issue list (问题清单): no header "
                       "names an issue id, description, unit or status",
                       hint="give the issue list export too, or map its headers by hand")
    out.parent.mkdir(parents=True, exist_ok=True)
    text = render(found, out.parent.resolve())
    out.write_text(text, encoding="utf-8")
    load_config(out)  # what init writes must load; a failure here is a bug in init
    return summary(found, out)


def _relative(spec: str, folder: Path) -> str:
    return Path(os.path.relpath(Path(spec).resolve(), folder)).as_posix()


def render(found: list[Found], folder: Path) -> str:
    language = _language(found)
    as_of = _as_of(found)
    lines = ["# Written by `python -m etl init` from: " + ", ".join(
                 public_url(f.spec) if f.is_url else Path(f.spec).name for f in found),
             "# Every key is explained in CONFIG.md. Lines marked CONFIRM are guesses to check "
             "before the first publish.",
             f"title: {_q(words.words(language)['init_title'])}  # CONFIRM: the site's title",
             'region: ""  # the region or office publishing, shown on every page',
             f"language: {language}",
             f"as_of: {as_of.isoformat()}  # CONFIRM: the publish date (today, or the latest "
             "date in the data if later)", "", "sources:"]
    for item in found:
        lines += _source_lines(item, folder)
    lines += _status_lines(found)
    lines += _alias_lines(found)
    lines += _publish_lines(found)
    return "\n".join(lines).rstrip() + "\n"


def _source_lines(item: Found, folder: Path) -> list[str]:
    raw, proposal = item.raw, item.proposal
    lines = [f"  - name: {item.name}", f"    table: {proposal.table}", f"    kind: {item.kind}"]
    if item.is_url:
        lines.append(f"    url: {_q(item.spec)}")
    else:
        lines.append(f"    path: {_q(_relative(item.spec, folder))}")
    if item.is_url and "/resource/" in urllib.parse.urlsplit(item.spec).path:
        lines.append("    paging: {style: socrata}  # a Socrata endpoint: every page is read "
                     "and checked against its row count")
    if item.kind in ("open311", "open311_xml"):
        lines.append(f"    # {len(raw.rows)} requests read; Open311 paging is followed "
                     "(paging.page_size, paging.max_pages)")
        if any("agency_responsible" in note for note in item.notes):
            lines.append("    unit_fallback: service_name  # CONFIRM: " + item.notes[0])
        return lines + [""]
    if raw.sheet:
        lines.append(f"    sheet: {_q(raw.sheet)}  # the sheet whose header names the most "
                     "known columns")
    if raw.header_row:
        above = "  # the title rows above it are skipped" if raw.header_row > 1 else ""
        lines.append(f"    header_row: {raw.header_row}{above}")
    if proposal.columns:
        lines.append("    columns:  # source header -> field")
        for header, (target, why) in proposal.columns.items():
            mark = "" if why == "known name" else "  # CONFIRM: " + why
            lines.append(f"      {_q(header)}: {target}{mark}")
    if proposal.date_formats:
        lines.append("    dates:")
        lines.append("      formats:  # found in the date columns; tried before the built-in "
                     "forms (2026-06-30, 2026/6/30, 2026年6月30日)")
        for form, headers in proposal.date_formats.items():
            lines.append(f"        - {_q(form)}  # " + ", ".join(headers))
    if proposal.date_forms_understood:
        lines.append("    # dates read as written, no format needed: "
                     + ", ".join(proposal.date_forms_understood))
    if proposal.personal:
        lines.append("    # personal data, never published (unmapped, or a field that is never "
                     "public):")
        for header, what in proposal.personal.items():
            lines.append(f"    #   {header}: {what}")
    if proposal.unmapped:
        lines.append("    # not mapped, so not published: " + ", ".join(proposal.unmapped))
    return lines + [""]


def _status_lines(found: list[Found]) -> list[str]:
    words: dict[str, tuple[str, bool]] = {}
    for item in found:
        words.update(item.proposal.statuses)
    if not words:
        return []
    lines = ["status_words:  # every status word found -> open, in_progress, done, long_term "
             "or rework"]
    for word, (status, known) in words.items():
        mark = "" if known else "  # CONFIRM: guessed from the wording"
        lines.append(f"  {_q(word)}: {status}{mark}")
    return lines + [""]


def _alias_lines(found: list[Found]) -> list[str]:
    sure, unsure = {}, {}
    for item in found:
        for name, (canonical, certain) in item.proposal.aliases.items():
            (sure if certain else unsure)[name] = canonical
    if not sure and not unsure:
        return []
    lines = ["aliases:  # other spellings of a unit, read as the name they point to",
             "  unit:" + ("" if sure else " {}")]
    lines += [f"    {_q(name)}: {_q(canonical)}  # the same name but for spaces, width or case"
              for name, canonical in sure.items()]
    lines += [f"    # {_q(name)}: {_q(canonical)}  # CONFIRM: a similar name; uncomment if it "
              "is the same unit" for name, canonical in unsure.items()]
    return lines + [""]


def _publish_lines(found: list[Found]) -> list[str]:
    lines = ["publish:", "  fields:  # the allow-list: only these fields are ever published"]
    defaults = Publish().fields
    for table in schema.TABLES:
        mapped = {target for item in found if item.proposal.table == table
                  for target, _why in item.proposal.columns.values()}
        if any(item.proposal.table == table and item.kind.startswith("open311")
               for item in found):
            mapped |= set(adapters.OPEN311_COLUMNS)
        mapped.add(schema.PRIMARY_KEYS[table])
        chosen = [name for name in defaults[table] if name in mapped]
        lines.append(f"    {table}: [{', '.join(chosen)}]")
    return lines


def summary(found: list[Found], out: Path) -> list[str]:
    lines = [f"wrote {out}"]
    for item in found:
        proposal, raw = item.proposal, item.raw
        where = f"sheet {raw.sheet!r}, " if raw.sheet else ""
        header = f"header on row {raw.header_row}, " if raw.header_row else ""
        lines.append(f"  {item.name}: {item.kind} {public_url(item.spec) if item.is_url else item.spec}"
                     f" -> {proposal.table}; {where}{header}{len(raw.rows)} rows")
        if proposal.columns:
            lines.append("    columns: " + ", ".join(f"{h} -> {t}"
                                                     for h, (t, _w) in proposal.columns.items()))
        if proposal.statuses:
            lines.append("    status words: " + ", ".join(f"{w} -> {s}" for w, (s, _k)
                                                          in proposal.statuses.items()))
        if proposal.date_formats:
            lines.append("    date formats: " + ", ".join(proposal.date_formats))
        if proposal.personal:
            lines.append("    never published (personal data): " + ", ".join(proposal.personal))
        if proposal.aliases:
            lines.append("    unit aliases: " + ", ".join(f"{a} -> {c}" for a, (c, _s)
                                                          in proposal.aliases.items()))
    confirm = [f"{item.name}: {line}" for item in found for line in item.proposal.confirm]
    confirm += ["title and as_of at the top of the config"]
    lines.append("confirm before publishing:")
    lines += [f"  - {line}" for line in confirm]
    return lines

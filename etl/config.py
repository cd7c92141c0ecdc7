"""One YAML config, declared once as typed, documented options and frozen after loading.

Every option is a field of one of the dataclasses below, made with `option(default, doc)`:
its annotation is its type, its default is the default, and its doc is the one line the
config reference (`python -m etl config-reference`, CONFIG.md) prints. The loader, the unknown-key
check and the reference are all generated from these fields (`etl/config_load.py`), the way
mkdocs declares its config schema: nothing about an option is written twice.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from etl import schema

# The site languages: the one list every other module reads (templates/text.yml has a block
# for each, and content/<language>/ its hand-written pages).
LANGUAGES = ("zh", "en")
FILE_FORMATS = ("auto", "xlsx", "xls", "xlsm", "ods", "csv", "json", "xml")
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "site_data" / "gongshi.yml"


def option(default: Any, doc: str, **rules: Any):
    """One config option: its default and its one-line doc, plus rules the loader applies.

    rules: `choices` (allowed values), `minimum`/`maximum` (numbers), `required`,
    `example` (for the reference), `relative` (a path under the config's folder).
    A list or mapping default is frozen into a tuple or read-only mapping.
    """
    metadata = {"doc": doc, **rules}
    if isinstance(default, (list, tuple)):
        frozen = tuple(default)
        return field(default_factory=lambda: frozen, metadata=metadata)
    if isinstance(default, Mapping):
        items = dict(default)
        return field(default_factory=lambda: MappingProxyType(dict(items)), metadata=metadata)
    if dataclasses.is_dataclass(default):
        return field(default_factory=lambda: default, metadata=metadata)
    return field(default=default, metadata=metadata)


def internal(default: Any = None):
    """A field set by the loader, not read from YAML (the config file's own path)."""
    return field(default=default, metadata={"internal": True})


def _source_kinds() -> tuple[str, ...]:
    from etl.read.adapters import KINDS  # the adapter registry names the feed kinds
    return ("file", "http", *KINDS)


@dataclass(frozen=True)
class HttpOptions:
    """How an HTTP source is fetched; defaults suit a slow county server."""

    timeout_seconds: float = option(20.0, "seconds to wait for each read from the server",
                                    minimum=0.001)
    retries: int = option(3, "how many times a failed download is tried again", minimum=0)
    backoff_seconds: float = option(1.0, "wait before the first retry; doubles each time",
                                    minimum=0)
    max_bytes: int = option(50 * 1024 * 1024, "largest download accepted, in bytes", minimum=1)
    content_types: tuple[str, ...] = option((), "content types accepted besides the format's own",
                                            example=["text/plain"])
    headers: Mapping[str, str] = option({}, "extra request headers (never published)",
                                        example={"Authorization": "Bearer ..."})


@dataclass(frozen=True)
class Dates:
    """How date cells are read, beyond the forms always understood (2026-06-30, 2026年6月30日)."""

    formats: tuple[str, ...] = option((), "strptime formats tried first, in order, for text "
                                      "dates", example=["%m/%d/%Y %I:%M:%S %p"])
    default_year: int | None = option(None, "the year of a date written without one (6月底, "
                                      "6月30日); it also makes a month alone (2026年6月, 6月) "
                                      "its last day", minimum=1900, maximum=2100, example=2026)
    order: str = option("ymd", "how an all-number date such as 03/04/2026 is read: year first "
                        "only (ymd), month first (mdy) or day first (dmy)",
                        choices=("ymd", "mdy", "dmy"))


@dataclass(frozen=True)
class Paging:
    """How a feed that serves a page at a time is read whole; a pull cut short is an error."""

    style: str = option("auto", "auto: Open311 paging for the open311 kinds, none for the rest; "
                        "open311: `page` and `page_size` parameters; socrata: `$limit` and "
                        "`$offset`, checked against the server's `count(*)`; none: one request",
                        choices=("auto", "none", "open311", "socrata"))
    page_size: int = option(1000, "records asked for per page", minimum=1)
    max_pages: int = option(100, "most pages read; a feed with more stops the publish, never "
                            "publishes a part", minimum=1)


@dataclass(frozen=True)
class Source:
    """One input: a file under the config folder or a URL, feeding one canonical table."""

    name: str = option("", "the source's name in errors and in the snapshot; unique",
                       example="issues")
    table: str = option("issues", "the canonical table it feeds", choices=tuple(schema.TABLES))
    kind: str = option("file", "file: a spreadsheet, CSV or JSON at `path`; http: the same at "
                       "`url`; feed adapters (at `path` or `url`): open311 (GeoReport v2 JSON), "
                       "open311_xml (GeoReport v2 XML), csv311 (a 311 open-data CSV export, "
                       "NYC columns)", choices=_source_kinds)
    path: Path | None = option(None, "the file, relative to the config's folder (kind file, "
                               "or a feed adapter reading a saved export)",
                               relative=True, example="sources/问题整改清单.xlsx")
    url: str = option("", "the URL (kind http, or a feed adapter reading a live feed)",
                      example="https://data.example.gov.cn/export.csv")
    format: str = option("auto", "file format; auto sniffs it from the bytes and name",
                         choices=FILE_FORMATS)
    sheet: str = option("", "sheet name or number in a workbook; empty: the first sheet that "
                        "has the known headers")
    encoding: str = option("auto", "text encoding of CSV/JSON; auto: BOM, UTF-8, then GB18030")
    header_row: int | None = option(None, "1-based row of the header; empty: found by its names",
                                    minimum=1)
    columns: Mapping[str, str] = option({}, "this source's own header -> field mapping, on top "
                                        "of `columns`", example={"序号": "issue_id"})
    http: HttpOptions = option(HttpOptions(), "how the URL is fetched")
    paging: Paging = option(Paging(), "how a paged feed (Open311, Socrata) is read whole")
    unit_fallback: str = option("", "feed adapters: the unit of a request without one "
                                "(Open311 agency_responsible, 311 Agency): `service_name` takes "
                                "its service or complaint type, other text is a fixed unit; "
                                "empty: such a row is rejected", example="service_name")
    dates: Dates | None = option(None, "this source's own date reading (formats, default_year, "
                                 "order); replaces the top-level `dates` for it")


@dataclass(frozen=True)
class Claim:
    """A figure quoted in an official report, reconciled against item-level data."""

    label: str = option("", "the figure's name as the report words it", required=True,
                        example="已整改问题")
    metric: str = option("", "the figure key it is checked against; empty: the item data "
                         "cannot check it, and it is listed as reported only",
                         example="issues.done")
    value: float = option(0.0, "the number the report claims", required=True, example=420)
    date: dt.date | None = option(None, "the date the report gives for it", example="2026-10-31")
    source: str = option("", "the report it is quoted from", example="县委办公室《阶段性工作报告》")


@dataclass(frozen=True)
class Publish:
    """What is published."""

    fields: Mapping[str, tuple[str, ...]] = option(
        {table: tuple(f.name for f in fields if f.public) for table, fields in schema.TABLES.items()},
        "per table, the fields published (an allow-list; complainant fields never are)")


@dataclass(frozen=True)
class Paths:
    """Where publishing writes; relative to the config's folder."""

    work_dir: Path = option(Path("build"), "scratch folder for the stages' files", relative=True)
    site_dir: Path = option(Path("site"), "the published site, replaced whole on each publish",
                            relative=True)
    snapshots_dir: Path = option(Path("snapshots"), "the snapshot chain; never cleared",
                                 relative=True)


@dataclass(frozen=True)
class Signing:
    """Optional minisign signatures of every snapshot manifest."""

    minisign_key: Path | None = option(None, "secret key file; its .pub must sit beside it",
                                       relative=True, example="keys/minisign.key")
    password_env: str = option("", "environment variable holding the key's password")


@dataclass(frozen=True)
class Removals:
    """When a publish may drop items the previous snapshot published (etl/ledger/removals.py)."""

    allowed_reason: str = option("", "a standing reason that lets publishes drop items; it is "
                                 "recorded in the snapshot and shown on the changes page. "
                                 "`--allow-removals REASON` gives one for a single publish",
                                 example="合并重复登记的问题")
    max_drop_share: float = option(0.1, "under allowed_reason, a table's rows may fall by at most "
                                   "this share; a larger drop needs `--allow-removals`",
                                   minimum=0, maximum=1)
    # `--allow-removals REASON`: for this one publish, any removal. Internal, so it stays out
    # of the build record and a rerun without the flag is the same snapshot.
    command_line_reason: str = internal("")


@dataclass(frozen=True)
class Timestamp:
    """Optional RFC 3161 timestamps of every snapshot manifest from a timestamp authority."""

    url: str = option("", "the authority's RFC 3161 address; empty: no timestamps",
                      example="https://tsa.example.gov.cn/tsr")
    ca_file: Path | None = option(None, "the authority's CA certificate (PEM) its tokens must "
                                  "chain to; required with url, and published as "
                                  "data/timestamp-ca.pem", relative=True,
                                  example="keys/tsa-ca.pem")
    timeout_seconds: float = option(20.0, "seconds to wait for the authority's answer",
                                    minimum=0.001)


@dataclass(frozen=True)
class Privacy:
    """How person names in free text are found (numbers and e-mail need no settings)."""

    name_cues: tuple[str, ...] = option((), "extra words after which a name is hidden, on top "
                                        "of 举报人, 村民, 联系人 ...", example=["网格员"])
    keep_names: tuple[str, ...] = option((), "names never hidden, such as public officials "
                                         "named in the text", example=["张建国"])


@dataclass(frozen=True)
class SkipRows:
    """Rows that are not items, such as a 合计 total row, skipped and counted in the report."""

    patterns: tuple[str, ...] = option((), "regular expressions; a row whose first text cell "
                                       "matches one whole is skipped. 合计, 总计 and 小计 rows "
                                       "always are", example=["^说明[:：]"])


@dataclass(frozen=True)
class Aliases:
    """Other spellings of a unit or area, read as their canonical name."""

    unit: Mapping[str, str] = option({}, "unit alias -> canonical unit name",
                                     example={"县交通运输局": "县交通局"})
    area: Mapping[str, str] = option({}, "area alias -> canonical area name",
                                     example={"城关": "城关镇"})


@dataclass(frozen=True)
class Replies:
    """How fast opinions are answered: the two limits reply shares are counted against."""

    prompt_days: int = option(7, "an opinion replied within this many days of receipt counts "
                              "as replied promptly (rate.reply_prompt)", minimum=0)
    limit_days: int = option(15, "an opinion replied within this many days counts as replied "
                             "within the limit (rate.reply_in_limit)", minimum=0)


@dataclass(frozen=True)
class Ranking:
    """The unit ranking (红黑榜): which units enter it, and whether its page is published."""

    page: bool = option(False, "publish the ranking page with the top and bottom units")
    min_items: int = option(20, "a unit enters the ranking only with at least this many issues",
                            minimum=1)
    size: int = option(3, "how many units the top and the bottom list each show", minimum=1)


class WithPaths:
    """The folders of a config with `path` (its file) and a `paths` section."""

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    @property
    def work_dir(self) -> Path:
        return self.paths.work_dir

    @property
    def site_dir(self) -> Path:
        return self.paths.site_dir

    @property
    def snapshots_dir(self) -> Path:
        return self.paths.snapshots_dir


@dataclass(frozen=True)
class Config(WithPaths):
    """The whole validated config, frozen; paths are absolute."""

    path: Path = internal(Path("gongshi.yml"))
    title: str = option("整改公示", "the site's title")
    region: str = option("", "the region or office publishing, shown on every page",
                         example="清河县")
    language: str = option("zh", "site language: every UI word, figure label and page",
                           choices=LANGUAGES)
    as_of: dt.date = option(dt.date(1970, 1, 1), "the publish date; default SOURCE_DATE_EPOCH "
                            "(`--as-of` overrides both)", required=True, example="2026-11-20")
    satisfaction_threshold: float = option(80.0, "satisfaction below this means rework (返工)",
                                           minimum=0, maximum=100)
    stale_weeks: int = option(8, "an open item not updated for this many weeks is stale",
                              minimum=1)
    site_url: str = option("", "the site's public address; with it the site gets a sitemap "
                           "with every page and a robots.txt",
                           example="https://gongshi.example.gov.cn/2026/")
    precompress: bool = option(False, "also write a .gz and a .br copy of every text file, for "
                               "hosts that serve them as they are (README: nginx, Caddy)")
    sources: tuple[Source, ...] = option((), "the exports and feeds to read", required=True)
    columns: Mapping[str, Mapping[str, str]] = option(
        schema.DEFAULT_COLUMNS, "per table, source header -> field; added to the defaults",
        example={"issues": {"问题序号": "issue_id"}})
    status_words: Mapping[str, str] = option(
        {schema.status_key(word): status for word, status in schema.DEFAULT_STATUS_WORDS.items()},
        "status word -> canonical status; added to the defaults",
        example={"基本完成": "in_progress"})
    publish: Publish = option(Publish(), "what is published")
    paths: Paths = option(Paths(), "where publishing writes")
    signing: Signing = option(Signing(), "optional minisign signing")
    timestamp: Timestamp = option(Timestamp(), "optional RFC 3161 timestamps of each manifest")
    removals: Removals = option(Removals(), "when a publish may drop published items")
    claims: tuple[Claim, ...] = option((), "headline figures quoted in official reports")
    replies: Replies = option(Replies(), "reply speed limits of the opinion ledger")
    ranking: Ranking = option(Ranking(), "the unit ranking (红黑榜) and its page")
    privacy: Privacy = option(Privacy(), "how person names in free text are hidden")
    dates: Dates = option(Dates(), "how date cells are read (each source may have its own)")
    defaults: Mapping[str, Mapping[str, str]] = option(
        {}, "per table, field -> value used when the cell is empty",
        example={"issues": {"status": "未启动"}})
    aliases: Aliases = option(Aliases(), "other spellings of unit and area names")
    skip_rows: SkipRows = option(SkipRows(), "rows that are not items (total rows)")
    cut_at_as_of: bool = option(False, "leave out what happened after as_of (dates later than "
                                "it) instead of stopping the publish, the same for every figure")

    @property
    def published_fields(self) -> Mapping[str, tuple[str, ...]]:
        return self.publish.fields

    @property
    def minisign_key(self) -> Path | None:
        return self.signing.minisign_key

    @property
    def minisign_password_env(self) -> str:
        return self.signing.password_env

    def source_key(self, source: Source) -> str:
        """The config key of a source, for hints that say what to change: `sources[2]`."""
        index = next((i for i, s in enumerate(self.sources) if s is source), None)
        return f"sources[{index}]" if index is not None else f"source {source.name}"

    def replace(self, **changes: Any) -> Config:
        """A copy with some options changed; the flat names of the properties above may be used."""
        for flat, (section, key) in _FLAT_NAMES.items():
            if flat in changes:
                inner = dataclasses.replace(changes.get(section, getattr(self, section)),
                                            **{key: changes.pop(flat)})
                changes[section] = inner
        return dataclasses.replace(self, **changes)


# Config's properties that read a nested option, for Config.replace.
_FLAT_NAMES = {"work_dir": ("paths", "work_dir"), "site_dir": ("paths", "site_dir"),
               "snapshots_dir": ("paths", "snapshots_dir"),
               "minisign_key": ("signing", "minisign_key"),
               "minisign_password_env": ("signing", "password_env")}


def source_date() -> dt.date | None:
    """The date SOURCE_DATE_EPOCH names, so rebuilds of the same inputs match byte for byte."""
    from etl.errors import ConfigError
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    except ValueError:
        raise ConfigError([f"SOURCE_DATE_EPOCH: {epoch!r} is not a whole number of seconds"])


def load_config(path: str | os.PathLike | None = None, *, as_of: dt.date | None = None) -> Config:
    """Read and validate the config; raise ConfigError listing every problem found."""
    from etl.config_load import load
    return load(Path(path or os.environ.get("GONGSHI_CONFIG") or DEFAULT_CONFIG).resolve(),
                as_of=as_of)

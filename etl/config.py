"""One YAML config, checked against a typed schema that reports every problem at once."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from etl import manifests, schema
from etl.errors import ConfigError

SOURCE_KINDS = ("file", "http", "open311", "open311_xml", "csv311")
FILE_FORMATS = ("auto", "xlsx", "xls", "xlsm", "ods", "csv", "json", "xml")
LANGUAGES = ("zh", "en")
DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "site_data" / "gongshi.yml"


@dataclass
class HttpOptions:
    """How an HTTP source is fetched; defaults suit a slow county server."""

    timeout_seconds: float = 20.0
    retries: int = 3
    backoff_seconds: float = 1.0
    max_bytes: int = 50 * 1024 * 1024
    content_types: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Source:
    """One input: a file under the config folder or a URL, feeding one canonical table."""

    name: str
    table: str = "issues"
    kind: str = "file"
    path: Path | None = None
    url: str = ""
    format: str = "auto"
    sheet: str = ""
    encoding: str = "auto"
    header_row: int | None = None  # 1-based; None means find it
    columns: dict[str, str] = field(default_factory=dict)
    http: HttpOptions = field(default_factory=HttpOptions)


@dataclass
class Claim:
    """A figure quoted in an official report, reconciled against item-level data."""

    label: str
    metric: str
    value: float
    date: dt.date | None = None
    source: str = ""


@dataclass
class Config:
    """The whole validated config; paths are absolute."""

    path: Path
    title: str
    region: str
    language: str
    as_of: dt.date
    satisfaction_threshold: float
    sources: list[Source]
    columns: dict[str, dict[str, str]]
    status_words: dict[str, str]
    published_fields: dict[str, list[str]]
    work_dir: Path
    site_dir: Path
    snapshots_dir: Path
    claims: list[Claim]
    stale_weeks: int = 8
    minisign_key: Path | None = None
    minisign_password_env: str = ""
    site_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def source_key(self, source: Source) -> str:
        """The config key of a source, for hints that say what to change: `sources[2]`."""
        index = next((i for i, s in enumerate(self.sources) if s is source), None)
        return f"sources[{index}]" if index is not None else f"source {source.name}"


DEFAULT_PUBLISHED = {
    "issues": [f.name for f in schema.ISSUE_FIELDS if f.public],
    "feedback": [f.name for f in schema.FEEDBACK_FIELDS if f.public],
}

KNOWN_TOP_KEYS = {
    "title", "region", "language", "as_of", "satisfaction_threshold", "sources", "columns",
    "status_words", "publish", "paths", "claims", "stale_weeks", "signing", "site_url",
}
# A misspelt nested key would silently fall back to a default (an unsigned publish, a site in
# the wrong folder), so every mapping lists the keys it knows.
KNOWN_KEYS = {
    "source": {"name", "table", "kind", "path", "url", "format", "sheet", "encoding",
               "header_row", "columns", "http"},
    "http": {"timeout_seconds", "retries", "backoff_seconds", "max_bytes", "content_types",
             "headers"},
    "publish": {"fields"},
    "paths": {"work_dir", "site_dir", "snapshots_dir"},
    "signing": {"minisign_key", "password_env"},
    "claim": {"label", "metric", "value", "date", "source"},
}


class _Collector:
    """Reads typed values from a mapping, recording a problem per bad key instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def get(self, data: dict, key: str, kind: type | tuple, prefix: str, default: Any = None,
            required: bool = False) -> Any:
        if key not in data or data[key] is None:
            if required:
                self.problems.append(f"{prefix}{key}: required")
            return default
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.problems.append(f"{prefix}{key}: expected {names}, got {type(value).__name__}")
            return default
        return value

    def known(self, data: dict, keys: set[str], prefix: str) -> None:
        for key in sorted(set(data) - keys, key=str):
            self.problems.append(f"{prefix}{key}: unknown key (known: {', '.join(sorted(keys))})")

    def choice(self, data: dict, key: str, choices: tuple, prefix: str, default: str) -> str:
        value = self.get(data, key, str, prefix, default)
        if value not in choices:
            self.problems.append(f"{prefix}{key}: {value!r} is not one of {', '.join(choices)}")
            return default
        return value


def source_date() -> dt.date | None:
    """The date SOURCE_DATE_EPOCH names, so rebuilds of the same inputs match byte for byte."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return None
    try:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    except ValueError:
        raise ConfigError([f"SOURCE_DATE_EPOCH: {epoch!r} is not a whole number of seconds"])


def _parse_as_of(value: Any, problems: list[str]) -> dt.date:
    if isinstance(value, dt.datetime):
        # A time would end up in snapshot ids and folder names ("2026-11-20T10:00:00").
        problems.append(f"as_of: {value} has a time of day; give the date alone, like 2026-11-20")
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.append(f"as_of: {value!r} is not a date like 2026-11-20")
    return dt.date(1970, 1, 1)


def _read_sources(raw: Any, c: _Collector, base: Path) -> list[Source]:
    if not isinstance(raw, list) or not raw:
        c.problems.append("sources: expected a non-empty list of sources")
        return []
    sources: list[Source] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        prefix = f"sources[{index}]."
        if not isinstance(item, dict):
            c.problems.append(f"sources[{index}]: expected a mapping")
            continue
        c.known(item, KNOWN_KEYS["source"], prefix)
        name = c.get(item, "name", str, prefix, f"source{index + 1}")
        if name in seen:
            c.problems.append(f"{prefix}name: {name!r} is used twice")
        seen.add(name)
        source = Source(
            name=name,
            table=c.choice(item, "table", tuple(schema.TABLES), prefix, "issues"),
            kind=c.choice(item, "kind", SOURCE_KINDS, prefix, "file"),
            format=c.choice(item, "format", FILE_FORMATS, prefix, "auto"),
            sheet=str(c.get(item, "sheet", (str, int), prefix, "")),
            encoding=c.get(item, "encoding", str, prefix, "auto"),
            header_row=c.get(item, "header_row", int, prefix, None),
            url=c.get(item, "url", str, prefix, ""),
            columns={str(k): str(v) for k, v in c.get(item, "columns", dict, prefix, {}).items()},
        )
        path = c.get(item, "path", str, prefix, "")
        if source.kind == "file":
            if not path:
                c.problems.append(f"{prefix}path: required for a file source")
            else:
                source.path = (base / path).resolve()
        elif not source.url:
            c.problems.append(f"{prefix}url: required for a {source.kind} source")
        elif not source.url.startswith(("http://", "https://")):
            c.problems.append(f"{prefix}url: {source.url!r} must start with http:// or https://")
        http = c.get(item, "http", dict, prefix, {})
        hp = prefix + "http."
        c.known(http, KNOWN_KEYS["http"], hp)
        source.http = HttpOptions(
            timeout_seconds=c.get(http, "timeout_seconds", float, hp, 20.0),
            retries=c.get(http, "retries", int, hp, 3),
            backoff_seconds=c.get(http, "backoff_seconds", float, hp, 1.0),
            max_bytes=c.get(http, "max_bytes", int, hp, 50 * 1024 * 1024),
            content_types=list(c.get(http, "content_types", list, hp, [])),
            headers={str(k): str(v) for k, v in c.get(http, "headers", dict, hp, {}).items()},
        )
        for target in source.columns.values():
            if target not in schema.field_names(source.table):
                c.problems.append(f"{prefix}columns: {target!r} is not a field of {source.table}")
        sources.append(source)
    return sources


def _read_published(publish: dict, c: _Collector) -> dict[str, list[str]]:
    result = {}
    fields = c.get(publish, "fields", dict, "publish.", {})
    for table, default in DEFAULT_PUBLISHED.items():
        chosen = fields.get(table, default)
        if not isinstance(chosen, list):
            c.problems.append(f"publish.fields.{table}: expected a list of field names")
            chosen = default
        known = schema.field_names(table)
        for name in chosen:
            if name not in known:
                c.problems.append(f"publish.fields.{table}: {name!r} is not a field of {table}")
            elif name in schema.NEVER_PUBLISHED:
                c.problems.append(f"publish.fields.{table}: {name!r} identifies a complainant "
                                  "and is never published")
        key = schema.PRIMARY_KEYS[table]
        if key not in chosen:
            c.problems.append(f"publish.fields.{table}: must include the key {key!r}")
        result[table] = [n for n in known if n in chosen and n not in schema.NEVER_PUBLISHED]
    for table in fields:
        if table not in schema.TABLES:
            c.problems.append(f"publish.fields.{table}: unknown table")
    return result


def _read_claims(raw: Any, c: _Collector) -> list[Claim]:
    claims = []
    for index, item in enumerate(raw or []):
        prefix = f"claims[{index}]."
        if not isinstance(item, dict):
            c.problems.append(f"claims[{index}]: expected a mapping")
            continue
        c.known(item, KNOWN_KEYS["claim"], prefix)
        date_value = item.get("date")
        if date_value is not None and not isinstance(date_value, dt.date):
            c.problems.append(f"{prefix}date: {date_value!r} is not a date like 2024-06-30")
            date_value = None
        claims.append(Claim(
            label=c.get(item, "label", str, prefix, "", required=True),
            metric=c.get(item, "metric", str, prefix, "", required=True),
            value=c.get(item, "value", float, prefix, 0.0, required=True),
            date=date_value,
            source=c.get(item, "source", str, prefix, ""),
        ))
    return claims


def load_config(path: str | os.PathLike | None = None, *, as_of: dt.date | None = None) -> Config:
    """Read and validate the config; raise ConfigError listing every problem found."""
    config_path = Path(path or os.environ.get("GONGSHI_CONFIG") or DEFAULT_CONFIG).resolve()
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"file not found: {config_path}"], path=str(config_path))
    except UnicodeDecodeError:
        raise ConfigError(["the file is not UTF-8 text"], path=str(config_path))
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"], path=str(config_path))
    if not isinstance(data, dict):
        raise ConfigError(["the top level must be a mapping of keys"], path=str(config_path))

    c = _Collector()
    base = config_path.parent
    c.known(data, KNOWN_TOP_KEYS, "")

    threshold = c.get(data, "satisfaction_threshold", float, "", 80.0)
    if not 0 <= threshold <= 100:
        c.problems.append(f"satisfaction_threshold: {threshold} is outside 0-100")
    # An explicit date wins: the command line, then the config, then SOURCE_DATE_EPOCH.
    chosen_as_of = as_of
    if chosen_as_of is None and data.get("as_of") is not None:
        chosen_as_of = _parse_as_of(data["as_of"], c.problems)
    if chosen_as_of is None:
        chosen_as_of = source_date()
    if chosen_as_of is None:
        c.problems.append("as_of: required (or set SOURCE_DATE_EPOCH)")
        chosen_as_of = dt.date(1970, 1, 1)

    columns = {table: dict(default) for table, default in schema.DEFAULT_COLUMNS.items()}
    for table, mapping in c.get(data, "columns", dict, "", {}).items():
        if table not in schema.TABLES or not isinstance(mapping, dict):
            c.problems.append(f"columns.{table}: expected one of {', '.join(schema.TABLES)} "
                              "mapping source headers to fields")
            continue
        for header, target in mapping.items():
            if target not in schema.field_names(table):
                c.problems.append(f"columns.{table}.{header}: {target!r} is not a field of {table}")
            columns[table][str(header)] = str(target)

    # Keys are schema.status_key(word), the same form validate looks cells up in.
    status_words = {schema.status_key(word): status
                    for word, status in schema.DEFAULT_STATUS_WORDS.items()}
    for word, status in c.get(data, "status_words", dict, "", {}).items():
        if status not in schema.STATUSES:
            c.problems.append(f"status_words.{word}: {status!r} is not one of "
                              f"{', '.join(schema.STATUSES)}")
        status_words[schema.status_key(word)] = status

    publish = c.get(data, "publish", dict, "", {})
    paths = c.get(data, "paths", dict, "", {})
    signing = c.get(data, "signing", dict, "", {})
    for name, mapping in (("publish", publish), ("paths", paths), ("signing", signing)):
        c.known(mapping, KNOWN_KEYS[name], f"{name}.")
    key = c.get(signing, "minisign_key", str, "signing.", "")
    config = Config(
        path=config_path,
        title=c.get(data, "title", str, "", "整改公示"),
        region=c.get(data, "region", str, "", ""),
        language=c.choice(data, "language", LANGUAGES, "", "zh"),
        as_of=chosen_as_of,
        satisfaction_threshold=threshold,
        sources=_read_sources(data.get("sources"), c, base),
        columns=columns,
        status_words=status_words,
        published_fields=_read_published(publish, c),
        work_dir=(base / c.get(paths, "work_dir", str, "paths.", "build")).resolve(),
        site_dir=(base / c.get(paths, "site_dir", str, "paths.", "site")).resolve(),
        snapshots_dir=(base / c.get(paths, "snapshots_dir", str, "paths.", "snapshots")).resolve(),
        claims=_read_claims(c.get(data, "claims", list, "", []), c),
        stale_weeks=c.get(data, "stale_weeks", int, "", 8),
        minisign_key=(base / key).resolve() if key else None,
        minisign_password_env=c.get(signing, "password_env", str, "signing.", ""),
    )
    if config.minisign_key is not None:
        public = manifests.public_key_path(config.minisign_key)
        if not config.minisign_key.is_file():
            c.problems.append(f"signing.minisign_key: {config.minisign_key} does not exist "
                              "(create a key pair with `minisign -G`, or remove the key)")
        elif not public.is_file():
            c.problems.append(f"signing.minisign_key: the public key {public} is missing beside "
                              "it (the site publishes it so anyone can check the signatures)")
    # Only the 404 page needs it: served at any depth, it must link from the site's own root.
    config.site_url = c.get(data, "site_url", str, "", "")
    if config.site_url and not config.site_url.startswith(("http://", "https://")):
        c.problems.append(f"site_url: {config.site_url!r} must start with http:// or https://")
    _check_folders(config, c.problems)
    if c.problems:
        raise ConfigError(c.problems, path=str(config_path))
    return config


def _check_folders(config: Config, problems: list[str]) -> None:
    """The site and work folders are replaced and cleared on publish: neither may hold the config,
    the sources or the snapshots."""
    kept = {"the config's folder": config.base_dir, "paths.snapshots_dir": config.snapshots_dir}
    kept.update({f"sources: {s.name}": s.path.parent for s in config.sources if s.path})
    for key in ("site_dir", "work_dir"):
        folder = getattr(config, key)
        for what, other in kept.items():
            if folder == other or folder in other.parents:
                problems.append(f"paths.{key}: {folder} would hold {what} ({other}); publishing "
                                "replaces or clears it, so give it a folder of its own")

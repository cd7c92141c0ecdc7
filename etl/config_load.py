"""The config loader and reference, both generated from the options declared in etl/config.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType, NoneType, UnionType
from typing import Any

import yaml

from etl import schema
from etl.config import Config, Publish, Signing, Source, source_date
from etl.errors import ConfigError
from etl.ledger import manifests


def options(cls) -> list[dataclasses.Field]:
    """The YAML options of a config section, in declaration order."""
    return [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]


def _hints(cls) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _choices(meta: Mapping) -> tuple | None:
    choices = meta.get("choices")
    return choices() if callable(choices) else choices


class _Reader:
    """Reads a mapping against a section's declared options, collecting every problem."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.problems: list[str] = []

    def section(self, cls, data: Any, prefix: str) -> Any:
        """One section (a dataclass) from a YAML mapping; unknown keys are problems."""
        if not isinstance(data, Mapping):
            self.problems.append(f"{prefix.rstrip('.')}: expected a mapping")
            data = {}
        fields = options(cls)
        known = {f.name for f in fields}
        for key in sorted(set(data) - known, key=str):
            self.problems.append(f"{prefix}{key}: unknown key (known: {', '.join(sorted(known))})")
        hints = _hints(cls)
        values = {}
        for spec in fields:
            if spec.name in data and data[spec.name] is not None:
                value = self.value(hints[spec.name], data[spec.name], spec, prefix + spec.name)
                if value is not _BAD:
                    values[spec.name] = value
            elif spec.metadata.get("required"):
                self.problems.append(f"{prefix}{spec.name}: required")
            elif dataclasses.is_dataclass(hints[spec.name]):
                values[spec.name] = self.section(hints[spec.name], {}, f"{prefix}{spec.name}.")
            elif spec.metadata.get("relative") and isinstance(spec.default, Path):
                values[spec.name] = (self.base / spec.default).resolve()
        return cls(**values)

    def value(self, kind: Any, raw: Any, spec: dataclasses.Field, key: str) -> Any:
        meta = spec.metadata
        origin = typing.get_origin(kind)
        if origin is UnionType or origin is typing.Union:  # X | None: None was handled above
            kind = next(arg for arg in typing.get_args(kind) if arg is not NoneType)
            origin = typing.get_origin(kind)
        if dataclasses.is_dataclass(kind):
            return self.section(kind, raw, key + ".")
        if origin is tuple:
            item_kind = typing.get_args(kind)[0]
            if not isinstance(raw, list):
                return self._wrong(key, "a list", raw)
            if dataclasses.is_dataclass(item_kind):
                items = []
                for index, item in enumerate(raw):
                    if not isinstance(item, Mapping):
                        self.problems.append(f"{key}[{index}]: expected a mapping")
                        continue
                    items.append(self.section(item_kind, item, f"{key}[{index}]."))
                return tuple(items)
            return tuple(str(item) for item in raw)
        if origin is Mapping or kind is Mapping:
            if not isinstance(raw, Mapping):
                return self._wrong(key, "a mapping", raw)
            return MappingProxyType({str(k): v if isinstance(v, (list, Mapping)) else str(v)
                                     for k, v in raw.items()})
        if kind is Path:
            if not isinstance(raw, str):
                return self._wrong(key, "a path", raw)
            return (self.base / raw).resolve()
        if kind is dt.date:
            return self._date(raw, key)
        if kind is float and isinstance(raw, int) and not isinstance(raw, bool):
            raw = float(raw)
        if kind is str and isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)  # a sheet number, a numeric password variable name
        if not isinstance(raw, kind) or (kind in (int, float) and isinstance(raw, bool)):
            return self._wrong(key, kind.__name__, raw)
        choices = _choices(meta)
        if choices is not None and raw not in choices:
            self.problems.append(f"{key}: {raw!r} is not one of {', '.join(choices)}")
            return _BAD
        if "minimum" in meta and raw < meta["minimum"] or "maximum" in meta and raw > meta["maximum"]:
            low, high = meta.get("minimum", "-"), meta.get("maximum", "")
            self.problems.append(f"{key}: {raw} is outside {low}-{high}".rstrip("-"))
            return _BAD
        return raw

    def _wrong(self, key: str, expected: str, raw: Any) -> Any:
        self.problems.append(f"{key}: expected {expected}, got {type(raw).__name__}")
        return _BAD

    def _date(self, raw: Any, key: str) -> Any:
        if isinstance(raw, dt.datetime):
            # A time would end up in snapshot ids and folder names ("2026-11-20T10:00:00").
            self.problems.append(f"{key}: {raw} has a time of day; give the date alone, "
                                 "like 2026-11-20")
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                pass
        self.problems.append(f"{key}: {raw!r} is not a date like 2026-11-20")
        return _BAD


_BAD = object()


def load(config_path: Path, *, as_of: dt.date | None = None) -> Config:
    """Read, validate and freeze the config at `config_path`; every problem is reported at once."""
    config, problems = read_config(Config, config_path, as_of=as_of)
    config = dataclasses.replace(
        config, sources=_check_sources(config.sources, problems),
        columns=_merged_columns(config.columns, problems),
        status_words=_merged_status_words(config.status_words, problems),
        publish=Publish(fields=_published_fields(config.publish.fields, problems)))
    config = dataclasses.replace(config, defaults=_checked_defaults(config.defaults, problems))
    _check_row_options(config, problems)
    _check_signing(config.signing, problems)
    _check_timestamp(config.timestamp, problems)
    if config.site_url and not config.site_url.startswith(("http://", "https://")):
        problems.append(f"site_url: {config.site_url!r} must start with http:// or https://")
    _check_folders(config, problems)
    if problems:
        raise ConfigError(problems, path=str(config_path))
    return config


def read_config(cls, config_path: Path, *, as_of: dt.date | None = None) -> tuple[Any, list[str]]:
    """A config dataclass (`Config`, a province's) read from YAML by its declared options, with
    the problems found; `as_of` wins over the file, which wins over SOURCE_DATE_EPOCH."""
    data = _read_yaml(config_path)
    reader = _Reader(config_path.parent)
    if as_of is not None:
        data["as_of"] = as_of
    elif data.get("as_of") is None:
        data["as_of"] = source_date()
    return dataclasses.replace(reader.section(cls, data, ""), path=config_path), reader.problems


def _read_yaml(config_path: Path) -> dict:
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
    return data


def _check_sources(sources: tuple[Source, ...], problems: list[str]) -> tuple[Source, ...]:
    seen: set[str] = set()
    named = []
    for index, source in enumerate(sources):
        prefix = f"sources[{index}]."
        name = source.name or f"source{index + 1}"
        if name in seen:
            problems.append(f"{prefix}name: {name!r} is used twice")
        seen.add(name)
        if source.kind == "file":
            if source.path is None:
                problems.append(f"{prefix}path: required for a file source")
        elif source.kind != "http" and (source.path is None) == (not source.url):
            # A feed adapter reads a live feed or a saved export of it: one of the two.
            problems.append(f"{prefix}path: give either path (a saved export) or url (the live "
                            f"feed) for a {source.kind} source, not "
                            + ("both" if source.path else "neither"))
        elif source.path is not None:
            pass
        elif not source.url:
            problems.append(f"{prefix}url: required for a {source.kind} source")
        elif not source.url.startswith(("http://", "https://")):
            problems.append(f"{prefix}url: {source.url!r} must start with http:// or https://")
        for target in source.columns.values():
            if target not in schema.field_names(source.table):
                problems.append(f"{prefix}columns: {target!r} is not a field of {source.table}")
        named.append(dataclasses.replace(source, name=name))
    if not sources:
        problems.append("sources: expected a non-empty list of sources")
    return tuple(named)


def _merged_columns(given: Mapping, problems: list[str]) -> Mapping:
    """The default header mapping with the config's additions; `columns` in YAML adds, never
    replaces, so a config names only the headers its export spells its own way."""
    columns = {table: dict(default) for table, default in schema.DEFAULT_COLUMNS.items()}
    for table, mapping in given.items():
        if table not in schema.TABLES or not isinstance(mapping, Mapping):
            problems.append(f"columns.{table}: expected one of {', '.join(schema.TABLES)} "
                            "mapping source headers to fields")
            continue
        for header, target in mapping.items():
            if target not in schema.field_names(table):
                problems.append(f"columns.{table}.{header}: {target!r} is not a field of {table}")
            columns[table][str(header)] = str(target)
    return MappingProxyType({t: MappingProxyType(m) for t, m in columns.items()})


def _merged_status_words(given: Mapping, problems: list[str]) -> Mapping:
    # Keys are schema.status_key(word), the same form validate looks cells up in.
    words = {schema.status_key(word): status
             for word, status in schema.DEFAULT_STATUS_WORDS.items()}
    for word, status in given.items():
        if status not in schema.STATUSES:
            problems.append(f"status_words.{word}: {status!r} is not one of "
                            f"{', '.join(schema.STATUSES)}")
        words[schema.status_key(word)] = status
    return MappingProxyType(words)


def _checked_defaults(given: Mapping, problems: list[str]) -> Mapping:
    """`defaults`: per table, field -> the value an empty cell gets; frozen."""
    result = {}
    for table, mapping in given.items():
        if table not in schema.TABLES or not isinstance(mapping, Mapping):
            problems.append(f"defaults.{table}: expected one of {', '.join(schema.TABLES)} "
                            "mapping fields to values")
            continue
        for name in mapping:
            if name not in schema.field_names(table):
                problems.append(f"defaults.{table}.{name}: not a field of {table}")
        result[table] = MappingProxyType({str(k): str(v) for k, v in mapping.items()})
    return MappingProxyType(result)


def _check_row_options(config: Config, problems: list[str]) -> None:
    """skip_rows patterns must compile, date formats must hold a % directive, and an alias
    must not point at another alias (one step, so the canonical name is plain to see)."""
    import re
    for index, pattern in enumerate(config.skip_rows.patterns):
        try:
            re.compile(pattern)
        except re.error as error:
            problems.append(f"skip_rows.patterns[{index}]: {pattern!r} is not a valid regular "
                            f"expression ({error})")
    dated = [("dates", config.dates)] + [(f"{config.source_key(s)}.dates", s.dates)
                                        for s in config.sources if s.dates is not None]
    for key, dates in dated:
        for index, form in enumerate(dates.formats):
            if "%" not in form:
                problems.append(f"{key}.formats[{index}]: {form!r} has no % directive "
                                "(write it like %m/%d/%Y)")
    for kind in ("unit", "area"):
        mapping = getattr(config.aliases, kind)
        for alias, canonical in mapping.items():
            if canonical in mapping and mapping[canonical] != canonical:
                problems.append(f"aliases.{kind}.{alias}: {canonical!r} is itself an alias; "
                                f"point it at {mapping[canonical]!r}")


def _published_fields(given: Mapping, problems: list[str]) -> Mapping:
    default = Publish().fields
    result = {}
    for table in schema.TABLES:
        chosen = given.get(table, default[table])
        if not isinstance(chosen, (list, tuple)):
            problems.append(f"publish.fields.{table}: expected a list of field names")
            chosen = default[table]
        known = schema.field_names(table)
        for name in chosen:
            if name not in known:
                problems.append(f"publish.fields.{table}: {name!r} is not a field of {table}")
            elif name in schema.NEVER_PUBLISHED:
                problems.append(f"publish.fields.{table}: {name!r} identifies a complainant "
                                "and is never published")
        key = schema.PRIMARY_KEYS[table]
        if key not in chosen:
            problems.append(f"publish.fields.{table}: must include the key {key!r}")
        result[table] = tuple(n for n in known if n in chosen and n not in schema.NEVER_PUBLISHED)
    for table in given:
        if table not in schema.TABLES:
            problems.append(f"publish.fields.{table}: unknown table")
    return MappingProxyType(result)


def _check_signing(signing: Signing, problems: list[str]) -> None:
    if signing.minisign_key is None:
        return
    public = manifests.public_key_path(signing.minisign_key)
    if not signing.minisign_key.is_file():
        problems.append(f"signing.minisign_key: {signing.minisign_key} does not exist "
                        "(create a key pair with `minisign -G`, or remove the key)")
    elif not public.is_file():
        problems.append(f"signing.minisign_key: the public key {public} is missing beside "
                        "it (the site publishes it so anyone can check the signatures)")


def _check_timestamp(timestamp, problems: list[str]) -> None:
    """Tokens nobody can check prove nothing: an authority comes with its CA certificate."""
    if timestamp.url and not timestamp.url.startswith(("http://", "https://")):
        problems.append(f"timestamp.url: {timestamp.url!r} must start with http:// or https://")
    if timestamp.url and timestamp.ca_file is None:
        problems.append("timestamp.ca_file: required with timestamp.url (the authority's CA "
                        "certificate, PEM, that verify checks its tokens against)")
    elif timestamp.ca_file is not None and not timestamp.ca_file.is_file():
        problems.append(f"timestamp.ca_file: {timestamp.ca_file} does not exist")


def _check_folders(config: Config, problems: list[str]) -> None:
    """The site and work folders are replaced and cleared on publish: neither may hold the config,
    the sources or the snapshots."""
    check_folders(config, {f"sources: {s.name}": s.path.parent for s in config.sources if s.path},
                  "publishing", problems)


def check_folders(config, kept: dict[str, Path], doing: str, problems: list[str]) -> None:
    """`paths.site_dir` and `paths.work_dir` may hold neither the config's folder, nor
    `paths.snapshots_dir`, nor anything in `kept` (what -> folder): `doing` replaces them."""
    kept = {"the config's folder": config.base_dir, "paths.snapshots_dir": config.snapshots_dir,
            **kept}
    for key in ("site_dir", "work_dir"):
        folder = getattr(config, key)
        for what, other in kept.items():
            if folder == other or folder in other.parents:
                problems.append(f"paths.{key}: {folder} would hold {what} ({other}); {doing} "
                                "replaces or clears it, so give it a folder of its own")


# --- the reference ---------------------------------------------------------------------------

def _type_name(kind: Any) -> str:
    origin = typing.get_origin(kind)
    if origin is UnionType or origin is typing.Union:
        inner = [a for a in typing.get_args(kind) if a is not NoneType]
        return f"{_type_name(inner[0])} or empty"
    if dataclasses.is_dataclass(kind):
        return "mapping"
    if origin is tuple:
        item = typing.get_args(kind)[0]
        return "list of mappings" if dataclasses.is_dataclass(item) else "list of text"
    if origin is Mapping or kind is Mapping:
        return "mapping"
    return {str: "text", int: "whole number", float: "number", bool: "yes/no",
            dt.date: "date", Path: "path"}.get(kind, getattr(kind, "__name__", str(kind)))


def _default_text(spec: dataclasses.Field, kind: Any) -> str:
    if spec.metadata.get("required"):
        return "required"
    if dataclasses.is_dataclass(kind):
        return "see below"
    value = spec.default if spec.default is not dataclasses.MISSING else spec.default_factory()
    if isinstance(value, Mapping) and len(repr(value)) > 400:
        return "built in (`etl/schema.py`)"
    if value in (None, "", (), {}) or (isinstance(value, Mapping) and not value):
        return "empty"
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, Mapping):
        value = {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
    return f"`{value}`"


def reference() -> str:
    """The config reference in Markdown: every key with its type, default, doc and example."""
    lines = ["# Config reference", "",
             "Generated from `etl/config.py` by `python -m etl config-reference`; a test fails "
             "when this file and the code drift apart. Start from the demo, `site_data/gongshi.yml`. "
             "Paths are relative to the config file. "
             "Unknown keys are errors, and every problem is reported at once.", ""]
    sections = [("", Config, "Top level")]
    seen = set()
    while sections:
        prefix, cls, title = sections.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        lines += [f"## {title}", "", (cls.__doc__ or "").strip(), "",
                  "| key | type | default | what |", "|---|---|---|---|"]
        hints = _hints(cls)
        for spec in options(cls):
            kind = hints[spec.name]
            key = f"{prefix}{spec.name}"
            doc = spec.metadata["doc"]
            choices = _choices(spec.metadata)
            if choices:
                doc += f" (one of {', '.join(choices)})"
            lines.append(f"| `{key}` | {_type_name(kind)} | {_default_text(spec, kind)} | {doc} |")
            inner = kind
            if typing.get_origin(kind) is tuple:
                inner = typing.get_args(kind)[0]
                item_prefix = f"{key}[]."
            else:
                item_prefix = f"{key}."
            if dataclasses.is_dataclass(inner):
                sections.append((item_prefix, inner, f"`{key}`"))
        lines.append("")
        examples = {spec.name: spec.metadata["example"] for spec in options(cls)
                    if "example" in spec.metadata}
        if examples:
            lines += ["Example:", "", "```yaml",
                      yaml.safe_dump(examples, allow_unicode=True, sort_keys=False).rstrip(),
                      "```", ""]
    return "\n".join(lines).rstrip() + "\n"

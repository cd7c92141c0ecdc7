"""Extract stage: read every source, map headers to canonical fields, write raw rows with provenance."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from etl import schema
from etl.errors import Location, SourceError
from etl.ledger.files import replace_folder
from etl.ledger.manifests import canonical_json
from etl.read.formats import public_url
from etl.read.sources import RawTable, header_key, read_source
from etl.staff import progress


def _dumps(value) -> str:
    # One spelling for every run: same inputs, same bytes.
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def map_columns(table: RawTable, table_name: str, columns: dict[str, str],
                source_columns: dict[str, str] | None = None,
                config_key: str = "") -> tuple[dict[int, str], list[str]]:
    """Header position -> field, plus the headers nobody maps that hold a value (for sources.json).

    A source's own `columns` win over the table-wide mapping, so one odd export can be fixed
    without touching the others. Every required field must have a column: a missing one is a
    single error here, not one per row later.
    """
    lookup = {header_key(header): target for header, target in columns.items()}
    lookup.update({header_key(header): target for header, target in (source_columns or {}).items()})
    where = Location(source=table.source, file=table.file, sheet=table.sheet,
                     row=table.header_row or None)
    mapped: dict[int, str] = {}
    first_header: dict[str, str] = {}
    unmapped: list[str] = []
    for position, header in enumerate(table.headers):
        if not header:
            continue
        target = lookup.get(header_key(header))
        if target is None:
            # An empty column loses nothing; one with values is reported by validate.
            if any(position < len(cells) and cells[position] not in (None, "")
                   for _number, cells in table.rows):
                unmapped.append(header)
            continue
        if target in first_header:
            raise SourceError(
                f"columns {first_header[target]!r} and {header!r} both map to the field "
                f"{target!r}", location=where,
                hint=f"delete or rename one of the two columns in the source, or map one to "
                     f"another field under {config_key or 'the source'}.columns")
        first_header[target] = header
        mapped[position] = target
    key = schema.PRIMARY_KEYS[table_name]
    missing = [f.name for f in schema.TABLES[table_name]
               if f.required and f.name not in first_header]
    if missing:
        found = ", ".join(repr(h) for h in table.headers if h) or "(none)"
        what = ", ".join(f"{name!r}" + (" (the key)" if name == key else "") for name in missing)
        known = "; ".join(
            f"{name}: " + ", ".join(sorted(h for h, target in columns.items()
                                           if target == name and h != name)[:6])
            for name in missing)
        raise SourceError(
            f"no column maps to the required field(s) {what} of {table_name}; headers found: "
            f"{found}", location=where,
            hint=f"add the header that holds each under columns.{table_name} "
                 f"(e.g. columns: {{{table_name}: {{'<header>': {missing[0]}}}}}) or "
                 f"{config_key or 'the source'}.columns; known names: {known}")
    return mapped, unmapped


def records(table: RawTable, mapped: dict[int, str]) -> list[dict]:
    """One JSON-ready object per data row: where it came from, its cells, its source headers."""
    # Adapters (Open311, 311 CSV) name their headers by field; they record the feed's own
    # column names in meta["source_columns"], which are the ones worth showing in errors.
    original = (table.meta or {}).get("source_columns") or {}
    column_names = {field: original.get(field) or table.headers[position]
                    for position, field in mapped.items()}
    result = []
    for number, cells in progress.track(table.rows, f"read {table.file or table.source}"):
        values = {}
        for position, field in mapped.items():
            value = cells[position] if position < len(cells) else None
            if value is not None and value != "":
                values[field] = value
        result.append({
            "loc": {"source": table.source, "file": table.file, "sheet": table.sheet,
                    "row": number},
            "cells": values,
            "columns": column_names,
        })
    return result


def _source_entry(source, table: RawTable, row_count: int, unmapped: list[str]) -> dict:
    meta = table.meta
    entry = {
        "name": source.name, "kind": source.kind, "table": source.table,
        "sha256": meta.get("sha256", ""), "bytes": meta.get("bytes", 0), "rows": row_count,
        "format": meta.get("format", ""), "encoding": meta.get("encoding", ""),
        "sheet": meta.get("sheet", table.sheet), "header_row": table.header_row,
        "unmapped_columns": unmapped,
        # Validators and the content hash above, never transport details such as the HTTP
        # status: an unchanged source must give the same entry on every run.
        "fetched": meta.get("fetched") or {"etag": None, "last_modified": None},
    }
    if source.kind == "file":
        entry["file"] = table.file
    else:
        # Published in every snapshot manifest: never with a password or an API key.
        entry["url"] = public_url(source.url)
    return entry


def run(config) -> Path:
    """Read all sources in config order; write extract/<table>.jsonl and extract/sources.json."""
    target = config.work_dir / "extract"
    config.work_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".extract-", dir=config.work_dir))
    staged.chmod(0o755)  # mkdtemp makes it private; the output is not secret
    try:
        outputs = {name: (staged / f"{name}.jsonl").open("w", encoding="utf-8", newline="\n")
                   for name in schema.TABLES}
        entries = []
        try:
            for source in config.sources:
                config_key = config.source_key(source)
                columns = config.columns.get(source.table, schema.DEFAULT_COLUMNS[source.table])
                for table in read_source(source, config):
                    mapped, unmapped = map_columns(table, source.table, columns, source.columns,
                                                   config_key)
                    rows = records(table, mapped)
                    outputs[source.table].writelines(_dumps(row) + "\n" for row in rows)
                    entries.append(_source_entry(source, table, len(rows), unmapped))
        finally:
            for handle in outputs.values():
                handle.close()
        entries.sort(key=lambda entry: (entry["name"], entry.get("sheet", "")))
        (staged / "sources.json").write_bytes(canonical_json(entries))
        replace_folder(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return target

"""Compare two snapshots: every changed field of every item, renumbered items, headline figures."""

from __future__ import annotations

import json
import math
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import pandas as pd

from etl import schema
from etl.site import figures
from etl.config import LANGUAGES  # noqa: F401  (the diff formats read it here)
from etl.ledger import diff_fields, diff_format, diff_xlsx, history, tables
from etl.errors import DiffError
from etl.ledger.figure_rules import FINISHED
from etl.ledger.manifests import MANIFEST, chain, read_manifest, sha256_hex

TITLE_LENGTH = 40  # characters of description standing in for a missing title
WORKBOOK = diff_xlsx.FILE_NAME

CLOSED = FINISHED  # an item back to work from any of these is a regression (figure_rules owns it)
REOPENED = ("open", "in_progress", "rework")
SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024


# ---------------------------------------------------------------- finding and loading snapshots

def _fetch(url: str) -> bytes:
    import requests  # only URL diffs need it

    try:
        response = requests.get(url, timeout=30)
    except requests.RequestException as error:
        raise DiffError(f"cannot fetch {url}: {error}", hint="check the address and the network")
    if response.status_code != 200:
        raise DiffError(f"{url} answered HTTP {response.status_code}",
                        hint="give the address of a published snapshot folder or site")
    if len(response.content) > MAX_DOWNLOAD_BYTES:
        raise DiffError(f"{url} is larger than {MAX_DOWNLOAD_BYTES} bytes", hint="check the address")
    return response.content


def download(url: str, into: Path) -> Path:
    """Copy a published snapshot (or a site's newest) into a folder, checking every file's hash."""
    base = url if url.endswith("/") else url + "/"
    try:
        manifest_bytes = _fetch(base + MANIFEST)
    except DiffError:
        latest = json.loads(_fetch(base + "data/latest.json").decode("utf-8"))
        base = f"{base}data/snapshots/{latest['snapshot_id']}/"
        manifest_bytes = _fetch(base + MANIFEST)
    manifest = json.loads(manifest_bytes.decode("utf-8"))
    folder = into / str(manifest.get("snapshot_id", "snapshot"))
    if not SAFE_FILE_NAME.match(folder.name):
        raise DiffError(f"{base}{MANIFEST} has an unsafe snapshot_id {folder.name!r}",
                        hint="this is not a Gongshi snapshot; check the address")
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_bytes(manifest_bytes)
    for name, entry in sorted(manifest.get("files", {}).items()):
        # Names come from a remote file: never let one climb out of the download folder.
        if not SAFE_FILE_NAME.match(name):
            raise DiffError(f"{base}{MANIFEST} lists an unsafe file name {name!r}",
                            hint="this is not a Gongshi snapshot; check the address")
        data = _fetch(base + name)
        if sha256_hex(data) != entry.get("sha256"):
            raise DiffError(f"{base}{name} does not match the SHA-256 in its manifest",
                            hint="the published copy was altered or is half uploaded; "
                                 "report it to the publisher")
        (folder / name).write_bytes(data)
    return folder


def locate(path: Path) -> Path:
    """A snapshot folder from a snapshot folder, a site folder or a snapshots folder."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        return path
    latest = path / "data" / "latest.json"
    if latest.is_file():
        snapshot_id = json.loads(latest.read_text(encoding="utf-8"))["snapshot_id"]
        return path / "data" / "snapshots" / snapshot_id
    if path.is_dir():

        ordered = chain(path)
        if ordered:
            return ordered[-1]
    raise DiffError(f"{path} is not a snapshot folder, a site or a snapshots folder",
                    hint="give a folder holding manifest.json, or a site with data/latest.json")


def _check_files(folder: Path, manifest: dict) -> None:
    for name, entry in sorted(manifest.get("files", {}).items()):
        path = folder / name
        if not path.is_file() or sha256_hex(path.read_bytes()) != entry.get("sha256"):
            raise DiffError(f"{path} is missing or does not match the SHA-256 in its manifest",
                            hint=f"run `python -m etl verify` on the site; restore {folder.name}")


def _load_table(folder: Path, table: str) -> tuple[pd.DataFrame, list[str]]:
    path = folder / f"{table}.csv"
    if not path.is_file():
        return pd.DataFrame(columns=schema.field_names(table)), []
    header = tables.read_header(path)
    frame = tables.read_table(path, table)
    repeated = tables.repeated_keys(frame, table)
    if repeated:
        raise DiffError(f"{path} repeats {schema.PRIMARY_KEYS[table]} {', '.join(repeated[:10])}",
                        hint="a snapshot must have unique keys; this one was not made by "
                             "`python -m etl publish` or was edited")
    return frame, header


def _metrics_figures(folder: Path) -> dict:
    try:
        return json.loads((folder / "metrics.json").read_text(encoding="utf-8")).get("figures", {})
    except FileNotFoundError:
        return {}


def _chain_warnings(old: Path, new: Path, old_manifest: dict, new_manifest: dict) -> list[str]:
    """Check that new descends from old; DiffError when the links say otherwise."""
    hint = "compare a snapshot with one of its predecessors; run `python -m etl verify` on the site"
    if old_manifest["snapshot_id"] == new_manifest["snapshot_id"]:
        return []
    if old.resolve().parent == new.resolve().parent:
        current, seen = new_manifest, set()
        while current.get("previous"):
            link = current["previous"]
            parent = new.parent / link["snapshot_id"]
            if link["snapshot_id"] in seen or not (parent / MANIFEST).is_file():
                break
            if sha256_hex((parent / MANIFEST).read_bytes()) != link.get("manifest_sha256"):
                raise DiffError(f"broken chain: {parent / MANIFEST} does not match the hash "
                                f"{current['snapshot_id']} records", hint=hint)
            if link["snapshot_id"] == old_manifest["snapshot_id"]:
                return []
            seen.add(link["snapshot_id"])
            current = read_manifest(parent)
        raise DiffError(f"broken chain: {new_manifest['snapshot_id']} does not descend from "
                        f"{old_manifest['snapshot_id']} in {new.parent}", hint=hint)
    link = new_manifest.get("previous") or {}
    if link.get("snapshot_id") == old_manifest["snapshot_id"]:
        if link.get("manifest_sha256") != sha256_hex((old / MANIFEST).read_bytes()):
            raise DiffError(f"broken chain: {old / MANIFEST} is not the manifest "
                            f"{new_manifest['snapshot_id']} names as its previous", hint=hint)
        return []
    return [f"not adjacent: {new_manifest['snapshot_id']} follows "
            f"{link.get('snapshot_id') or 'nothing'}, not {old_manifest['snapshot_id']}"]


# ---------------------------------------------------------------- comparing

def _title(row: dict) -> str | None:
    """The title, or for lists without titles the start of the description: a change needs a name."""
    text = row.get("title") or row.get("description")
    if not text:
        return None
    text = " ".join(str(text).split())
    return text if len(text) <= TITLE_LENGTH else text[:TITLE_LENGTH - 1] + "…"


def _brief(issue_id: str, row: dict) -> dict:
    return {"issue_id": issue_id, "title": _title(row), "unit": row.get("unit"),
            "status": row.get("status")}


def _shown_number(key: str, value: int | float) -> Decimal:
    """The number a page shows for a figure (percent points for rates), rounded as it prints."""
    if figures.kind(key) == "rate":
        return figures.round_half_up(Decimal(repr(float(value))) * 100, 1)
    return figures.round_half_up(value, 1)


def _change_text(key: str, before, after) -> str:
    """The change between the printed figures, so "61.7% -> 57.6%" reads "-4.1 pt"."""
    if not all(isinstance(value, (int, float)) and math.isfinite(value) for value in (before, after)):
        return ""
    delta = _shown_number(key, after) - _shown_number(key, before)
    if figures.kind(key) == "rate":
        return f"{delta:+.1f} pt"
    return f"{int(delta):+,d}" if delta == delta.to_integral_value() else f"{delta:+,.1f}"


def _figure_changes(old: dict, new: dict) -> tuple[list[dict], dict]:
    """Changed headline figures as display text (pages show text, never raw floats) + the values.

    A figure is changed when its printed text is: a move too small to show is not listed.
    """
    changes, values = [], {}
    for key in figures.HEADLINE_KEYS:
        before, after = old.get(key), new.get(key)
        shown_before, shown_after = figures.format_figure(key, before), figures.format_figure(key, after)
        if shown_before == shown_after:
            continue
        changes.append({"key": key, "old": shown_before, "new": shown_after,
                        "change": _change_text(key, before, after)})
        values[key] = {"old": before, "new": after}
    return changes, values


def _issue_sections(old_rows: dict, new_rows: dict, old_columns: list, new_columns: list) -> dict:
    """The named kinds of issue change, each a list of its own (all also in field_changes)."""
    result = {"status_changes": [], "regressions": [], "deadline_extensions": [],
              "deadlines_earlier": [], "unit_changes": [], "owner_changes": []}
    for issue_id in sorted(set(old_rows) & set(new_rows), key=schema.id_order):
        old, new = old_rows[issue_id], new_rows[issue_id]
        title = _title(new)
        if old.get("status") != new.get("status"):
            change = {"issue_id": issue_id, "title": title, "old": old.get("status"),
                      "new": new.get("status")}
            result["status_changes"].append(change)
            if old.get("status") in CLOSED and new.get("status") in REOPENED:
                result["regressions"].append(change)
        if history.deadline_extended(old.get("deadline"), new.get("deadline")):
            result["deadline_extensions"].append({
                "issue_id": issue_id, "title": title, "old": old.get("deadline"),
                "new": new.get("deadline"), "new_note": new.get("deadline_note")})
        elif old.get("deadline") and new.get("deadline") and new["deadline"] < old["deadline"]:
            result["deadlines_earlier"].append({"issue_id": issue_id, "title": title,
                                                "old": old["deadline"], "new": new["deadline"]})
        # A column only one side publishes is not a change of its values.
        for column, bucket in (("unit", "unit_changes"), ("owner", "owner_changes")):
            if column in old_columns and column in new_columns and old.get(column) != new.get(column):
                result[bucket].append({"issue_id": issue_id, "title": title,
                                       "old": old.get(column), "new": new.get(column)})
    return result


def _feedback_row(row: dict) -> dict:
    return {"feedback_id": row["id"], "field": row["field"], "old": row["old"], "new": row["new"]}


def compare(old_dir: Path, new_dir: Path) -> dict:
    """The structured difference between two snapshot folders (new must descend from old).

    Every top-level list is one section of the "changes since last publish" page; every field
    of every published item that changed is in field_changes.
    """
    old_dir, new_dir = Path(old_dir), Path(new_dir)
    old_manifest, new_manifest = read_manifest(old_dir), read_manifest(new_dir)
    _check_files(old_dir, old_manifest)
    _check_files(new_dir, new_manifest)
    warnings = _chain_warnings(old_dir, new_dir, old_manifest, new_manifest)
    found = {}
    for table in diff_fields.TABLE_ORDER:
        old_frame, old_columns = _load_table(old_dir, table)
        new_frame, new_columns = _load_table(new_dir, table)
        old_rows = diff_fields.records(old_frame, table)
        new_rows = diff_fields.records(new_frame, table)
        found[table] = (old_rows, new_rows, diff_fields.table_changes(
            table, old_rows, new_rows, old_columns, new_columns, _title))
        warnings += found[table][2]["warnings"]
        if table == "issues":
            sections = _issue_sections(old_rows, new_rows, old_columns, new_columns)
    old_issues, new_issues, issues = found["issues"]
    old_feedback, new_feedback, feedback = found["feedback"]
    figure_changes, figure_values = _figure_changes(_metrics_figures(old_dir),
                                                    _metrics_figures(new_dir))
    result = {
        "added": [_brief(k, new_issues[k]) for k in issues["added"]],
        "removed": [_brief(k, old_issues[k]) for k in issues["removed"]],
        "id_changes": issues["id_changes"] + feedback["id_changes"],
        **sections,
        "field_changes": issues["field_changes"] + feedback["field_changes"],
        "feedback_added": feedback["added"],
        "feedback_removed": feedback["removed"],
        "feedback_changes": [_feedback_row(row) for row in feedback["field_changes"]],
        "figure_changes": figure_changes,
        "figure_values": figure_values,
        "old": {"snapshot_id": old_manifest["snapshot_id"], "as_of": old_manifest.get("as_of")},
        "new": {"snapshot_id": new_manifest["snapshot_id"], "as_of": new_manifest.get("as_of")},
        "warnings": warnings,
        "counts": {"issues_old": len(old_issues), "issues_new": len(new_issues),
                   "feedback_old": len(old_feedback), "feedback_new": len(new_feedback),
                   "issues_changed": issues["changed_items"],
                   "feedback_changed": feedback["changed_items"]},
    }
    return result


has_removals = diff_format.has_removals
FORMATS = {"text": diff_format.format_text, "markdown": diff_format.format_markdown,
           "json": diff_format.format_json}
FORMAT_NAMES = (*FORMATS, "xlsx")  # xlsx is bytes, written to a file


def write_workbook(result: dict, path: Path, language: str = "zh") -> Path:
    """The auditor's workbook of a comparison, written beside changes.json or wherever asked."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(diff_xlsx.workbook_bytes(result, language))
    return path


def run(old: str | Path, new: str | Path, fmt: str = "text",
        language: str = "zh") -> tuple[str | bytes, bool]:
    """Diff two snapshots given as folders, sites or URLs; ok is False when anything was removed
    or renumbered. xlsx gives bytes (headers in `language`), the other formats text."""
    if fmt not in FORMAT_NAMES:
        raise DiffError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMAT_NAMES)}")
    with tempfile.TemporaryDirectory(prefix="gongshi-diff-") as temporary:
        folders = []
        for index, where in enumerate((old, new)):
            text = str(where)
            if text.startswith(("http://", "https://")):
                folders.append(download(text, Path(temporary) / str(index)))
            else:
                folders.append(locate(Path(where)))
        result = compare(folders[0], folders[1])
    output = diff_xlsx.workbook_bytes(result, language) if fmt == "xlsx" else FORMATS[fmt](result)
    return output, not has_removals(result)

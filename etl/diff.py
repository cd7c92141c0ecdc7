"""Compare two snapshots: added, removed, status, deadline, unit and headline figure changes."""

from __future__ import annotations

import json
import math
import re
import tempfile
from decimal import Decimal
from pathlib import Path

import pandas as pd

from etl import figures, history, schema, tables
from etl.errors import DiffError
from etl.manifests import MANIFEST, canonical_json, chain, read_manifest, sha256_hex

TITLE_LENGTH = 40  # characters of description standing in for a missing title

CLOSED = ("done", "long_term")
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

def _text(value) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _records(frame: pd.DataFrame, key: str) -> dict[str, dict]:
    return {str(row[key]): {name: _text(value) for name, value in row.items()}
            for row in frame.to_dict("records")}


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


def compare(old_dir: Path, new_dir: Path) -> dict:
    """The structured difference between two snapshot folders (new must descend from old).

    Every top-level list is one section of the "changes since last publish" page.
    """
    old_dir, new_dir = Path(old_dir), Path(new_dir)
    old_manifest, new_manifest = read_manifest(old_dir), read_manifest(new_dir)
    _check_files(old_dir, old_manifest)
    _check_files(new_dir, new_manifest)
    warnings = _chain_warnings(old_dir, new_dir, old_manifest, new_manifest)
    old_issues, old_columns = _load_table(old_dir, "issues")
    new_issues, new_columns = _load_table(new_dir, "issues")
    old_rows, new_rows = _records(old_issues, "issue_id"), _records(new_issues, "issue_id")
    both = sorted(set(old_rows) & set(new_rows), key=schema.id_order)
    result = {
        "added": [_brief(k, new_rows[k]) for k in sorted(set(new_rows) - set(old_rows), key=schema.id_order)],
        "removed": [_brief(k, old_rows[k]) for k in sorted(set(old_rows) - set(new_rows), key=schema.id_order)],
        "status_changes": [], "regressions": [], "deadline_extensions": [],
        "unit_changes": [], "owner_changes": [],
    }
    for issue_id in both:
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
        # A column only one side publishes is not a change of its values.
        for column, bucket in (("unit", "unit_changes"), ("owner", "owner_changes")):
            if column in old_columns and column in new_columns and old.get(column) != new.get(column):
                result[bucket].append({"issue_id": issue_id, "title": title,
                                       "old": old.get(column), "new": new.get(column)})
    old_feedback, _ = _load_table(old_dir, "feedback")
    new_feedback, _ = _load_table(new_dir, "feedback")
    old_ids = set(old_feedback["feedback_id"].dropna().astype(str))
    new_ids = set(new_feedback["feedback_id"].dropna().astype(str))
    figure_changes, figure_values = _figure_changes(_metrics_figures(old_dir),
                                                    _metrics_figures(new_dir))
    result.update({
        "old": {"snapshot_id": old_manifest["snapshot_id"], "as_of": old_manifest.get("as_of")},
        "new": {"snapshot_id": new_manifest["snapshot_id"], "as_of": new_manifest.get("as_of")},
        "warnings": warnings,
        "counts": {"issues_old": len(old_rows), "issues_new": len(new_rows),
                   "feedback_old": len(old_ids), "feedback_new": len(new_ids)},
        "feedback_added": sorted(new_ids - old_ids, key=schema.id_order),
        "feedback_removed": sorted(old_ids - new_ids, key=schema.id_order),
        "figure_changes": figure_changes,
        "figure_values": figure_values,
    })
    return result


def has_removals(result: dict) -> bool:
    return bool(result["removed"] or result["feedback_removed"])


# ---------------------------------------------------------------- output

def _plain(value) -> str:
    """One line of source text, control characters flattened so a title cannot fake a line."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", "" if value is None else str(value))


def _deadline_text(change: dict) -> str:
    if change["new"] is not None:
        return change["new"]
    return f"{change['new_note']} (no date)" if change["new_note"] else "(no date)"


def _counts_line(result: dict) -> str:
    return (f"added {len(result['added'])}, removed {len(result['removed'])}, "
            f"status changes {len(result['status_changes'])} "
            f"(regressions {len(result['regressions'])}), "
            f"deadline extensions {len(result['deadline_extensions'])}, "
            f"unit changes {len(result['unit_changes'])}, owner changes {len(result['owner_changes'])}")


def _with_change(change: dict) -> str:
    return f"{change['new']} ({change['change']})" if change["change"] else change["new"]


def format_text(result: dict) -> str:
    counts, lines = result["counts"], []
    lines.append(f"diff {result['old']['snapshot_id']} -> {result['new']['snapshot_id']}")
    lines.append(f"issues: {counts['issues_old']} -> {counts['issues_new']}: " + _counts_line(result))
    lines.append(f"feedback: {counts['feedback_old']} -> {counts['feedback_new']}: "
                 f"added {len(result['feedback_added'])}, removed {len(result['feedback_removed'])}")
    for warning in result["warnings"]:
        lines.append(f"warning: {warning}")
    if has_removals(result):
        lines.append("")
    for row in result["removed"]:
        lines.append(f"!! REMOVED issue {_plain(row['issue_id'])} {_plain(row['title'])} "
                     f"[{_plain(row['unit'])}] {_plain(row['status'])}")
    for feedback_id in result["feedback_removed"]:
        lines.append(f"!! REMOVED feedback {_plain(feedback_id)}")
    sections = [
        ("added", "  + {issue_id} {title} [{unit}] {status}", result["added"]),
        ("regressions", "  ! {issue_id} {title}: {old} -> {new}", result["regressions"]),
        ("status changes", "  ~ {issue_id} {title}: {old} -> {new}", result["status_changes"]),
        ("deadline extensions", "  > {issue_id} {title}: {old} -> {deadline}",
         [{**c, "deadline": _deadline_text(c)} for c in result["deadline_extensions"]]),
        ("unit changes", "  ~ {issue_id} {title}: {old} -> {new}", result["unit_changes"]),
        ("owner changes", "  ~ {issue_id} {title}: {old} -> {new}", result["owner_changes"]),
        ("figures", "  {key}: {old} -> {shown}",
         [{**c, "shown": _with_change(c)} for c in result["figure_changes"]]),
    ]
    for heading, template, rows in sections:
        if rows:
            lines += ["", f"{heading}:"]
            lines += [template.format(**{k: _plain(v) for k, v in row.items()}) for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    """Markdown table cell: source text escaped so it cannot add links, HTML or columns."""
    text = _plain(value)
    return re.sub(r"([\\`*_\[\]<>|~&])", r"\\\1", text)


def format_markdown(result: dict) -> str:
    counts = result["counts"]
    lines = [f"## Changes {result['old']['snapshot_id']} → {result['new']['snapshot_id']}", "",
             f"- issues: {counts['issues_old']} → {counts['issues_new']}: " + _counts_line(result),
             f"- feedback: {counts['feedback_old']} → {counts['feedback_new']}: "
             f"added {len(result['feedback_added'])}, removed {len(result['feedback_removed'])}"]
    lines += [f"- ⚠️ {_cell(w)}" for w in result["warnings"]]
    if has_removals(result):
        lines += ["", "### 🔴 Removed", ""]
        lines += [f"- 🔴 issue {_cell(r['issue_id'])} {_cell(r['title'])} ({_cell(r['unit'])}, "
                  f"{_cell(r['status'])})" for r in result["removed"]]
        lines += [f"- 🔴 feedback {_cell(f)}" for f in result["feedback_removed"]]
    was_now = ["id", "title", "was", "now"]

    def pairs(name: str) -> list[list]:
        return [[c["issue_id"], c["title"], c["old"], c["new"]] for c in result[name]]

    sections = [
        ("Added", ["id", "title", "unit", "status"],
         [[r["issue_id"], r["title"], r["unit"], r["status"]] for r in result["added"]]),
        ("Regressions", was_now, pairs("regressions")),
        ("Status changes", was_now, pairs("status_changes")),
        ("Deadline extensions", was_now,
         [[c["issue_id"], c["title"], c["old"], _deadline_text(c)]
          for c in result["deadline_extensions"]]),
        ("Unit changes", was_now, pairs("unit_changes")),
        ("Owner changes", was_now, pairs("owner_changes")),
        ("Figures", ["figure", "was", "now"],
         [[c["key"], c["old"], _with_change(c)] for c in result["figure_changes"]]),
    ]
    for heading, header, rows in sections:
        if rows:
            lines += ["", f"### {heading}", "", "| " + " | ".join(header) + " |",
                      "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def format_json(result: dict) -> str:
    return canonical_json(result).decode("utf-8")


FORMATS = {"text": format_text, "markdown": format_markdown, "json": format_json}


def run(old: str | Path, new: str | Path, fmt: str = "text") -> tuple[str, bool]:
    """Diff two snapshots given as folders, sites or URLs; ok is False when anything was removed."""
    if fmt not in FORMATS:
        raise DiffError(f"unknown format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
    with tempfile.TemporaryDirectory(prefix="gongshi-diff-") as temporary:
        folders = []
        for index, where in enumerate((old, new)):
            text = str(where)
            if text.startswith(("http://", "https://")):
                folders.append(download(text, Path(temporary) / str(index)))
            else:
                folders.append(locate(Path(where)))
        result = compare(folders[0], folders[1])
    return FORMATS[fmt](result), not has_removals(result)

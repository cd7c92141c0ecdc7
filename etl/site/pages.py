"""Plain dicts for the site's templates, built once from the tables, metrics and snapshots."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from etl import schema
from etl.site import figures
from etl.ledger import manifests
from etl.privacy import safepath
from etl.errors import BuildError, SnapshotError
from etl.site import words

GROUP_DIRS = {"unit": "units", "area": "areas", "category": "categories"}
SLUG_PATTERN = re.compile(r"[a-z]-[0-9a-f]{8}")
SUMMARY_LENGTH = 60
INDEX_KEYS = ("total", "done", "overdue", "rework", "rate.completion")
# Issue tables on list pages: these columns after the id, each shown only if published.
LIST_COLUMNS = ("summary", "status", "deadline", "completed_on")
NOWRAP_COLUMNS = frozenset({"status", "deadline", "completed_on"})
STATUS_SECTIONS = ("added", "removed", "status_changes", "regressions")


def issue_records(frame: pd.DataFrame, published: list[str]) -> list[dict]:
    """Rows as dicts, converted column by column once; missing values become None."""
    columns = {}
    for name in published:
        values = frame[name].tolist()
        columns[name] = [None if v is None or (not isinstance(v, str) and pd.isna(v)) else v
                         for v in values]
    count = len(frame)
    return [{name: columns[name][i] for name in published} for i in range(count)]


def display(name: str, value, language: str = "zh") -> str:
    """One cell as text: dates ISO, statuses in words, whole numbers without .0."""
    if value is None:
        return ""
    if name == "status":
        return words.status_labels(language).get(value, value)
    if isinstance(value, bool):  # a yes/no field (立行立改) in words, never True/False
        return words.section("workbook", language)["true" if value else "false"]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def summary(issue: dict) -> str:
    text = issue.get("title") or issue.get("description") or ""
    text = " ".join(str(text).split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def issue_file(issue_id: str) -> str:
    """The issue's own page, relative to the site root: issues/<bucket>/<id>.html.

    Built from the id alone, so it never changes: the bucket folder (two hex digits of the id's
    hash) keeps 100,000 issues at a few hundred files a folder, and the name is the id as
    safepath.anchor spells it (ASCII ids unchanged, anything else as _hh bytes).
    """
    name = safepath.anchor(issue_id).removeprefix("issue-")
    return f"issues/{safepath.bucket(issue_id)}/{name}.html"


def issue_href(issue_id: str) -> str:
    """The one permalink of an issue, relative to the site root: its own page (issue_file).

    Raw HTML tables, the search index and the changes page all use it. Issue pages are written
    from a shell page after MkDocs (etl/site/issue_pages.py), so MkDocs never sees them: every
    link to one is raw HTML, which MkDocs leaves alone.
    """
    return issue_file(issue_id)


def bucket_href(issue_id: str) -> str:
    """The old permalink (issues/<bucket>/index.html#issue-<id>), which now redirects."""
    return f"issues/{safepath.bucket(issue_id)}/index.html#{safepath.anchor(issue_id)}"


# The changes page links with raw HTML too; one name for both, kept for its callers.
issue_link = issue_href


def issue_table(issues: list[dict], published: list[str], text: dict,
                extra: list[tuple] = (), *, language: str = "zh") -> dict:
    """Headings and rows for an issue list; extra columns are (heading, issue -> text) or
    (heading, issue -> text, True) for one whose cells must not break across lines."""
    columns = [c for c in LIST_COLUMNS
               if c == "summary" and ({"title", "description"} & set(published)) or c in published]
    headings = [text["issue_id"]] + [text[c] for c in columns] + [e[0] for e in extra]
    # Dates, statuses and counts never break across lines; an extra column says so itself.
    nowrap = [c in NOWRAP_COLUMNS for c in columns] + [len(e) > 2 and e[2] for e in extra]
    rows = []
    for issue in issues:
        cells = [summary(issue) if c == "summary" else display(c, issue.get(c), language)
                 for c in columns]
        cells += [e[1](issue) for e in extra]
        rows.append({"issue_id": issue["issue_id"], "href": issue_href(issue["issue_id"]),
                     "cells": cells})
    return {"headings": headings, "rows": rows, "nowrap": nowrap}


def issue_detail(issue: dict, published: list[str], slugs: dict, language: str = "zh",
                 timeline: dict | None = None) -> dict:
    """Every published field of one issue, labelled; group fields link to their pages.

    `timeline` is the issue's entry from `ledger.timeline.timelines`: its history under it.
    """
    fields = []
    for field in schema.ISSUE_FIELDS:
        if field.name not in published or field.name == "issue_id":
            continue
        value = issue.get(field.name)
        if value is None:
            continue
        href = None
        if field.name in GROUP_DIRS:
            slug = slugs[field.name].get(value)
            href = f"{GROUP_DIRS[field.name]}/{slug}/index.html" if slug else None
        elif field.name == "merged_into":  # a 合并 closure links to the issue it joined
            href = issue_href(value)
        fields.append({"label": words.field_title(field.name, language),
                       "value": display(field.name, value, language), "href": href})
    # "<id> <title>": the page's title; an issue with no title takes the start of its description.
    heading = " ".join(part for part in (issue["issue_id"], summary(issue)) if part)
    return {"anchor": safepath.anchor(issue["issue_id"]), "heading": heading, "fields": fields,
            "timeline": _timeline(timeline, published, language) if timeline else None}


def _timeline(entry: dict, published: list[str], language: str) -> dict:
    """An issue's history as page text: dates, the field's title, old and new in words."""
    events = []
    for event in entry["events"]:
        if event["field"] in schema.field_names("issues") and event["field"] not in published:
            continue  # published once, no longer: the page shows only what the config publishes
        item = {"as_of": event["as_of"], "field": event["field"], "label": None,
                "old": None, "new": None}
        if event["field"] in published:
            item["label"] = words.field_title(event["field"], language)
            for side in ("old", "new"):
                value = display(event["field"], event[side], language) or None
                if value and len(value) > SUMMARY_LENGTH:  # a reply: the start of it
                    value = value[: SUMMARY_LENGTH - 1] + "…"
                item[side] = value
        events.append(item)
    return {"first_seen": entry["first_seen"]["as_of"], "events": events,
            "first_deadline": entry["first_deadline"] if "deadline" in published else None,
            "deadline": entry["deadline"] if "deadline" in published else None}


def group_slugs(metrics: dict) -> dict[str, dict[str, str]]:
    """name -> slug per kind, as metrics named them; a slug is checked before it names a folder."""
    result: dict[str, dict[str, str]] = {}
    for kind in (*GROUP_DIRS, "channel"):
        mapping = {}
        for group in metrics["groups"][kind]:
            if not SLUG_PATTERN.fullmatch(group["slug"]):
                raise BuildError(f"metrics.json: {kind} slug {group['slug']!r} is not a safe slug",
                                 hint="rerun the metrics stage")
            mapping[group["name"]] = group["slug"]
        result[kind] = mapping
    return result


def group_table(metrics: dict, kind: str, linked: bool, language: str = "zh") -> dict:
    """The index table of one kind: a row per group, the key figures as columns, all as spans."""
    groups = metrics["groups"][kind]
    present = {k for group in groups for k in group["figures"]}
    # Five columns fit a phone; the group's own page lists every figure.
    # Units count opinions too; their reply figures are on the scorecards page.
    extra = figures.CHANNEL_EXTRA_KEYS if kind == "channel" else ()
    keys = [k for k in (*INDEX_KEYS, *extra) if k in present]
    known = metrics["figures"]
    columns = [{"label": figures.group_label(k, language)} for k in keys]
    rows = []
    for group in groups:
        flat = [f"{kind}.{group['slug']}.{k}" for k in keys]
        rows.append({"name": group["name"],
                     "link": f"{GROUP_DIRS[kind]}/{group['slug']}/index.html" if linked else None,
                     "figure_keys": [k if k in known else None for k in flat]})
    return {"columns": columns, "rows": rows}


def group_figures(metrics: dict, kind: str, group: dict, language: str = "zh") -> list[dict]:
    known = metrics["figures"]
    items = []
    for key in _ordered(group["figures"]):
        flat = f"{kind}.{group['slug']}.{key}"
        if flat in known:
            items.append({"label": figures.group_label(key, language), "key": flat})
    return items


def _ordered(keys) -> list[str]:
    """Group figure keys in the reading order figures.py gives, unknown ones after, sorted."""
    preferred = [*figures.GROUP_KEYS, *figures.CHANNEL_EXTRA_KEYS]
    return [k for k in preferred if k in keys] + sorted(k for k in keys if k not in preferred)


def figure_items(metrics: dict, keys, language: str = "zh") -> list[dict]:
    """Label and key of each named figure; a figure metrics.json lacks is an error (a figure the
    data cannot support is there with no value, and prints as "—")."""
    known = metrics["figures"]
    return [{"label": figures.label(k, language), "key": k, "value": known[k]} for k in keys]


def claims(metrics: dict) -> list[dict]:
    """Claims with the figure keys of their two numbers: claim.<n>.*, n counting from 1."""
    result = []
    known = metrics["figures"]
    for number, claim in enumerate(metrics["claims"], start=1):
        keys = (f"claim.{number}.claimed", f"claim.{number}.computed")
        if not all(key in known for key in keys):
            raise BuildError(f"metrics.json: claim {number} has no {keys[0]} and {keys[1]} "
                             f"figures", hint="rerun the metrics stage")
        result.append({"label": claim.get("label", ""), "claimed_key": keys[0],
                       "computed_key": keys[1], "matches": bool(claim.get("matches")),
                       "date": str(claim.get("date") or ""), "source": claim.get("source") or "",
                       # Checked against the snapshot of the claim's date (None: this publish).
                       "checked_as_of": claim["checked_as_of"],
                       "checked_snapshot": claim["checked_snapshot"],
                       "reported_only": claim["reported_only"]})
    return result


def changes(data: dict | None, text: dict, existing_ids: set[str], known: dict,
            language: str = "zh") -> dict | None:
    """Sections of changes.json as generic tables; issue ids that still exist link to their page."""
    if not data:
        return None
    sections = []
    names = ["added", "removed", "status_changes", "regressions", "deadline_extensions",
             "unit_changes", "figure_changes"]
    names += sorted(k for k in data if isinstance(data[k], list) and k not in names)
    column_names = text.get("change_columns", {})
    statuses = words.status_labels(language)
    for name in names:
        items = data.get(name)
        if not isinstance(items, list):
            continue
        headings: list[str] = []
        for item in items:
            if isinstance(item, dict):
                headings += [k for k in item if k not in headings]
            elif "value" not in headings:
                headings.append("value")
        rows = []
        for item in items:
            record = item if isinstance(item, dict) else {"value": item}
            row = []
            for heading in headings:
                value = record.get(heading)
                if heading in ("old", "new", "status") and name in STATUS_SECTIONS:
                    value = statuses.get(value, value)
                cell_text = "" if value is None else str(value)
                if name == "figure_changes":
                    cell_text = _figure_change_text(heading, cell_text, text, language)
                linkable = heading in ("issue_id", "value") and cell_text in existing_ids
                # A changed figure's current value is printed as its span, so verify checks it.
                figure = record.get("key") if (name == "figure_changes" and heading == "new"
                                               and record.get("key") in known) else None
                row.append({"text": cell_text, "link": issue_link(cell_text) if linkable else None,
                            "figure": figure})
            rows.append(row)
        title = text.get(f"change_{name}", name)
        sections.append({"title": title, "rows": rows,
                         "headings": [column_names.get(h, h) for h in headings]})
    previous = data.get("previous") or data.get("old") or ""
    if isinstance(previous, dict):
        previous = previous.get("snapshot_id", "")
    return {"sections": sections, "previous": str(previous)}


# diff writes a change of a rate in percentage points as "+3.3 pt".
POINTS = re.compile(r"([+-]?[0-9][0-9,]*(?:\.[0-9]+)?) pt")


def _figure_change_text(heading: str, cell_text: str, text: dict, language: str) -> str:
    """A figure change for the public: the figure's label, not its key; points in words."""
    if heading == "key":
        return figures.label(cell_text, language)
    if heading == "change" and (points := POINTS.fullmatch(cell_text)):
        return text["percentage_points"].format(change=points.group(1))
    return cell_text


SNAPSHOT_FILE_ORDER = ("manifest.json", "manifest.json.minisig", "datapackage.json", "issues.csv",
                       "issues.json", "feedback.csv", "feedback.json", "metrics.json")


def snapshot_folders(config) -> list[Path]:
    """Every snapshot oldest first: the committed chain (hash-checked), then the staged one.

    A rerun stages a snapshot equal to the newest committed one; it then stands in its place.
    Any other staged snapshot must follow the newest committed one, so the site never drops one.
    """
    committed = manifests.chain(config.snapshots_dir)
    staged = sorted((config.work_dir / "stage" / "snapshot").glob("*/" + manifests.MANIFEST))
    if not staged:
        return committed
    new = staged[-1].parent
    safepath.check_id(new.name, what="snapshot id")
    head = committed[-1].name if committed else None
    if new.name == head:
        return committed
    previous = (manifests.read_manifest(new).get("previous") or {}).get("snapshot_id")
    if previous != head:
        raise SnapshotError(f"the staged snapshot {new.name} follows {previous}, but the newest in "
                            f"{config.snapshots_dir} is {head}",
                            hint="another publish committed meanwhile; run the publish again")
    return committed + [new]


def snapshot_entries(folders: list[Path]) -> list[dict]:
    entries = []
    for index, folder in enumerate(reversed(folders)):
        manifest = manifests.read_manifest(folder)
        listed = manifest.get("files", {})
        files = []
        names = [n for n in SNAPSHOT_FILE_ORDER if (folder / n).exists()]
        names += sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in names)
        for name in names:
            info = listed.get(name, {})
            files.append({"name": name, "href": f"snapshots/{folder.name}/{name}",
                          "bytes": str(info.get("bytes", (folder / name).stat().st_size)),
                          "sha256": info.get("sha256")
                          or manifests.sha256_hex((folder / name).read_bytes())})
        entries.append({"id": folder.name, "latest": index == 0, "as_of": manifest.get("as_of", ""),
                        "row_counts": sorted(manifest.get("row_counts", {}).items()),
                        "files": files})
    return entries

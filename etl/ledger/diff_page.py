"""The site's changes page from changes.json: every section, grouped per item, long ones capped."""

from __future__ import annotations

from etl import schema
from etl.ledger import diff_format, diff_xlsx
from etl.site import pages
from etl.site import words

# Rows (or items, for sections grouped per item) a section shows before it points to the files.
PAGE_LIMIT = 50
DOWNLOADS = ("changes.json", diff_xlsx.FILE_NAME)
# Red flags first, then what moved, then the figures and the comparison's own notes.
ORDER = ("removed", "id_changes", "feedback_removed", "regressions", "added", "status_changes",
         "deadline_extensions", "deadlines_earlier", "unit_changes", "owner_changes",
         "field_changes", "feedback_added", "feedback_changes", "figure_changes", "warnings")
GROUPED = {"field_changes": ("issues", "id"), "feedback_changes": ("feedback", "feedback_id")}
NEVER_CAPPED = ("figure_changes",)  # every current figure is printed as a span verify checks
# changes.json is canonical JSON, keys sorted; a table reads id, name, then was -> now.
COLUMN_ORDER = ("issue_id", "feedback_id", "key", "title", "unit", "status", "old", "new",
                "new_note", "change", "value")


def _in_column_order(item):
    if not isinstance(item, dict):
        return item
    rank = {name: index for index, name in enumerate(COLUMN_ORDER)}
    return {k: item[k] for k in sorted(item, key=lambda k: (rank.get(k, len(rank)), k))}


def _cell(text: str, link: str | None = None) -> dict:
    return {"text": text, "link": link, "figure": None}


def _value(table: str, field: str, value, text: dict, language: str) -> str:
    """A changed field's value as the site shows it: statuses and yes/no in words."""
    if value is None:
        return text["change_empty"]
    if field == "status":
        return words.status_labels(language).get(value, value)
    if schema.field_types(table).get(field) == "boolean" and value in ("true", "false"):
        return text[f"change_{value}"]
    return str(value)


def _field_title(table: str, name: str, language: str) -> str:
    fields = {f.name: f for f in schema.TABLES[table]}
    return words.field_title(name, language, table) if name in fields else name


def _grouped(name: str, items: list, text: dict, existing_ids: set[str], language: str,
             limit: int) -> dict:
    """A table with an item's id and title on its first row only, then one row per field."""
    table, key = GROUPED[name]
    columns = text["change_columns"]
    rows: list[list[dict]] = []
    shown, total, last = 0, 0, None
    for item in items:
        if not isinstance(item, dict) or item.get("table", table) != table:
            continue
        item_id = str(item.get("id", item.get(key, "")))
        first = item_id != last
        last = item_id
        total += first
        if first:
            shown += 1
        if shown > limit:
            continue
        link = pages.issue_link(item_id) if table == "issues" and item_id in existing_ids else None
        named = [_cell(item_id if first else "", link if first else None)]
        if table == "issues":  # opinions have no title
            named.append(_cell(str(item.get("title") or "") if first else ""))
        rows.append([*named, _cell(_field_title(table, str(item.get("field")), language)),
                     _cell(_value(table, item.get("field"), item.get("old"), text, language)),
                     _cell(_value(table, item.get("field"), item.get("new"), text, language))])
    headings = ([columns["issue_id"], columns["title"]] if table == "issues"
                else [columns["feedback_id"]]) + [columns["field"], columns["old"], columns["new"]]
    return {"title": text.get(f"change_{name}", name), "headings": headings, "rows": rows,
            "more": {"shown": limit, "total": total} if total > limit else None}


def _id_changes(items: list, text: dict, existing_ids: set[str], limit: int) -> dict:
    columns = text["change_columns"]
    rows = []
    for item in items[:limit]:
        new_id = str(item.get("new_id", ""))
        linked = item.get("table") == "issues" and new_id in existing_ids
        table = str(item.get("table"))
        rows.append([_cell(text.get(f"change_table_{table}", table)),
                     _cell(str(item.get("old_id", ""))),
                     _cell(new_id, pages.issue_link(new_id) if linked else None),
                     _cell(str(item.get("title") or "")), _cell(str(item.get("similarity", "")))])
    return {"title": text["change_id_changes"],
            "headings": [columns[c] for c in ("table", "old_id", "new_id", "title", "similarity")],
            "rows": rows,
            "more": {"shown": limit, "total": len(items)} if len(items) > limit else None}


def page(data: dict | None, text: dict, existing_ids: set[str], known: dict,
         language: str = "zh", *, downloads: list[str] = (), limit: int = PAGE_LIMIT) -> dict | None:
    """Every list of changes.json as a section, known ones in ORDER, unknown ones after, sorted.

    `downloads` are the files render put beside the page in data/; long sections point to them.
    """
    if not data:
        return None
    names = [n for n in ORDER if isinstance(data.get(n), list)]
    names += sorted(n for n in data if isinstance(data[n], list) and n not in names)
    sections = []
    for name in names:
        items = data[name]
        if name in GROUPED:
            section = _grouped(name, items, text, existing_ids, language, limit)
        elif name == "id_changes":
            section = _id_changes(items, text, existing_ids, limit)
        else:
            ordered = [_in_column_order(item) for item in items]
            section = pages.changes({name: ordered}, text, existing_ids, known, language)["sections"][0]
            total = len(section["rows"])
            capped = name not in NEVER_CAPPED and total > limit
            section["rows"] = section["rows"][:limit] if capped else section["rows"]
            section["more"] = {"shown": limit, "total": total} if capped else None
        sections.append(section)
    previous = data.get("previous") or data.get("old") or ""
    if isinstance(previous, dict):
        previous = previous.get("snapshot_id", "")
    counts = data.get("counts") or {}
    summary = None
    if "field_changes" in data:
        groups = diff_format.grouped([r for r in data["field_changes"] if isinstance(r, dict)])
        summary = text["changes_summary"].format(
            issues=counts.get("issues_changed", sum(1 for (t, _), _ in groups if t == "issues")),
            feedback=counts.get("feedback_changed", sum(1 for (t, _), _ in groups if t == "feedback")),
            fields=len(data["field_changes"]))
    return {"sections": sections, "previous": str(previous), "summary": summary,
            "downloads": [{"name": n, "href": f"../data/{n}"} for n in DOWNLOADS if n in downloads]}

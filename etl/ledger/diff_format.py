"""A comparison of two snapshots as text, Markdown or JSON (the workbook is diff_xlsx)."""

from __future__ import annotations

import re

from etl.ledger.manifests import canonical_json

EMPTY = "(empty)"


def has_removals(result: dict) -> bool:
    """Anything published that is gone: removed items, and items whose id changed (the old id's
    permalink is dead even if the content lives on under a new one)."""
    return bool(result["removed"] or result["feedback_removed"] or result.get("id_changes"))


def _plain(value) -> str:
    """One line of source text, control characters flattened so a title cannot fake a line."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", "" if value is None else str(value))


def _deadline_text(change: dict) -> str:
    if change["new"] is not None:
        return change["new"]
    return f"{change['new_note']} (no date)" if change["new_note"] else "(no date)"


def _counts_line(result: dict) -> str:
    counts = result["counts"]
    return (f"added {len(result['added'])}, removed {len(result['removed'])}, "
            f"changed {counts.get('issues_changed', 0)}, "
            f"status changes {len(result['status_changes'])} "
            f"(regressions {len(result['regressions'])}), "
            f"deadline extensions {len(result['deadline_extensions'])}, "
            f"deadlines earlier {len(result.get('deadlines_earlier', []))}, "
            f"unit changes {len(result['unit_changes'])}, owner changes {len(result['owner_changes'])}")


def _feedback_line(result: dict) -> str:
    return (f"added {len(result['feedback_added'])}, removed {len(result['feedback_removed'])}, "
            f"changed {result['counts'].get('feedback_changed', 0)}")


def _with_change(change: dict) -> str:
    return f"{change['new']} ({change['change']})" if change["change"] else change["new"]


def _id_word(table: str) -> str:
    return "issue" if table == "issues" else "feedback"


def grouped(rows: list[dict]) -> list[tuple[tuple[str, str], list[dict]]]:
    """Field change rows grouped by item, in the order they come (table, then id order)."""
    groups: list[tuple[tuple[str, str], list[dict]]] = []
    for row in rows:
        key = (row["table"], row["id"])
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append(row)
    return groups


def format_text(result: dict) -> str:
    counts, lines = result["counts"], []
    lines.append(f"diff {result['old']['snapshot_id']} -> {result['new']['snapshot_id']}")
    lines.append(f"issues: {counts['issues_old']} -> {counts['issues_new']}: " + _counts_line(result))
    lines.append(f"feedback: {counts['feedback_old']} -> {counts['feedback_new']}: "
                 + _feedback_line(result))
    lines.append(f"field changes {len(result.get('field_changes', []))}, "
                 f"changed ids {len(result.get('id_changes', []))}")
    for warning in result["warnings"]:
        lines.append(f"warning: {_plain(warning)}")
    if has_removals(result):
        lines.append("")
    for row in result["removed"]:
        lines.append(f"!! REMOVED issue {_plain(row['issue_id'])} {_plain(row['title'])} "
                     f"[{_plain(row['unit'])}] {_plain(row['status'])}")
    for feedback_id in result["feedback_removed"]:
        lines.append(f"!! REMOVED feedback {_plain(feedback_id)}")
    for change in result.get("id_changes", []):
        lines.append(f"!! CHANGED ID {_id_word(change['table'])} {_plain(change['old_id'])} -> "
                     f"{_plain(change['new_id'])} {_plain(change['title'])} "
                     f"(similarity {change['similarity']})")
    sections = [
        ("added", "  + {issue_id} {title} [{unit}] {status}", result["added"]),
        ("regressions", "  ! {issue_id} {title}: {old} -> {new}", result["regressions"]),
        ("status changes", "  ~ {issue_id} {title}: {old} -> {new}", result["status_changes"]),
        ("deadline extensions", "  > {issue_id} {title}: {old} -> {deadline}",
         [{**c, "deadline": _deadline_text(c)} for c in result["deadline_extensions"]]),
        ("deadlines earlier", "  < {issue_id} {title}: {old} -> {new}",
         result.get("deadlines_earlier", [])),
        ("unit changes", "  ~ {issue_id} {title}: {old} -> {new}", result["unit_changes"]),
        ("owner changes", "  ~ {issue_id} {title}: {old} -> {new}", result["owner_changes"]),
        ("feedback added", "  + {value}", [{"value": v} for v in result["feedback_added"]]),
        ("figures", "  {key}: {old} -> {shown}",
         [{**c, "shown": _with_change(c)} for c in result["figure_changes"]]),
    ]
    for heading, template, rows in sections:
        if rows:
            lines += ["", f"{heading}:"]
            lines += [template.format(**{k: _plain(v) for k, v in row.items()}) for row in rows]
    groups = grouped(result.get("field_changes", []))
    if groups:
        lines += ["", "field changes:"]
    for (table, item_id), rows in groups:
        title = f" {_plain(rows[0]['title'])}" if rows[0]["title"] else ""
        lines.append(f"  ~ {_id_word(table)} {_plain(item_id)}{title}")
        lines += [f"      {row['field']}: {_plain(row['old'] if row['old'] is not None else EMPTY)}"
                  f" -> {_plain(row['new'] if row['new'] is not None else EMPTY)}" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    """Markdown table cell: source text escaped so it cannot add links, HTML or columns."""
    text = _plain(value)
    return re.sub(r"([\\`*_\[\]<>|~&])", r"\\\1", text)


def _field_table(rows: list[dict]) -> list[list]:
    """Grouped per item: the id and title only on an item's first row."""
    table = []
    for _, members in grouped(rows):
        for index, row in enumerate(members):
            first = index == 0
            table.append([row["id"] if first else "", (row["title"] or "") if first else "",
                          row["field"], row["old"], row["new"]])
    return table


def format_markdown(result: dict) -> str:
    counts = result["counts"]
    lines = [f"## Changes {result['old']['snapshot_id']} → {result['new']['snapshot_id']}", "",
             f"- issues: {counts['issues_old']} → {counts['issues_new']}: " + _counts_line(result),
             f"- feedback: {counts['feedback_old']} → {counts['feedback_new']}: "
             + _feedback_line(result),
             f"- field changes {len(result.get('field_changes', []))}, "
             f"changed ids {len(result.get('id_changes', []))}"]
    lines += [f"- ⚠️ {_cell(w)}" for w in result["warnings"]]
    if has_removals(result):
        lines += ["", "### 🔴 Removed", ""]
        lines += [f"- 🔴 issue {_cell(r['issue_id'])} {_cell(r['title'])} ({_cell(r['unit'])}, "
                  f"{_cell(r['status'])})" for r in result["removed"]]
        lines += [f"- 🔴 feedback {_cell(f)}" for f in result["feedback_removed"]]
        lines += [f"- 🔴 changed id: {_id_word(c['table'])} {_cell(c['old_id'])} → "
                  f"{_cell(c['new_id'])} {_cell(c['title'])} (similarity {_cell(c['similarity'])})"
                  for c in result.get("id_changes", [])]
    was_now = ["id", "title", "was", "now"]

    def pairs(name: str) -> list[list]:
        return [[c["issue_id"], c["title"], c["old"], c["new"]] for c in result.get(name, [])]

    field_rows = result.get("field_changes", [])
    sections = [
        ("Added", ["id", "title", "unit", "status"],
         [[r["issue_id"], r["title"], r["unit"], r["status"]] for r in result["added"]]),
        ("Regressions", was_now, pairs("regressions")),
        ("Status changes", was_now, pairs("status_changes")),
        ("Deadline extensions", was_now,
         [[c["issue_id"], c["title"], c["old"], _deadline_text(c)]
          for c in result["deadline_extensions"]]),
        ("Deadlines earlier", was_now, pairs("deadlines_earlier")),
        ("Unit changes", was_now, pairs("unit_changes")),
        ("Owner changes", was_now, pairs("owner_changes")),
        ("Field changes", ["id", "title", "field", "was", "now"],
         _field_table([r for r in field_rows if r["table"] == "issues"])),
        ("Feedback added", ["id"], [[f] for f in result["feedback_added"]]),
        ("Feedback changes", ["id", "title", "field", "was", "now"],
         _field_table([r for r in field_rows if r["table"] == "feedback"])),
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

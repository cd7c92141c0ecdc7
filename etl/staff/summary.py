"""The closing summary of a publish or preview: what changed, what was hidden, where the files are.

One dict, gathered from the files the stages left in the work dir (changes.json, the
validation report, tables/report.json, the redaction review, the receipt); written as JSON for
scripts and printed for staff in the config's language (templates/text.yml, `staff_summary`).
"""

from __future__ import annotations

import json
from pathlib import Path

from etl.ledger.manifests import canonical_json, read_manifest
from etl.site import words

FILE_NAME = "summary.json"
FIRST_ITEMS = 5  # items of each kind of change a preview lists
# The kinds of change a preview lists the first items of, in this order; the label of each is
# the site's own `change_<kind>` word (the changes page shows the same sections).
LISTED_KINDS = ("added", "removed", "id_changes", "regressions", "status_changes",
                "deadline_extensions", "unit_changes", "feedback_added", "feedback_removed",
                "figure_changes")


def words_for(config) -> dict[str, str]:
    """The staff's words (summary, preview and its errors) in the config's language."""
    return words.section("staff_summary", config.language)


def _json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _item_text(kind: str, item) -> str:
    """One line for an item of a change list: its id, title and the change, as changes.json has them."""
    if not isinstance(item, dict):
        return str(item)  # feedback_added / feedback_removed are bare ids
    if kind == "figure_changes":
        return f"{item['key']}: {item['old']} → {item['new']}"
    ident = item.get("issue_id") or item.get("old_id") or item.get("feedback_id") or ""
    if "new_id" in item:
        ident = f"{item.get('old_id')} → {item.get('new_id')}"
    title = item.get("title") or ""
    change = f"{item['old']} → {item['new']}" if "old" in item and "new" in item else ""
    return "  ".join(part for part in (str(ident), title, change) if part)


def collect(config, *, command: str, snapshot_dir: Path, live_snapshot: str | None,
            site: Path, receipt: Path | None, seconds: float, summary_path: Path) -> dict:
    """The summary of a finished publish or preview, read from config.work_dir's files."""
    work = Path(config.work_dir)
    manifest = read_manifest(snapshot_dir)
    rows = manifest.get("row_counts", {})
    changes = _json(work / "changes.json")
    unchanged = manifest["snapshot_id"] == live_snapshot
    first = live_snapshot is None
    if unchanged or first or changes is None:
        issues = {"added": rows.get("issues", 0) if first else 0, "removed": 0, "changed": 0}
        feedback = {"added": rows.get("feedback", 0) if first else 0, "removed": 0, "changed": 0}
        counted = {"regressions": 0, "deadline_extensions": 0, "id_changes": 0}
        listed: dict[str, dict] = {}
    else:
        counts = changes["counts"]
        issues = {"added": len(changes["added"]), "removed": len(changes["removed"]),
                  "changed": counts["issues_changed"]}
        feedback = {"added": len(changes["feedback_added"]),
                    "removed": len(changes["feedback_removed"]),
                    "changed": counts["feedback_changed"]}
        counted = {kind: len(changes[kind])
                   for kind in ("regressions", "deadline_extensions", "id_changes")}
        listed = {kind: {"total": len(changes[kind]),
                         "first": [_item_text(kind, item) for item in changes[kind][:FIRST_ITEMS]]}
                  for kind in LISTED_KINDS if changes.get(kind)}
    validation = _json(work / "validate" / "report.json") or {}
    tables_report = _json(work / "tables" / "report.json") or {}
    review = work / "transform" / "redactions.csv"
    files = {
        "validation_report": work / "validate" / "report.json",
        "annotated_workbooks": sorted((work / "validate").glob("annotated-*.xlsx")),
        "redaction_review": review if review.is_file() else None,
        "receipt": receipt,
        "changes_workbook": (work / "changes.xlsx") if changes is not None and not first else None,
        "summary": summary_path,
    }
    return {
        "command": command,
        "outcome": {"publish": "published", "preview": "previewed"}[command],
        "exit_code": 0,
        "language": config.language,
        "config": str(config.path),
        "snapshot_id": manifest["snapshot_id"],
        "live_snapshot": live_snapshot,
        "first_publish": first,
        "unchanged": unchanged,
        "site": str(site),
        "seconds": round(seconds, 1),
        "issues": issues,
        "feedback": feedback,
        **counted,
        "redactions": dict(tables_report.get("redactions") or {}),
        "warnings": len(validation.get("warnings") or []),
        "changes": listed,
        "files": {name: ([str(p) for p in value] if isinstance(value, list)
                         else str(value) if value is not None else None)
                  for name, value in files.items()},
    }


def failure(*, command: str, config_path: str, language: str, error) -> dict:
    """The summary of a publish or preview that stopped: what stopped it and its exit code."""
    return {"command": command, "outcome": "failed", "exit_code": getattr(error, "exit_code", 2),
            "language": language, "config": config_path, "error": error.render()}


def write(summary: dict, path: Path) -> Path:
    """The summary as canonical JSON, for schedulers and scripts."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(canonical_json(summary))
    return path


def render(summary: dict) -> str:
    """The summary for the terminal, in the summary's language."""
    language = summary.get("language") or "zh"
    text = words.section("staff_summary", language)  # a failure has no config to hand
    if summary["outcome"] == "failed":
        first_line = summary["error"].splitlines()[0] if summary["error"] else ""
        return text["heading_failed"].format(command=summary["command"], code=summary["exit_code"],
                                             error=first_line)
    heading = "heading_preview" if summary["command"] == "preview" else "heading_publish"
    lines = [text[heading].format(snapshot=summary["snapshot_id"], seconds=summary["seconds"])]
    if summary["first_publish"]:
        lines.append("  " + text["first_publish"].format(issues=summary["issues"]["added"],
                                                         feedback=summary["feedback"]["added"]))
    elif summary["unchanged"]:
        lines.append("  " + text["unchanged"])
    else:
        lines.append("  " + text["against"].format(live=summary["live_snapshot"]))
        lines.append("    " + text["issues"].format(**summary["issues"]))
        lines.append("    " + text["feedback"].format(**summary["feedback"]))
        lines.append("    " + text["separator"].join(
            text[kind].format(count=summary[kind])
            for kind in ("regressions", "deadline_extensions", "id_changes")))
    kinds = text["redaction_kinds"]
    listed = text["separator"].join(text["redaction_item"].format(kind=kinds.get(kind, kind),
                                                                  count=count)
                                    for kind, count in summary["redactions"].items())
    lines.append("  " + text["redactions"].format(listed=listed or text["nothing"]))
    lines.append("  " + text["warnings"].format(count=summary["warnings"]))
    site_words = words.words(language)
    for kind, entry in summary["changes"].items():
        lines.append("  " + text["first_items"].format(label=site_words[f"change_{kind}"],
                                                       total=entry["total"],
                                                       shown=len(entry["first"])))
        lines += [f"    - {item}" for item in entry["first"]]
    lines.append("  " + text["files"])
    site_label = "preview_site" if summary["command"] == "preview" else "site"
    lines.append(f"    {text[site_label]}: {summary['site']}")
    for name, value in summary["files"].items():
        label = text["annotated_workbook" if name == "annotated_workbooks" else
                     "summary_json" if name == "summary" else name]
        for path in (value if isinstance(value, list) else [value]):
            if path:
                lines.append(f"    {label}: {path}")
    return "\n".join(lines)

"""Page data for the accountability pages: unit scorecards, the ranking (红黑榜), deadline changes.

Plain dicts for the templates. Every number is a metrics.json figure printed as its span
(verify checks each); deadline changes come from the snapshot chain (`ledger.timeline`),
which `verify` rebuilds the site from.
"""

from __future__ import annotations

from etl import schema
from etl.ledger import timeline
from etl.site import figures, pages

# The scorecard's columns, in reading order; each a group figure key of a unit.
SCORECARD_KEYS = ("total", "rate.completion", "rate.on_time", "rate.satisfaction", "rate.reply",
                  "days.median_to_reply", "rate.reply_prompt", "overdue", "change.done",
                  "change.overdue")


def _unit_rows(metrics: dict, units: list[dict], keys) -> list[dict]:
    known = metrics["figures"]
    rows = []
    for unit in units:
        flat = [f"unit.{unit['slug']}.{key}" for key in keys]
        rows.append({"name": unit["name"],
                     "link": f"{pages.GROUP_DIRS['unit']}/{unit['slug']}/index.html",
                     "figure_keys": [key if key in known else None for key in flat]})
    return rows


def scorecard_table(metrics: dict, language: str, units: list[dict] | None = None) -> dict:
    """Every unit (or the given ones, in their order) with its scorecard figures, in the shape
    of `pages.group_table`, so the same template macro prints it."""
    units = metrics["groups"]["unit"] if units is None else units
    return {"columns": [{"label": figures.group_label(key, language)} for key in SCORECARD_KEYS],
            "rows": _unit_rows(metrics, units, SCORECARD_KEYS)}


def ranking(metrics: dict, text: dict, language: str) -> dict:
    """The top and bottom lists of metrics' ranking, with the rule in words."""
    ranked = metrics["ranking"]
    by_slug = {unit["slug"]: unit for unit in metrics["groups"]["unit"]}
    shown = len(ranked["top"])
    values = {"min_items": ranked["min_items"], "eligible": len(ranked["eligible"]),
              "shown": shown}
    return {"rule": text["ranking_rule"].format(**values),
            "none": text["ranking_none"].format(**values) if not shown else None,
            "top": scorecard_table(metrics, language, [by_slug[s] for s in ranked["top"]]),
            "bottom": scorecard_table(metrics, language, [by_slug[s] for s in ranked["bottom"]])}


def extensions(folders, issues_by_id: dict[str, dict], published: list[str]) -> list[dict]:
    """Every issue whose deadline ever changed in the snapshot chain, most changes first.

    Each row: id, its link, summary, first and current deadline and every change (the
    snapshot date it was published in, old and new). An issue no longer listed is left out:
    its last page is in the snapshot archive.
    """
    if "deadline" not in published:
        return []
    rows = []
    for issue_id, entry in timeline.timelines(folders).items():
        # A deadline given where there was none is not a move; one taken away is.
        moves = [event for event in entry["events"]
                 if event["field"] == "deadline" and event["old"] is not None]
        if not moves or issue_id not in issues_by_id:
            continue
        rows.append({"issue_id": issue_id, "href": pages.issue_href(issue_id),
                     "summary": pages.summary(issues_by_id[issue_id]),
                     "first": entry["first_deadline"] or "", "current": entry["deadline"] or "",
                     "moves": [{"as_of": move["as_of"], "old": move["old"] or "",
                                "new": move["new"] or ""} for move in moves]})
    rows.sort(key=lambda row: (-len(row["moves"]), schema.id_order(row["issue_id"])))
    return rows

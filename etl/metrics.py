"""Metrics stage: the one place that computes every number the site shows, into metrics.json."""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import json
import math
import statistics
from collections import Counter
from pathlib import Path

import pandas as pd

from etl.site import figures as figure_text
from etl.ledger import history as past_data
from etl import schema
from etl.ledger import manifests
from etl.errors import EtlError
from etl.ledger import claims as claim_check, closures, replies, scorecards
from etl.ledger import due_dates
from etl.ledger.figure_rules import FINISHED, is_overdue, plain_number, ratio
from etl.ledger.history import Issue, Opinion
from etl.privacy.safepath import slug
from etl.ledger.tables import read_table

METRICS_FILE = "metrics.json"
# Settings a publish may change (config), with the defaults an older metrics.json implies.
SETTINGS = {"reply_prompt_days": 7, "reply_limit_days": 15, "ranking_min_items": 20,
            "ranking_size": 3}


def _pending(issue: Issue) -> bool:
    return issue.status not in FINISHED


def _overdue(issue: Issue, deadline: dt.date | None, as_of: dt.date) -> bool:
    return is_overdue(issue.status, deadline, as_of)


def _on_time(issues: list[Issue], deadlines: dict[str, dt.date],
             dates_known: bool) -> tuple[int | None, int]:
    """Done items finished by their deadline, and done items that have a deadline at all.

    With no completion date anywhere (say the column is not published) lateness is unknown,
    so the count is None rather than a false zero.
    """
    on_time = with_deadline = 0
    for issue in issues:
        deadline = deadlines.get(issue.issue_id)
        if issue.status != "done" or deadline is None:
            continue
        with_deadline += 1
        # No completion date cannot prove the item was on time, so it counts as late.
        if issue.completed_on is not None and issue.completed_on <= deadline:
            on_time += 1
    return (on_time if dates_known else None), with_deadline


def _status_figures(issues: list[Issue], on_time: tuple[int | None, int], as_of: dt.date,
                    deadlines_known: bool = True) -> dict:
    """Counts and rates shared by the whole list and every group, so the two always agree.

    `on_time` is what `_on_time` gives against first deadlines, counted once by the caller.
    With no deadline anywhere in the data, nothing can be overdue or not: None, never 0.
    """
    counts = Counter(issue.status for issue in issues)
    result = {"total": len(issues)}
    result.update({status: counts[status] for status in schema.STATUSES})
    result["overdue"] = sum(_overdue(issue, issue.deadline, as_of) for issue in issues) \
        if deadlines_known else None
    result["rate.completion"] = ratio(counts["done"], len(issues))
    result["rate.on_time"] = ratio(*on_time)
    return result


def _feedback_figures(opinions: list[Opinion], known: dict, limits: tuple[int, int]) -> dict:
    # An empty "replied" cell cannot show a reply was made, so it counts as not replied; but
    # with no "replied" value anywhere (the column is not published) the count is unknown.
    # With no opinion ledger at all (no opinion rows), none of these can be counted.
    if not known["opinions"]:
        return dict.fromkeys(("feedback.total", "feedback.replied", "rate.reply",
                              *replies.KEYS))
    replied = sum(opinion.replied is True for opinion in opinions) if known["replies"] else None
    return {"feedback.total": len(opinions), "feedback.replied": replied,
            "rate.reply": ratio(replied, len(opinions)),
            **replies.reply_figures(opinions, limits, known["reply_dates"])}


def _median_days(issues: list[Issue]) -> float | int | None:
    days = [(issue.completed_on - issue.identified_on).days for issue in issues
            if issue.status == "done" and issue.completed_on and issue.identified_on]
    return plain_number(statistics.median(days)) if days else None


def _issue_figures(issues: list[Issue], first: dict[str, dt.date], as_of: dt.date,
                   threshold: float, dates_known: bool, deadlines_known: bool = True) -> dict:
    on_time = _on_time(issues, first, dates_known)
    shared = _status_figures(issues, on_time, as_of, deadlines_known)
    result = {f"issues.{key}": value for key, value in shared.items() if "." not in key}
    result["issues.rectified"] = shared["done"]
    result.update(closures.figures(issues, shared))
    result["rate.completion"] = shared["rate.completion"]
    result["rate.on_time"] = shared["rate.on_time"]
    result["issues.done_on_time"], result["issues.done_with_deadline"] = on_time
    current = {issue.issue_id: issue.deadline for issue in issues if issue.deadline is not None}
    result["rate.on_time_current"] = ratio(*_on_time(issues, current, dates_known))
    result["issues.deadline_extended"] = sum(
        past_data.deadline_extended(first.get(issue.issue_id), issue.deadline)
        for issue in issues)
    result["issues.overdue_first_deadline"] = sum(
        _overdue(issue, first.get(issue.issue_id), as_of) for issue in issues) \
        if deadlines_known else None
    result["days.median_to_rectify"] = _median_days(issues)
    result.update(_satisfaction(issues, threshold))
    return result


def _satisfaction(issues: list[Issue], threshold: float) -> dict:
    scores = [issue.satisfaction for issue in issues if issue.satisfaction is not None]
    satisfied = sum(score >= threshold for score in scores)
    return {"satisfaction.scored": len(scores), "satisfaction.satisfied": satisfied,
            "rate.satisfaction": ratio(satisfied, len(scores)),
            # fsum makes the mean independent of row order: reordering rows changes no digit.
            "satisfaction.mean": math.fsum(scores) / len(scores) if scores else None}


def _group_name(value: str | None) -> str:
    return value if value else figure_text.MISSING_GROUP


def _groups(kind: str, issues: list[Issue], opinions: list[Opinion], first: dict[str, dt.date],
            as_of: dt.date, known: dict[str, bool], settings: dict,
            previous: past_data.Past | None) -> list[dict]:
    """One kind's groups. Channels and units also count their opinions and reply speed (by
    the opinion's channel, or its 承办单位); units add the change since the last publish."""
    members: dict[str, list[Issue]] = {}
    for issue in issues:
        members.setdefault(_group_name(getattr(issue, kind)), []).append(issue)
    heard: dict[str, list[Opinion]] = {}
    if kind in ("channel", "unit"):
        for opinion in opinions:
            # An opinion with no 承办单位 is no unit's to answer: unlike a channel, it makes
            # no 未填写 unit of its own.
            if kind == "unit" and not opinion.unit:
                continue
            heard.setdefault(_group_name(getattr(opinion, kind)), []).append(opinion)
    before = scorecards.previous_counts(previous, _group_name) \
        if kind == "unit" and previous is not None else None
    limits = (settings["reply_prompt_days"], settings["reply_limit_days"])
    groups = []
    for name in set(members) | set(heard):
        member_issues = members.get(name, [])
        group_figures = _status_figures(
            member_issues, _on_time(member_issues, first, known["dates"]), as_of,
            known["deadlines"])
        group_figures["rate.satisfaction"] = _satisfaction(
            member_issues, settings["threshold"])["rate.satisfaction"]
        if kind in ("channel", "unit"):
            group_figures.update(_feedback_figures(heard.get(name, []), known, limits))
        if kind == "unit":
            group_figures.update(scorecards.changes(
                group_figures, None if before is None else before.get(name, {})))
        groups.append({"name": name, "slug": slug(kind, name), "figures": group_figures})
    groups.sort(key=lambda group: (-group["figures"]["total"],
                                   -(group["figures"].get("feedback.total") or 0), group["name"]))
    return groups


def _status_counts(statuses) -> dict:
    counts = Counter(statuses)
    result = {status: counts[status] for status in schema.STATUSES}
    result["total"] = sum(counts.values())
    return result


def _known(records: list[Issue], opinions: list[Opinion]) -> dict[str, bool]:
    """Whether the tables carry these columns at all; decided once so groups agree with totals.
    A figure of a column the data lacks altogether (no deadlines, no opinion ledger) is None,
    printed "—", never a false 0."""
    return {"dates": any(issue.completed_on is not None for issue in records),
            "replies": any(opinion.replied is not None for opinion in opinions),
            "reply_dates": any(opinion.replied_on is not None for opinion in opinions),
            "opinions": bool(opinions),
            "deadlines": any(issue.deadline is not None for issue in records)}


def _figures(records: list[Issue], opinions: list[Opinion], earlier: list[past_data.Past],
             as_of: dt.date, settings: dict) -> dict:
    """The flat figures, groups and lists of one publish, from its records and those before."""
    first = past_data.first_deadlines(records, earlier)
    known = _known(records, opinions)
    limits = (settings["reply_prompt_days"], settings["reply_limit_days"])
    flat = _feedback_figures(opinions, known, limits)
    flat.update(_issue_figures(records, first, as_of, settings["threshold"], known["dates"],
                               known["deadlines"]))
    bucket_counts, due_lists, days_late = due_dates.deadline_buckets(records, as_of)
    if not known["deadlines"]:  # every pending item is one without a deadline; the rest unknown
        bucket_counts = {key: None if key != "deadline.none" else value
                         for key, value in bucket_counts.items()}
    flat.update(bucket_counts)

    since = past_data.unchanged_since(records, earlier, as_of)
    stale = [issue for issue in records if _pending(issue) and since[issue.issue_id] < as_of
             and (as_of - since[issue.issue_id]).days >= 7 * settings["stale_weeks"]]
    stale.sort(key=lambda issue: (since[issue.issue_id], schema.id_order(issue.issue_id)))
    flat["issues.stale"] = len(stale)

    previous = earlier[-1] if earlier else None
    groups = {kind: _groups(kind, records, opinions, first, as_of, known, settings, previous)
              for kind in figure_text.GROUP_KINDS}
    for kind, entries in groups.items():
        for entry in entries:
            flat.update({f"{kind}.{entry['slug']}.{key}": value
                         for key, value in entry["figures"].items()})
    return {"flat": flat, "groups": groups, "due_lists": due_lists, "days_late": days_late,
            "stale": stale}


def compute(issues: pd.DataFrame, feedback: pd.DataFrame, *, as_of: dt.date, threshold: float,
            stale_weeks: int, claims: list[dict], history: list[tuple],
            settings: dict | None = None) -> dict:
    """Every figure, group, series and list from the tables; pure, JSON-ready, deterministic.

    `history` holds earlier snapshots oldest first as (as_of, issues frame[, snapshot_id[,
    feedback frame]]); the newest is left out when it is this same publish (same date,
    statuses and deadlines), so a rerun gives the same bytes. `claims` holds {label, metric,
    value, date, source}; each is checked against the snapshot of its date, whose feedback
    figures need its feedback frame. `settings` overrides SETTINGS (reply limits, ranking).
    """
    settings = {**SETTINGS, **(settings or {}), "threshold": threshold, "stale_weeks": stale_weeks}
    as_of = past_data.date(as_of)
    records = past_data.issue_records(issues)
    opinions = past_data.opinion_records(feedback)
    history = list(history)
    earlier = [past_data.past_snapshot(*entry[:3]) for entry in history]
    # Only the newest snapshot can be this publish committed by an earlier run; an older one
    # that happens to match today's data is a real publish, and its deadlines were published.
    if earlier and past_data.is_rerun(earlier[-1], records, as_of):
        earlier.pop()
        history.pop()
    current = _figures(records, opinions, earlier, as_of, settings)
    flat = current["flat"]

    checked = claim_check.check(claims, _figures_at(history, earlier, flat, as_of, settings))
    for number, claim in enumerate(checked, start=1):
        flat[f"claim.{number}.claimed"] = claim["claimed"]
        flat[f"claim.{number}.computed"] = claim["computed"]

    snapshots = [{"snapshot_id": past.snapshot_id, "as_of": past.as_of.isoformat(),
                  **_status_counts(past.statuses.values())} for past in earlier]
    snapshots.append({"snapshot_id": None, "as_of": as_of.isoformat(),
                      **_status_counts(issue.status for issue in records)})
    rework = sorted((issue.issue_id for issue in records if issue.status == "rework"), key=schema.id_order)
    due_lists = current["due_lists"]
    return {
        "as_of": as_of.isoformat(),
        "parameters": {"satisfaction_threshold": plain_number(threshold),
                       "stale_weeks": int(stale_weeks),
                       **{name: int(settings[name]) for name in SETTINGS}},
        "figures": dict(sorted(flat.items())),
        "groups": current["groups"],
        # A stage the data cannot count is left out rather than drawn as an empty bar.
        "funnel": [stage for stage in (
            {"stage": "opinions", "value": flat["feedback.total"]},
            {"stage": "issues", "value": flat["issues.total"]},
            {"stage": "rectified", "value": flat["issues.done"]},
            # Shown only when some item was closed so: most lists never use these words.
            {"stage": "closed_not_fixed", "value": flat["issues.closed_not_fixed"] or None})
            if stage["value"] is not None],
        "series": {"burnup": due_dates.burnup(records, as_of), "snapshots": snapshots},
        "lists": {"overdue": due_lists["overdue"], "rework": rework,
                  "stale": [issue.issue_id for issue in current["stale"]],
                  "due_10": due_lists["due_10"], "due_20": due_lists["due_20"]},
        "days_late": dict(sorted(current["days_late"].items())),
        "claims": checked,
        "ranking": scorecards.ranking(current["groups"]["unit"], settings["ranking_min_items"],
                                      settings["ranking_size"]),
    }


def _figures_at(history: list[tuple], earlier: list[past_data.Past], flat: dict,
                as_of: dt.date, settings: dict):
    """For a claim's date: the figures of the newest snapshot on or before it (today's for a
    claim of today, later, or undated), computed from that snapshot's own tables and those
    before it, as they were published then."""
    cache: dict[int, dict] = {}

    def figures_at(claim_date: dt.date | None) -> tuple:
        if claim_date is None or claim_date >= as_of:
            return flat, as_of, None
        index = bisect.bisect_right([past.as_of for past in earlier], claim_date) - 1
        if index < 0:
            return None, None, None
        if index not in cache:
            entry = history[index]
            feedback = entry[3] if len(entry) > 3 else None
            opinions = past_data.opinion_records(feedback) if feedback is not None else []
            cache[index] = _figures(past_data.issue_records(entry[1]), opinions,
                                    earlier[:index], earlier[index].as_of, settings)["flat"]
        return cache[index], earlier[index].as_of, earlier[index].snapshot_id

    return figures_at


def to_json(metrics: dict) -> str:
    """The one spelling of metrics.json (manifests.canonical_json), so equal figures give equal bytes."""
    return manifests.canonical_json(metrics).decode("utf-8")


def _read_feedback(folder: Path) -> pd.DataFrame:
    # Feedback is optional: without a ledger there are simply no opinions to count.
    path = folder / "feedback.csv"
    if path.is_file():
        return read_table(path, "feedback")
    return pd.DataFrame({name: [] for name in schema.field_names("feedback")})


def _read_issues(folder: Path, hint: str) -> pd.DataFrame:
    path = folder / "issues.csv"
    if not path.is_file():
        raise EtlError(f"{path} is missing", hint=hint)
    return read_table(path, "issues")


def _history(folders: list[Path]) -> list[tuple]:
    entries = []
    for folder in folders:
        manifest = manifests.read_manifest(folder)
        issues = _read_issues(folder, "restore the snapshot folder from the published site")
        entries.append((dt.date.fromisoformat(manifest["as_of"]), issues, manifest["snapshot_id"],
                        _read_feedback(folder)))
    return entries


def _claim_inputs(claims) -> list[dict]:
    result = []
    for claim in claims:
        entry = dataclasses.asdict(claim) if dataclasses.is_dataclass(claim) else dict(claim)
        if isinstance(entry.get("date"), dt.date):
            entry["date"] = entry["date"].isoformat()
        result.append(entry)
    return result


def run(config) -> Path:
    """Read tables/ and the earlier snapshots, write work_dir/metrics.json, return its path."""
    tables_dir = config.work_dir / "tables"
    metrics = compute(
        _read_issues(tables_dir, "run `python -m etl transform` first"),
        _read_feedback(tables_dir),
        as_of=config.as_of, threshold=config.satisfaction_threshold,
        stale_weeks=config.stale_weeks, claims=_claim_inputs(config.claims),
        history=_history(manifests.chain(config.snapshots_dir)),
        settings={"reply_prompt_days": config.replies.prompt_days,
                  "reply_limit_days": config.replies.limit_days,
                  "ranking_min_items": config.ranking.min_items,
                  "ranking_size": config.ranking.size},
    )
    path = config.work_dir / METRICS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_json(metrics), encoding="utf-8")
    return path


def derive(snapshot_dirs: list[Path]) -> dict:
    """Recompute metrics.json from snapshot folders alone, oldest first, the newest as current.

    Parameters and claims come from the newest snapshot's metrics.json; the tables and the
    earlier snapshots' issues come from their CSV files, so a tampered figure shows up.
    """
    if not snapshot_dirs:
        raise EtlError("no snapshot folders to derive metrics from",
                       hint="pass the snapshot folders oldest first")
    newest = Path(snapshot_dirs[-1])
    try:
        published = json.loads((newest / METRICS_FILE).read_text(encoding="utf-8"))
        threshold = published["parameters"]["satisfaction_threshold"]
        stale_weeks = published["parameters"]["stale_weeks"]
        as_of = dt.date.fromisoformat(published["as_of"])
        claims = [{"label": c["label"], "metric": c["metric"], "value": c["claimed"],
                   "date": c["date"], "source": c["source"]} for c in published["claims"]]
        # A metrics.json older than these settings was made with their defaults.
        settings = {name: published["parameters"].get(name, default)
                    for name, default in SETTINGS.items()}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise EtlError(f"{newest / METRICS_FILE} cannot be read ({error!r})",
                       hint="restore the snapshot folder from the published site")
    return compute(
        _read_issues(newest, "restore the snapshot folder from the published site"),
        _read_feedback(newest), as_of=as_of,
        threshold=threshold, stale_weeks=stale_weeks,
        claims=claims, history=_history([Path(folder) for folder in snapshot_dirs[:-1]]),
        settings=settings,
    )

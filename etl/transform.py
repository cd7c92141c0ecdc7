"""Transform stage: typed rows become the public canonical tables, redacted and allow-listed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd

from etl import schema
from etl.privacy import redact, review
from etl.privacy.names import NameRules
from etl.ledger import tables
from etl.config import Config
from etl.errors import EtlError
from etl.ledger.manifests import canonical_json

# Free text that a person typed: redacted before anything else sees it.  owner is a name
# that is private by default, but a config may publish it, and staff type phone numbers
# next to names.
FREE_TEXT = {
    "issues": ("title", "description", "measures", "target", "deadline_note", "result", "reply",
               "category", "area", "unit", "channel", "owner"),
    "feedback": ("text", "area", "unit", "channel"),
}


def _read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["cells"] for line in handle if line.strip()]


def _frame(rows: list[dict], table: str) -> pd.DataFrame:
    names = schema.field_names(table)
    return pd.DataFrame([[row.get(n) for n in names] for row in rows], columns=names, dtype=object)


def apply_rework_rule(issues: pd.DataFrame, threshold: float) -> int:
    """A finished item scored below the threshold goes back for rework (返工); returns how many."""
    scores = pd.to_numeric(issues["satisfaction"], errors="coerce")
    below = (issues["status"] == "done") & scores.notna() & (scores < threshold)
    issues.loc[below, "status"] = "rework"
    return int(below.sum())


def fill_feedback_counts(issues: pd.DataFrame, feedback: pd.DataFrame) -> int:
    """Where the issue list leaves feedback_count empty, count the opinions linked to it."""
    if feedback.empty:
        return 0
    linked = Counter(feedback["issue_id"].dropna())
    missing = issues["feedback_count"].isna()
    issues.loc[missing, "feedback_count"] = [linked.get(i, 0) for i in issues.loc[missing, "issue_id"]]
    return int(missing.sum())


def redact_columns(frame: pd.DataFrame, columns: tuple[str, ...], table: str = "",
                   language: str = "zh", names: NameRules | None = None,
                   known_ids: frozenset[str] = frozenset(),
                   log: list | None = None) -> dict[str, int]:
    """Redact personal data in free-text columns; returns how many cells changed per column.

    Each hidden piece goes to `log` as a review.Redaction (table, row id, field, kind, excerpt).
    """
    changed = {}
    key = schema.PRIMARY_KEYS.get(table)
    ids = frame[key].tolist() if key in frame else [""] * len(frame)
    for name in columns:
        if name not in frame:
            continue
        before = frame[name].tolist()
        after = []
        for row_id, value in zip(ids, before):
            text, found = redact.redact_with_matches(
                value, language, names=names or NameRules(), known_ids=known_ids)
            after.append(text)
            if found and log is not None:
                log += review.review_rows(table, row_id, name, found)
        count = sum(a != b for a, b in zip(after, before))
        if count:
            changed[name] = count
        frame[name] = after
    return changed


def check_validated(source_dir: Path) -> None:
    """Refuse to go on from a validate run that failed: its tables hold only the good rows."""
    report_path = source_dir / "report.json"
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EtlError(f"{report_path} does not exist: validate has not run",
                       hint="run `python -m etl validate` (or publish) first")
    except ValueError:
        raise EtlError(f"{report_path} is not valid JSON", hint="run `python -m etl validate` again")
    errors = report.get("errors") or []
    if errors:
        raise EtlError(f"{report_path} lists {len(errors)} validation error(s); the rows they "
                       "name are missing from validate's tables, so nothing is transformed",
                       hint="correct the source rows named in validate/report.json, then run "
                            "validate and transform again")


def run(config: Config) -> Path:
    """Read validate/, write tables/issues.csv and tables/feedback.csv plus tables/report.json."""
    source_dir = config.work_dir / "validate"
    out_dir = config.work_dir / "tables"
    check_validated(source_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    issues = _frame(_read_rows(source_dir / "issues.jsonl"), "issues")
    feedback = _frame(_read_rows(source_dir / "feedback.jsonl"), "feedback")
    known = review.collect_names(source_dir)
    names = review.name_rules(config, known)
    known_ids = frozenset(str(i) for frame, key in ((issues, "issue_id"), (feedback, "feedback_id"))
                          for i in frame[key].dropna())
    log: list[review.Redaction] = []

    report = {
        "rework_from_satisfaction": apply_rework_rule(issues, config.satisfaction_threshold),
        "feedback_count_filled": fill_feedback_counts(issues, feedback),
        "redacted": {
            # Only what is published: the review file then lists only what readers would see.
            table: redact_columns(frame, tuple(c for c in FREE_TEXT[table]
                                               if c in config.published_fields[table]),
                                  table, config.language, names, known_ids, log)
            for table, frame in (("issues", issues), ("feedback", feedback))},
        "published_fields": config.published_fields,
        "rows": {"issues": len(issues), "feedback": len(feedback)},
    }
    for table, frame in (("issues", issues), ("feedback", feedback)):
        tables.write_table(frame, out_dir / f"{table}.csv", table, config.published_fields[table])
    # Counts only: the report sits beside the public tables, the review file does not.
    report["redactions"] = review.counts(log)
    report["names_known"] = {"personal": len(names.known),
                             "inside_place_names": len(known.inside_place_names)}
    review.write_review(log, config.work_dir / review.REVIEW_FILE, config.language)
    (out_dir / "report.json").write_bytes(canonical_json(report))
    return out_dir

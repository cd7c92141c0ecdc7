"""Builds small work dirs and snapshots for the snapshot, diff and verify tests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd

from etl import metrics, snapshot
from etl.site import figures
from etl.ledger import tables
from etl.config import Config, Paths, Removals

ISSUE_COLUMNS = ["issue_id", "title", "description", "unit", "owner", "deadline",
                 "deadline_note", "status", "satisfaction"]
FEEDBACK_COLUMNS = ["feedback_id", "received_on", "channel", "replied", "issue_id"]


def make_config(root: Path, as_of: str, *, snapshots_dir: Path | None = None,
                work_name: str = "build", removals_reason: str = "") -> Config:
    """A config; `removals_reason` lets its publishes drop items (the diff tests drop some)."""
    return Config(
        path=root / "gongshi.yml", title="t", region="r", language="zh",
        as_of=dt.date.fromisoformat(as_of), columns={}, status_words={},
        paths=Paths(work_dir=root / work_name, site_dir=root / "site",
                    snapshots_dir=snapshots_dir or root / "snapshots"),
        removals=Removals(allowed_reason=removals_reason, max_drop_share=1.0)
        if removals_reason else Removals())


def issue(issue_id: str, status: str = "open", **values) -> dict:
    row = {"issue_id": issue_id, "title": f"问题{issue_id}", "description": "描述",
           "unit": "县住建局", "status": status}
    row.update(values)
    return row


def write_inputs(config: Config, issues: list[dict], feedback: list[dict] | None = None,
                 *, issue_columns=ISSUE_COLUMNS) -> None:
    feedback = feedback or []
    work = Path(config.work_dir)
    issue_frame = pd.DataFrame(issues, columns=issue_columns)
    for column in ("deadline",):
        if column in issue_frame:
            issue_frame[column] = [dt.date.fromisoformat(v) if isinstance(v, str) else None
                                   for v in issue_frame[column]]
    tables.write_table(issue_frame, work / "tables" / "issues.csv", "issues", issue_columns)
    feedback_frame = pd.DataFrame(feedback, columns=FEEDBACK_COLUMNS)
    tables.write_table(feedback_frame, work / "tables" / "feedback.csv", "feedback",
                       FEEDBACK_COLUMNS)
    metrics.run(config)  # the real metrics stage: fixtures carry the shape metrics.json has
    (work / "extract").mkdir(parents=True, exist_ok=True)
    sources = [{"name": "issues", "kind": "file", "table": "issues", "file": "问题清单.xlsx",
                "sha256": "0" * 64, "bytes": 100, "rows": len(issues)}]
    (work / "extract" / "sources.json").write_text(json.dumps(sources), encoding="utf-8")


def publish(config: Config, issues: list[dict], feedback: list[dict] | None = None, **kw) -> Path:
    write_inputs(config, issues, feedback, **kw)
    snapshot.run(config)
    return snapshot.commit(config)


# verify's figure checks in these tests use the real metrics.derive and format_figure.
derive = metrics.derive
format_figure = figures.format_figure


def make_site(root: Path, snapshot_dirs: list[Path], pages: dict[str, str]) -> Path:
    """A built-site stand-in: data/snapshots/<id>/ copies, data/latest.json and HTML pages."""
    import shutil

    site = root / "site"
    for folder in snapshot_dirs:
        shutil.copytree(folder, site / "data" / "snapshots" / folder.name)
    (site / "data" / "latest.json").write_bytes(
        snapshot.canonical_json({"snapshot_id": snapshot_dirs[-1].name}))
    for name, html in pages.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(html, encoding="utf-8")
    return site


def span(key: str, text: str) -> str:
    return f'<span class="gs-figure" data-figure="{key}">{text}</span>'

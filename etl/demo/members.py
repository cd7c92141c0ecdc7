"""Synthetic member sites for federation tests and the benchmark: real snapshots, made fast.

One campaign goes through extract, validate and transform once (`base_tables`); each member is
then a variation of its canonical tables (`vary`: some rectified items reopened, by a seed),
published through the real metrics and snapshot stages into `<root>/site/data/snapshots/` with
`data/latest.json` beside them: the files a county's site publishes, so a federation checks
them exactly as it checks a county's. Never used by a publish.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd

from etl import metrics, snapshot
from etl.config import Config, Paths
from etl.ledger import tables
from etl.ledger.manifests import chain

TABLES = ("issues", "feedback")


def base_tables(config: Config) -> Path:
    """Run extract, validate and transform for a campaign's config; returns its work dir."""
    from etl import pipeline  # the stages' order, declared once
    for stage in pipeline.through("transform"):
        stage.run(config)
    return Path(config.work_dir)


def member_config(root: Path, name: str, as_of: dt.date) -> Config:
    """A county's config whose snapshots sit where its site publishes them."""
    return Config(path=root / "gongshi.yml", title=f"{name}整改公示", region=name, as_of=as_of,
                  paths=Paths(work_dir=root / "work", site_dir=root / "site",
                              snapshots_dir=root / "site" / "data" / "snapshots"))


def _picked(issue_id: str, seed: str, share: float) -> bool:
    digest = hashlib.sha256(f"{seed}:{issue_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2 ** 32 < share


def vary(issues: pd.DataFrame, seed: str, *, reopen: float = 0.0, finish: float = 0.0,
         finished_on: dt.date | None = None) -> pd.DataFrame:
    """A copy with a share of done items reopened and a share of in-progress ones finished."""
    frame = issues.copy()
    for index, row in frame.iterrows():
        if row["status"] == "done" and reopen and _picked(row["issue_id"], seed, reopen):
            frame.at[index, "status"] = "in_progress"
            if "completed_on" in frame:
                frame.at[index, "completed_on"] = None
        elif row["status"] == "in_progress" and finish and _picked(row["issue_id"], seed, finish):
            frame.at[index, "status"] = "done"
            if "completed_on" in frame and finished_on is not None:
                frame.at[index, "completed_on"] = finished_on
    return frame


def publish(root: Path, name: str, as_of: dt.date, frames: dict[str, pd.DataFrame],
            columns: dict[str, list[str]], base_work: Path | None = None) -> Path:
    """One member publish (metrics and snapshot stages) into root/site; returns the snapshot.

    `base_work` supplies extract/sources.json and validate/report.json (the record of the
    campaign's sources); without it the member records a single made-up source.
    """
    config = member_config(Path(root), name, as_of)
    work = Path(config.work_dir)
    for table in TABLES:
        tables.write_table(frames[table], work / "tables" / f"{table}.csv", table, columns[table])
    (work / "extract").mkdir(parents=True, exist_ok=True)
    if base_work is not None:
        shutil.copyfile(base_work / "extract" / "sources.json", work / "extract" / "sources.json")
        if (base_work / "validate" / "report.json").is_file():
            (work / "validate").mkdir(exist_ok=True)
            shutil.copyfile(base_work / "validate" / "report.json",
                            work / "validate" / "report.json")
    else:
        sources = [{"name": "issues", "kind": "file", "table": "issues", "file": f"{name}.xlsx",
                    "sha256": "0" * 64, "bytes": 0, "rows": len(frames["issues"])}]
        (work / "extract" / "sources.json").write_text(json.dumps(sources), encoding="utf-8")
    metrics.run(config)
    snapshot.run(config)
    committed = snapshot.commit(config)
    set_latest(Path(root) / "site", committed.name)
    return committed


def set_latest(site: Path, snapshot_id: str) -> None:
    """Point a member site's data/latest.json at one of its snapshots."""
    (site / "data" / "latest.json").write_text(
        json.dumps({"snapshot_id": snapshot_id}, ensure_ascii=False) + "\n", encoding="utf-8")


def read_frames(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """The canonical tables of a work dir's tables/ or a snapshot folder, with their columns."""
    folder = Path(folder)
    frames, columns = {}, {}
    for table in TABLES:
        path = folder / f"{table}.csv"
        frames[table] = tables.read_table(path, table)
        columns[table] = tables.read_header(path)
    return frames, columns


def newest(root: Path) -> Path:
    """The newest snapshot of a member made by `publish`."""
    return chain(Path(root) / "site" / "data" / "snapshots")[-1]


def config_with(config: Config, **paths) -> Config:
    """The config with some of its paths changed (work_dir, site_dir, snapshots_dir)."""
    return config.replace(paths=dataclasses.replace(config.paths, **paths))

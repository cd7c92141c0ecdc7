"""Small synthetic campaigns with the demo's config, for the end-to-end publish tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import yaml

from etl.demo import synth

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 20)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file (sha256) and folder under `folder` by relative path: equal means byte-identical."""
    return {str(p.relative_to(folder)): "<dir>" if p.is_dir() else
            hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))}


def write_campaign(folder: Path, issues: int = 60, feedback: int = 150) -> Path:
    """A synthetic campaign's exports under folder/sources and the demo's config beside them,
    with the site, work and snapshot folders inside `folder`; returns the config path."""
    synth.generate(folder / "sources", issues=issues, feedback=feedback, as_of=AS_OF)
    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    path = folder / "gongshi.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path

"""End to end: publish, byte-identical rebuilds, and failed publishes that change nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from etl import cli, synth
from etl.config import load_config
from etl.errors import ValidationFailed, VerifyFailed

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 20)


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under a folder by relative path -> sha256, to compare trees byte for byte."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def campaign(tmp_path) -> Path:
    """A small synthetic campaign with the demo's config; returns the config path."""
    synth.generate(tmp_path / "sources", issues=60, feedback=150, as_of=AS_OF)
    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    path = tmp_path / "gongshi.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def publish(config_path: Path, **kwargs) -> Path:
    return cli.publish(load_config(config_path, **kwargs), log=lambda *a: None)


def test_publish_then_verify(campaign):
    site = publish(campaign)
    assert (site / "index.html").exists()
    snapshots = list((campaign.parent / "snapshots").iterdir())
    assert len(snapshots) == 1
    assert (site / "data" / "snapshots" / snapshots[0].name / "manifest.json").exists()
    assert cli.main(["verify", str(site)]) == 0


def test_same_inputs_give_byte_identical_site_and_snapshot(tmp_path, campaign):
    publish(campaign)
    first = campaign.parent
    second = tmp_path / "again"
    second.mkdir()
    for name in ("gongshi.yml", "sources"):
        source = first / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, second / name)
    publish(second / "gongshi.yml")
    for folder in ("site", "snapshots"):
        assert tree_digest(first / folder) == tree_digest(second / folder), folder


def test_rerun_is_a_no_op(campaign):
    site = publish(campaign)
    before = tree_digest(site), tree_digest(campaign.parent / "snapshots")
    publish(campaign)
    assert (tree_digest(site), tree_digest(campaign.parent / "snapshots")) == before


def test_failed_publish_leaves_site_and_snapshots_untouched(campaign):
    site = publish(campaign)
    snapshots = campaign.parent / "snapshots"
    before = tree_digest(site), tree_digest(snapshots)
    csv_path = campaign.parent / "sources" / "意见建议台账.csv"
    lines = csv_path.read_bytes().split(b"\n")
    csv_path.write_bytes(b"\n".join(lines[:3] + [lines[2]] + lines[3:]))  # a duplicated row
    with pytest.raises(ValidationFailed, match="is used again"):
        publish(campaign, as_of=AS_OF + dt.timedelta(days=1))
    assert (tree_digest(site), tree_digest(snapshots)) == before
    assert not site.with_name("site.old").exists()


def test_cli_error_names_the_missing_file(campaign):
    (campaign.parent / "sources" / "问题整改清单.xlsx").unlink()
    result = subprocess.run([sys.executable, "-m", "etl", "publish", "--config", str(campaign)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "问题整改清单.xlsx" in result.stderr and "what to do:" in result.stderr
    assert not (campaign.parent / "site").exists()


def test_verify_catches_a_forged_head_snapshot_with_consistent_hashes(campaign):
    """Editing the newest snapshot's series and re-hashing its manifest fools every hash check
    (nothing links to the head yet); re-deriving the metrics from the data still catches it."""
    site = publish(campaign)
    (head,) = (site / "data" / "snapshots").iterdir()
    metrics_path = head / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    metrics["series"]["burnup"][-1]["done"] += 100
    metrics_path.write_text(json.dumps(metrics, ensure_ascii=False, sort_keys=True, indent=1) + "\n",
                            encoding="utf-8")
    manifest_path = head / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    data = metrics_path.read_bytes()
    manifest["files"]["metrics.json"] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1) + "\n",
                             encoding="utf-8")
    with pytest.raises(VerifyFailed) as caught:
        cli.verify_site(site)
    assert caught.value.problems == [
        f"{head.name}/metrics.json: section 'series' differs from what the data re-derives"]

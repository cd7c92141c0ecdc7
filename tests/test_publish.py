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

from campaigns import AS_OF, ROOT, tree_digest, write_campaign  # tests/ is on sys.path
from etl import cli, pipeline
from etl.ledger import manifests
from etl.config import load_config
from etl.errors import EtlError, ValidationFailed, VerifyFailed
from etl.ledger.manifests import chain as snapshot_chain



@pytest.fixture
def campaign(tmp_path) -> Path:
    """A small synthetic campaign with the demo's config; returns the config path."""
    path = write_campaign(tmp_path)
    return path


def publish(config_path: Path, **kwargs) -> Path:
    return pipeline.publish(load_config(config_path, **kwargs), log=lambda *a: None)


def test_publish_then_verify(campaign):
    site = publish(campaign)
    assert (site / "index.html").exists()
    snapshots = [p for p in (campaign.parent / "snapshots").iterdir() if p.name != ".lock"]
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


def test_same_day_revert_keeps_every_snapshot_on_the_site(campaign):
    """Publish A; B with one text edited; C with A's inputs again, all on one day: C is a third
    snapshot after B (not a rerun of A), and the site carries A, B and C with C the latest."""
    feedback_csv = campaign.parent / "sources" / "意见建议台账.csv"
    original = feedback_csv.read_bytes()
    text = original.decode("gb18030")
    assert "反映" in text
    publish(campaign)
    feedback_csv.write_bytes(text.replace("反映", "来信反映", 1).encode("gb18030"))
    publish(campaign)
    feedback_csv.write_bytes(original)
    site = publish(campaign)
    chain = snapshot_chain(campaign.parent / "snapshots")
    assert len(chain) == 3
    assert chain[2].name != chain[0].name
    assert (chain[2] / "issues.csv").read_bytes() == (chain[0] / "issues.csv").read_bytes()
    carried = sorted(p.name for p in (site / "data" / "snapshots").iterdir())
    assert carried == sorted(p.name for p in chain)
    latest = json.loads((site / "data" / "latest.json").read_text(encoding="utf-8"))
    assert latest["snapshot_id"] == chain[2].name
    assert cli.main(["verify", str(site)]) == 0


def test_failed_publish_leaves_site_and_snapshots_untouched(campaign):
    site = publish(campaign)
    snapshots = campaign.parent / "snapshots"
    before = tree_digest(site), tree_digest(snapshots)
    csv_path = campaign.parent / "sources" / "意见建议台账.csv"
    lines = csv_path.read_bytes().split(b"\n")
    csv_path.write_bytes(b"\n".join(lines[:3] + [lines[2]] + lines[3:]))  # a duplicated row
    with pytest.raises(ValidationFailed, match="重复使用"):  # the site is Chinese
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
        pipeline.verify_site(site)
    assert caught.value.problems == [
        f"{head / 'manifest.json'}: snapshot id mismatch: the manifest's content hashes to "
        f"{manifests.snapshot_id(manifest)}, but the snapshot is named {head.name} in folder "
        f"{head.name} (its data or manifest was edited)",
        # The publication receipt printed the manifest's hash before the edit.
        f"{site / 'receipt.html'}: does not name the newest snapshot {head.name} and its "
        f"manifest SHA-256 {manifests.manifest_hash(head)}",
        f"{head.name}/metrics.json: section 'series' differs from what the data re-derives"]


def test_a_second_publish_waits_for_none_and_says_so(campaign):
    config = load_config(campaign)
    with pipeline._publish_lock(config):
        with pytest.raises(EtlError, match="another publish is running"):
            pipeline.publish(config, log=lambda *a: None)


def test_a_site_dir_that_is_not_a_gongshi_site_is_never_replaced(campaign):
    site = campaign.parent / "site"
    site.mkdir()
    (site / "report.docx").write_bytes(b"someone's work")
    with pytest.raises(EtlError, match="is not a Gongshi site"):
        publish(campaign)
    assert sorted(p.name for p in site.iterdir()) == ["report.docx"]
    assert not (campaign.parent / "snapshots").exists()

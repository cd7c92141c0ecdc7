"""Anchors outside the site: known heads for verify, and publish refusing a rewritten chain.

The forgery of the issue: the chain rewritten from an old snapshot with every hash, id and
folder name recomputed. It passes every check the site can do alone; it must fail against a
head recorded elsewhere, and publish must not build on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parents[1] / "cases" / "snapshots"))
import snapshot_factory as factory  # noqa: E402

from etl import cli, pipeline, snapshot, verify  # noqa: E402
from etl.config import load_config  # noqa: E402
from etl.demo import synth  # noqa: E402
from etl.errors import ConfigError, SnapshotError, VerifyFailed  # noqa: E402
from etl.ledger import anchors  # noqa: E402
from etl.ledger.manifests import MANIFEST, chain, manifest_hash  # noqa: E402

I = factory.issue
FIRST = [I("1", "done"), I("2"), I("3")]
SECOND = [I("1", "done"), I("2", "done"), I("3")]
THIRD = [I("1", "done"), I("2", "done"), I("3", "done")]
# The rewrite: issue 2 was never done.
FORGED = [I("1", "done"), I("2", "in_progress"), I("3")]
ROOT = Path(__file__).resolve().parents[2]


def _publish_all(root: Path, snapshots_dir: Path, steps) -> list[Path]:
    return [factory.publish(factory.make_config(root, as_of, snapshots_dir=snapshots_dir), rows)
            for as_of, rows in steps]


@pytest.fixture
def real_and_forged(tmp_path):
    """The real chain's site, and the same snapshots_dir rewritten from its oldest snapshot."""
    snapshots = tmp_path / "snapshots"
    real = _publish_all(tmp_path, snapshots, [("2026-10-01", FIRST), ("2026-10-31", SECOND),
                                              ("2026-11-20", THIRD)])
    site = factory.make_site(tmp_path / "real", real, {"index.html": "<p>real</p>"})
    for folder in real[1:]:
        shutil.rmtree(folder)  # the forger keeps the oldest and writes a new history after it
    forged = _publish_all(tmp_path / "forger", snapshots, [("2026-10-31", FORGED),
                                                           ("2026-11-20", FORGED)])
    forged_site = factory.make_site(tmp_path / "forged", [real[0], *forged],
                                    {"index.html": "<p>forged</p>"})
    return {"site": site, "forged_site": forged_site, "snapshots": snapshots,
            "real": [p.name for p in real], "forged": [p.name for p in forged],
            "hashes": {p.name: manifest_hash(site / "data" / "snapshots" / p.name) for p in real}}


def _verify(site: Path, heads=()) -> None:
    verify.run(site, derive=factory.derive, format_figure=factory.format_figure,
               known_heads=list(heads))


def _problems(site: Path, heads) -> list[str]:
    with pytest.raises(VerifyFailed) as caught:
        _verify(site, heads)
    return caught.value.problems


def test_the_rewritten_chain_is_consistent_so_the_site_alone_cannot_tell(real_and_forged):
    _verify(real_and_forged["forged_site"])  # every hash, id and link recomputed: it passes
    _verify(real_and_forged["site"])


def test_a_known_head_the_forgery_lacks_fails_naming_it(real_and_forged):
    real_head = real_and_forged["real"][-1]
    problems = _problems(real_and_forged["forged_site"], [anchors.KnownHead(real_head)])
    assert problems == [
        f"known head {real_head} (--known-head) is not in the chain: the history was rewritten "
        "after it, or that snapshot is missing; do not trust this site until the snapshot is "
        "restored from a backup or the published record"]
    _verify(real_and_forged["site"], [anchors.KnownHead(real_head)])


def test_a_known_head_before_the_rewrite_passes_with_its_id_but_not_a_wrong_hash(real_and_forged):
    oldest = real_and_forged["real"][0]
    right = real_and_forged["hashes"][oldest]
    _verify(real_and_forged["forged_site"], [anchors.KnownHead(oldest, right)])
    problems = _problems(real_and_forged["forged_site"], [anchors.KnownHead(oldest, "0" * 64)])
    assert len(problems) == 1 and "rewritten under its id" in problems[0]


def test_publish_refuses_a_chain_without_the_published_head(real_and_forged):
    site, snapshots = real_and_forged["site"], real_and_forged["snapshots"]
    with pytest.raises(SnapshotError) as caught:
        anchors.check_previous_site(site, snapshots)
    head = real_and_forged["real"][-1]
    assert f"does not contain {head}, the newest snapshot of the published site" in caught.value.message
    assert "the chain was rewritten or that snapshot is missing" in caught.value.message


def test_publish_accepts_the_chain_it_published_and_no_site_at_all(tmp_path):
    snapshots = tmp_path / "snapshots"
    folders = _publish_all(tmp_path, snapshots, [("2026-10-01", FIRST), ("2026-10-31", SECOND)])
    site = factory.make_site(tmp_path / "s", folders, {"index.html": "<p>x</p>"})
    anchors.check_previous_site(site, snapshots)
    anchors.check_previous_site(tmp_path / "no-site-yet", snapshots)
    # The head's manifest edited in snapshots_dir under the same id: refused too.
    manifest = folders[-1] / MANIFEST
    manifest.write_bytes(manifest.read_bytes() + b"\n")
    with pytest.raises(SnapshotError, match="differs from the published site's copy"):
        anchors.check_previous_site(site, snapshots)


def test_known_heads_are_read_from_a_file_with_comments(tmp_path):
    sha = hashlib.sha256(b"x").hexdigest()
    path = tmp_path / "heads.txt"
    path.write_text("# receipts filed with the 公文\n2026-10-01-0123456789abcdef\n\n"
                    f"2026-11-20-fedcba9876543210 {sha}  # 2026年第3号\n", encoding="utf-8")
    heads = anchors.read_known_heads(path)
    assert [(h.snapshot_id, h.manifest_sha256) for h in heads] == [
        ("2026-10-01-0123456789abcdef", ""), ("2026-11-20-fedcba9876543210", sha)]
    assert heads[1].where == f"{path}, line 4"
    assert anchors.parse_known_head(f"2026-11-20-fedcba9876543210:{sha.upper()}").manifest_sha256 == sha
    with pytest.raises(ConfigError, match="line 1: 'abc' is not a SHA-256"):
        path.write_text("2026-10-01-0123456789abcdef abc\n", encoding="utf-8")
        anchors.read_known_heads(path)
    with pytest.raises(ConfigError, match="is not a snapshot id"):
        anchors.parse_known_head("a b c")


def test_cli_verify_takes_known_heads_and_names_the_missing_one(real_and_forged, tmp_path, capsys):
    forged_site = str(real_and_forged["forged_site"])
    real_head, oldest = real_and_forged["real"][-1], real_and_forged["real"][0]
    heads = tmp_path / "heads.txt"
    heads.write_text(f"# from the receipts\n{oldest}\n{real_head}\n", encoding="utf-8")
    assert cli.main(["verify", forged_site, "--no-rebuild", "--known-heads", str(heads)]) != 0
    error = capsys.readouterr().err
    assert f"known head {real_head} ({heads}, line 3) is not in the chain" in error
    assert f"known head {oldest}" not in error
    assert cli.main(["verify", forged_site, "--no-rebuild", "--known-head", "not/an-id"]) != 0
    assert "is not a snapshot id" in capsys.readouterr().err


# End to end: the demo's config on a small synthetic campaign, published twice, then forged.

@pytest.fixture
def campaign(tmp_path) -> Path:
    synth.generate(tmp_path / "sources", issues=60, feedback=150, as_of=dt.date(2026, 11, 20))
    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    path = tmp_path / "gongshi.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_a_publish_on_a_forged_chain_fails_and_changes_nothing(campaign):
    quiet = {"log": lambda *a: None}
    pipeline.publish(load_config(campaign), **quiet)
    # A second publication: a stricter threshold makes other figures, so a new snapshot.
    site = pipeline.publish(load_config(campaign).replace(satisfaction_threshold=90), **quiet)
    snapshots = campaign.parent / "snapshots"
    real = [p.name for p in chain(snapshots)]
    assert cli.main(["verify", str(site), "--no-rebuild", "--known-head", real[-1]]) == 0
    printed = campaign.parent / "build" / "receipts" / f"{real[-1]}.pdf"  # for staff to file
    assert printed.read_bytes() == (site / "data" / "receipts" / printed.name).read_bytes()
    # The forger: drop the newest snapshot and commit another in its place with the stages.
    shutil.rmtree(snapshots / real[-1])
    config = load_config(campaign).replace(satisfaction_threshold=95)
    for stage in pipeline.through("snapshot"):
        pipeline.run_stage(stage.name, config, log=lambda *a: None)
    snapshot.commit(config)
    forged = [p.name for p in chain(snapshots)]
    assert forged[0] == real[0] and forged[-1] != real[-1]
    before = _tree(site)
    with pytest.raises(SnapshotError, match=f"does not contain {real[-1]}"):
        pipeline.publish(load_config(campaign).replace(satisfaction_threshold=90), **quiet)
    assert _tree(site) == before
    assert cli.main(["publish", "--config", str(campaign)]) != 0

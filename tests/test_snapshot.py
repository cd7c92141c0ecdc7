"""Snapshots: files, manifest, datapackage, determinism, chain, immutability and signing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import frictionless  # pinned in requirements.txt: missing is an error, not a skip
import pytest

sys.path.insert(0, str(Path(__file__).parent / "cases" / "snapshots"))
import snapshot_factory as factory  # noqa: E402

from etl import snapshot  # noqa: E402
from etl.ledger import manifests
from etl.errors import SnapshotError  # noqa: E402

ISSUES = [
    factory.issue("2", "done", deadline="2026-06-30", satisfaction=92.5),
    factory.issue("1", title="=HYPERLINK(\"http://x\")", deadline="2026-12-31"),
    factory.issue("10", "long_term", deadline_note="长期坚持"),
]
FEEDBACK = [
    {"feedback_id": "f1", "received_on": "2026-03-01", "channel": "热线", "replied": True,
     "issue_id": "1"},
    {"feedback_id": "f2", "received_on": "2026-03-02", "channel": "信箱", "replied": False},
]


def _publish(root: Path, as_of: str = "2026-11-01", issues=ISSUES, feedback=FEEDBACK, **kw) -> Path:
    # Later publishes here drop items to make new data; the removal guard has its own tests
    # (tests/test_removals.py), so these allow removals.
    kw.setdefault("removals_reason", "测试数据删减")
    config = factory.make_config(root, as_of, **kw)
    return factory.publish(config, issues, feedback)


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_snapshot_holds_every_file_with_matching_manifest(tmp_path):
    folder = _publish(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        "build.json", "datapackage.json", "feedback.csv", "feedback.json", "issues.csv", "issues.json",
        "manifest.json", "metrics.json"]
    manifest = snapshot.read_manifest(folder)
    assert folder.name == manifest["snapshot_id"]
    assert manifest["snapshot_id"].startswith("2026-11-01-") and len(manifest["snapshot_id"]) == 27
    assert manifest["snapshot_id"] == manifests.snapshot_id(manifest)
    assert manifest["previous"] is None
    assert manifest["row_counts"] == {"issues": 3, "feedback": 2}
    assert manifest["tool"] == snapshot.TOOL
    assert manifest["sources"][0]["file"] == "问题清单.xlsx"
    for name, entry in manifest["files"].items():
        data = (folder / name).read_bytes()
        assert entry == {"sha256": snapshot.sha256_hex(data), "bytes": len(data)}
    # metrics.json is copied byte for byte
    work_metrics = (tmp_path / "build" / "metrics.json").read_bytes()
    assert (folder / "metrics.json").read_bytes() == work_metrics
    # deterministic JSON spelling for the manifest itself
    assert (folder / "manifest.json").read_bytes() == snapshot.canonical_json(manifest)


def test_csv_has_bom_is_sorted_and_defused(tmp_path):
    folder = _publish(tmp_path)
    data = (folder / "issues.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r" not in data
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "issue_id,title,description,unit,owner,deadline,deadline_note,status,satisfaction"
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "10", "2"]
    assert "'=HYPERLINK" in lines[1]
    records = json.loads((folder / "issues.json").read_text(encoding="utf-8"))
    assert records[0]["title"] == "=HYPERLINK(\"http://x\")"  # JSON keeps the real text
    assert records[2]["satisfaction"] == 92.5


def test_datapackage_is_v2_and_frictionless_accepts_it(tmp_path):
    folder = _publish(tmp_path)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert package["$schema"] == "https://datapackage.org/profiles/2.0/datapackage.json"
    issues, feedback = package["resources"]
    assert issues["schema"]["primaryKey"] == ["issue_id"]
    status = next(f for f in issues["schema"]["fields"] if f["name"] == "status")
    assert status["constraints"]["enum"] == ["open", "in_progress", "done", "long_term", "rework",
                                             "explained", "not_adopted", "merged", "transferred"]
    assert issues["hash"] == "sha256:" + snapshot.sha256_hex((folder / "issues.csv").read_bytes())
    assert feedback["schema"]["foreignKeys"][0]["reference"]["resource"] == "issues"
    report = frictionless.validate(str(folder / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])


def test_frictionless_rejects_a_bad_status(tmp_path):
    """The validation above can fail: a status outside the enum (hash fixed up) is caught."""
    folder = _publish(tmp_path)
    copy = shutil.copytree(folder, tmp_path / "copy")
    csv_path = copy / "issues.csv"
    csv_path.write_bytes(csv_path.read_bytes().replace(b",long_term,", b",finished!,"))
    package = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"][0]["hash"] = "sha256:" + snapshot.sha256_hex(csv_path.read_bytes())
    package["resources"][0]["bytes"] = len(csv_path.read_bytes())
    (copy / "datapackage.json").write_bytes(snapshot.canonical_json(package))
    report = frictionless.validate(str(copy / "datapackage.json"))
    assert not report.valid
    assert "constraint-error" in {row[0] for row in report.flatten(["type"])}


def test_foreign_key_left_out_when_feedback_links_an_unpublished_issue(tmp_path):
    feedback = FEEDBACK + [{"feedback_id": "f3", "channel": "热线", "issue_id": "999"}]
    folder = _publish(tmp_path, feedback=feedback)
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    assert "foreignKeys" not in package["resources"][1]["schema"]
    assert frictionless.validate(str(folder / "datapackage.json")).valid


def test_same_inputs_give_byte_identical_snapshots(tmp_path):
    first = _publish(tmp_path / "a")
    second = _publish(tmp_path / "b")
    assert first.name == second.name
    assert _listing(first) == _listing(second)


def test_different_data_same_day_gets_a_new_id(tmp_path):
    first = _publish(tmp_path / "a")
    second = _publish(tmp_path / "b", issues=ISSUES[:2])
    assert first.name[:10] == second.name[:10] and first.name != second.name


def test_second_publish_links_the_first_by_manifest_hash(tmp_path):
    first = _publish(tmp_path)
    second = _publish(tmp_path, "2026-11-20", issues=ISSUES[:2])
    previous = snapshot.read_manifest(second)["previous"]
    assert previous == {"snapshot_id": first.name,
                        "manifest_sha256": snapshot.sha256_hex((first / "manifest.json").read_bytes())}
    assert snapshot.chain(tmp_path / "snapshots") == [first, second]
    assert not any((tmp_path / "build" / "stage" / "snapshot").iterdir())


def test_rerun_of_a_committed_publish_is_a_no_op(tmp_path):
    first = _publish(tmp_path)
    second = _publish(tmp_path, "2026-11-20", issues=ISSUES[:2])
    before = _listing(second)
    config = factory.make_config(tmp_path, "2026-11-20")
    staged = snapshot.run(config)
    assert staged.name == second.name
    assert _listing(staged) == before
    assert snapshot.read_manifest(staged)["previous"]["snapshot_id"] == first.name  # not itself
    assert snapshot.commit(config) == second
    assert _listing(second) == before
    assert snapshot.chain(tmp_path / "snapshots") == [first, second]


def test_rerun_with_real_metrics_is_a_no_op(tmp_path):
    from etl import metrics
    made = []
    for as_of, issues in (("2026-11-01", ISSUES[:2]), ("2026-11-20", ISSUES), ("2026-11-20", ISSUES)):
        config = factory.make_config(tmp_path, as_of)
        factory.write_inputs(config, issues, FEEDBACK)
        metrics.run(config)
        snapshot.run(config)
        made.append(snapshot.commit(config))
    assert made[2] == made[1]
    assert len(snapshot.chain(tmp_path / "snapshots")) == 2


def test_same_day_revert_is_a_new_snapshot_not_a_rerun_of_the_older_one(tmp_path):
    """A, then B (a title edited), then C restoring A's inputs: C follows B, it is not A again."""
    from etl.site import pages
    edited = [factory.issue("2", "done", title="改过的标题", deadline="2026-06-30",
                            satisfaction=92.5)] + ISSUES[1:]
    first = _publish(tmp_path)
    second = _publish(tmp_path, issues=edited)
    config = factory.make_config(tmp_path, "2026-11-01")
    factory.write_inputs(config, ISSUES, FEEDBACK)
    staged = snapshot.run(config)
    assert staged.name not in (first.name, second.name)
    assert snapshot.read_manifest(staged)["previous"] == {
        "snapshot_id": second.name, "manifest_sha256": snapshot.manifest_hash(second)}
    assert pages.snapshot_folders(config) == [first, second, staged]  # what the site carries
    third = snapshot.commit(config)
    assert snapshot.chain(tmp_path / "snapshots") == [first, second, third]
    for name in ("issues.csv", "issues.json", "feedback.csv"):
        assert (third / name).read_bytes() == (first / name).read_bytes()
    # metrics.json differs, rightly: its series of earlier publishes now has two.
    # ... and rerunning that last publish is a no-op again.
    assert snapshot.run(config).name == third.name
    assert snapshot.commit(config) == third
    assert len(snapshot.chain(tmp_path / "snapshots")) == 3


def test_rerun_refuses_to_overwrite_an_edited_snapshot(tmp_path):
    first = _publish(tmp_path)
    (first / "issues.csv").write_bytes((first / "issues.csv").read_bytes() + b"x\n")
    config = factory.make_config(tmp_path, "2026-11-01")
    with pytest.raises(SnapshotError, match="already exists with different content"):
        snapshot.run(config)


def test_commit_refuses_to_overwrite_a_different_snapshot(tmp_path):
    config = factory.make_config(tmp_path, "2026-11-01")
    factory.write_inputs(config, ISSUES, FEEDBACK)
    staged = snapshot.run(config)
    (tmp_path / "snapshots" / staged.name).mkdir(parents=True)
    (tmp_path / "snapshots" / staged.name / "manifest.json").write_bytes(b"{}")
    with pytest.raises(SnapshotError, match="already exists with different content"):
        snapshot.commit(config)


def test_commit_without_a_staged_snapshot_says_what_to_do(tmp_path):
    with pytest.raises(SnapshotError, match="run `python -m etl snapshot`"):
        snapshot.commit(factory.make_config(tmp_path, "2026-11-01"))


@pytest.mark.parametrize("step", ["commit", "snapshot_folders"])
def test_a_publish_that_landed_meanwhile_is_noticed(tmp_path, step):
    """Neither the commit nor the site's list of snapshots accepts a staged snapshot that no
    longer follows the newest one."""
    from etl.site import pages
    config = factory.make_config(tmp_path, "2026-11-20")
    factory.write_inputs(config, ISSUES, FEEDBACK)
    snapshot.run(config)
    _publish(tmp_path / "other", snapshots_dir=tmp_path / "snapshots")
    with pytest.raises(SnapshotError, match="another publish committed meanwhile"):
        {"commit": snapshot.commit, "snapshot_folders": pages.snapshot_folders}[step](config)


def test_publish_dated_before_the_newest_snapshot_is_refused(tmp_path):
    _publish(tmp_path, "2026-11-20")
    with pytest.raises(SnapshotError, match="before the newest snapshot"):
        _publish(tmp_path, "2026-11-01", issues=ISSUES[:1])


def test_stale_metrics_are_refused(tmp_path):
    config = factory.make_config(tmp_path, "2026-11-01")
    factory.write_inputs(config, ISSUES, FEEDBACK)
    (tmp_path / "build" / "metrics.json").write_text('{"as_of": "2026-10-01", "figures": {}}')
    with pytest.raises(SnapshotError, match="metrics.json is for 2026-10-01"):
        snapshot.run(config)


def test_missing_tables_name_the_file_and_the_stage(tmp_path):
    config = factory.make_config(tmp_path, "2026-11-01")
    with pytest.raises(SnapshotError, match=r"tables/issues.csv is missing[\s\S]*etl transform"):
        snapshot.run(config)


def test_chain_detects_an_edited_older_manifest(tmp_path):
    first = _publish(tmp_path)
    _publish(tmp_path, "2026-11-20", issues=ISSUES[:2])
    (first / "manifest.json").write_bytes((first / "manifest.json").read_bytes() + b"\n")
    with pytest.raises(SnapshotError, match="older manifest was edited"):
        snapshot.chain(tmp_path / "snapshots")


def test_chain_detects_two_heads(tmp_path):
    _publish(tmp_path)
    second = _publish(tmp_path, "2026-11-20", issues=ISSUES[:2])
    manifest = snapshot.read_manifest(second)
    manifest["previous"] = None
    (second / "manifest.json").write_bytes(snapshot.canonical_json(manifest))
    with pytest.raises(SnapshotError, match="2 chain heads"):
        snapshot.chain(tmp_path / "snapshots")
    with pytest.raises(SnapshotError, match="broken chain"):
        _publish(tmp_path, "2026-11-21", issues=ISSUES[:1])


def test_chain_detects_a_fork(tmp_path):
    first = _publish(tmp_path)
    second = _publish(tmp_path, "2026-11-20", issues=ISSUES[:2])
    fork = tmp_path / "snapshots" / "2026-11-20-ffffffffffffffff"
    shutil.copytree(second, fork)
    manifest = snapshot.read_manifest(fork)
    manifest["snapshot_id"] = fork.name
    (fork / "manifest.json").write_bytes(snapshot.canonical_json(manifest))
    with pytest.raises(SnapshotError, match=f"fork: .* name {first.name} as previous"):
        snapshot.chain(tmp_path / "snapshots")


def test_chain_of_a_missing_folder_is_empty(tmp_path):
    assert snapshot.chain(tmp_path / "nothing") == []


def test_a_leftover_incoming_copy_does_not_block_the_next_publish(tmp_path):
    """An interrupted cross-file-system commit leaves .incoming-<id>; chain() skips it, run()
    clears it, and the lock file is no snapshot either."""
    first = _publish(tmp_path)
    leftover = tmp_path / "snapshots" / f".incoming-{first.name[:10]}-0123456789abcdef"
    shutil.copytree(first, leftover)
    assert (tmp_path / "snapshots" / ".lock").is_file()
    assert snapshot.chain(tmp_path / "snapshots") == [first]
    second = _publish(tmp_path, "2026-11-20", issues=ISSUES[:2])
    assert not leftover.exists()
    assert snapshot.chain(tmp_path / "snapshots") == [first, second]


def test_commit_holds_the_lock_while_it_checks_and_renames(tmp_path):
    """A commit waits for another holder of snapshots_dir/.lock and then sees its new head,
    so two concurrent publishes cannot both follow the same snapshot."""
    import fcntl
    import threading
    import time
    first = _publish(tmp_path)
    config = factory.make_config(tmp_path, "2026-11-20", removals_reason="测试数据删减")
    factory.write_inputs(config, ISSUES[:2], FEEDBACK)
    staged = snapshot.run(config)
    assert snapshot.read_manifest(staged)["previous"]["snapshot_id"] == first.name
    other = factory.make_config(tmp_path / "other", "2026-11-20",
                                snapshots_dir=tmp_path / "snapshots", removals_reason="测试数据删减")
    factory.write_inputs(other, ISSUES[:1], FEEDBACK)
    snapshot.run(other)
    outcome = []

    def commit_mine():
        try:
            outcome.append(snapshot.commit(config))
        except SnapshotError as error:
            outcome.append(error)

    with (tmp_path / "snapshots" / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        worker = threading.Thread(target=commit_mine)
        worker.start()
        time.sleep(0.3)
        assert outcome == [] and staged.exists()  # waiting for the lock, nothing renamed yet
        # The other publish lands while this one waits (as if it held the lock first).
        other_staged = snapshot.staging_dir(other)
        (source,) = other_staged.iterdir()
        source.rename(tmp_path / "snapshots" / source.name)
        fcntl.flock(handle, fcntl.LOCK_UN)
    worker.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], SnapshotError)
    assert "another publish committed meanwhile" in outcome[0].render()
    assert len(snapshot.chain(tmp_path / "snapshots")) == 2  # no fork


def _minisign() -> str:
    binary = shutil.which("minisign")
    if binary is None:
        pytest.skip("minisign is not installed (apt-get install minisign)")
    return binary


def _keypair(tmp_path: Path, password: str = "") -> tuple[Path, Path]:
    binary = _minisign()
    secret, public = tmp_path / "keys" / "minisign.key", tmp_path / "keys" / "minisign.pub"
    secret.parent.mkdir(parents=True, exist_ok=True)
    command = [binary, "-G", "-f", "-p", str(public), "-s", str(secret)]
    stdin = f"{password}\n{password}\n".encode() if password else b""
    subprocess.run(command + ([] if password else ["-W"]), input=stdin, check=True,
                   capture_output=True, timeout=60)
    return secret, public


def test_signed_manifest_verifies_and_is_deterministic(tmp_path):
    binary = _minisign()
    secret, public = _keypair(tmp_path)
    config = factory.make_config(tmp_path, "2026-11-01")
    assert manifests.public_key(config) is None
    config = config.replace(minisign_key=secret)
    assert manifests.public_key(config) == public
    signed = []
    for name in ("a", "b"):
        config = factory.make_config(tmp_path / name, "2026-11-01").replace(minisign_key=secret)
        signed.append(factory.publish(config, ISSUES, FEEDBACK))
    signature = signed[0] / "manifest.json.minisig"
    assert signature.read_bytes() == (signed[1] / "manifest.json.minisig").read_bytes()
    subprocess.run([binary, "-V", "-p", str(public), "-m", str(signed[0] / "manifest.json")],
                   check=True, capture_output=True)
    (signed[0] / "manifest.json").write_bytes((signed[0] / "manifest.json").read_bytes() + b" ")
    tampered = subprocess.run([binary, "-V", "-p", str(public), "-m",
                               str(signed[0] / "manifest.json")], capture_output=True)
    assert tampered.returncode != 0


@pytest.mark.slow  # minisign's scrypt key stretching takes seconds per use
def test_signing_with_a_password_from_the_environment(tmp_path, monkeypatch):
    binary = _minisign()
    secret, public = _keypair(tmp_path, password="s3cret")
    config = factory.make_config(tmp_path, "2026-11-01")
    config = config.replace(minisign_key=secret, minisign_password_env="GONGSHI_TEST_MINISIGN")
    factory.write_inputs(config, ISSUES, FEEDBACK)
    with pytest.raises(SnapshotError, match="GONGSHI_TEST_MINISIGN is empty"):
        snapshot.run(config)
    monkeypatch.setenv("GONGSHI_TEST_MINISIGN", "wrong")
    with pytest.raises(SnapshotError, match="minisign could not sign"):
        snapshot.run(config)
    monkeypatch.setenv("GONGSHI_TEST_MINISIGN", "s3cret")
    staged = snapshot.run(config)
    subprocess.run([binary, "-V", "-p", str(public), "-m", str(staged / "manifest.json")],
                   check=True, capture_output=True)

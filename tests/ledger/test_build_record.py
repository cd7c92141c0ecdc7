"""The build record: the config as published (no secrets, no machine paths), read back whole."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from etl.config import Claim, Config, HttpOptions, Paths, Signing, Source
from etl.ledger import build_record


def _config(root: Path) -> Config:
    (root / "keys").mkdir()
    (root / "keys" / "minisign.pub").write_bytes(b"untrusted comment: k\r\nRWQ123\r\n")
    return Config(
        path=root / "gongshi.yml", title="清河县公示", region="清河县", language="en",
        as_of=dt.date(2026, 11, 20), satisfaction_threshold=75.0, stale_weeks=6,
        site_url="https://example.gov.cn/x/",
        sources=(Source(name="feed", kind="http",
                        url="https://user:pw@data.example.gov.cn/export.csv?year=2026&api_key=s3",
                        http=HttpOptions(headers={"Authorization": "Bearer s3cret"})),
                 Source(name="issues", path=root / "sources" / "问题.xlsx")),
        claims=(Claim(label="已整改", metric="issues.done", value=420, date=dt.date(2026, 10, 31),
                      source="报告"),),
        paths=Paths(work_dir=root / "build", site_dir=root / "site",
                    snapshots_dir=root / "snapshots"),
        signing=Signing(minisign_key=root / "keys" / "minisign.key", password_env="KEY_PW"))


def test_the_record_keeps_no_secret_and_no_machine_path(tmp_path):
    text = build_record.record_bytes(_config(tmp_path)).decode("utf-8")
    for secret in ("s3cret", "pw@", "api_key=s3", "KEY_PW", str(tmp_path)):
        assert secret not in text, secret
    record = json.loads(text)
    feed, issues = record["config"]["sources"]
    assert feed["http"]["headers"] == {"Authorization": build_record.REMOVED}
    assert feed["url"].startswith("https://data.example.gov.cn/export.csv?year=2026&api_key=")
    assert issues["path"] == "sources/问题.xlsx"  # relative to the config's folder
    assert "paths" not in record["config"]
    assert record["public_files"] == {"minisign.pub": "untrusted comment: k\r\nRWQ123\r\n"}
    assert record["gongshi"] and len(record["packages_sha256"]) == 64


def test_the_same_campaign_in_another_folder_records_the_same_bytes(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    assert build_record.record_bytes(_config(tmp_path / "a")) == \
        build_record.record_bytes(_config(tmp_path / "b"))


def test_a_config_comes_back_from_the_record(tmp_path):
    (tmp_path / "here").mkdir()
    original = _config(tmp_path / "here")
    record = json.loads(build_record.record_bytes(original, {"warnings": [{}, {}]}))
    assert record["validate_warnings"] == 2
    again = build_record.config_from(record, tmp_path / "there", snapshots_dir=tmp_path / "s")
    for name in ("title", "region", "language", "as_of", "satisfaction_threshold", "stale_weeks",
                 "site_url", "claims", "columns", "status_words", "publish"):
        assert getattr(again, name) == getattr(original, name), name
    assert again.snapshots_dir == tmp_path / "s"
    assert again.work_dir == tmp_path / "there" / "build"
    # Only the public half of the key came back, byte for byte, where render looks for it.
    assert (tmp_path / "there" / "keys" / "minisign.pub").read_bytes() == \
        b"untrusted comment: k\r\nRWQ123\r\n"
    assert not again.minisign_key.exists() and again.minisign_password_env == ""
    assert [s.name for s in again.sources] == ["feed", "issues"]
    assert dataclasses.is_dataclass(again.sources[0].http)


def test_packages_hash_is_over_sorted_name_version_lines():
    lines = build_record.installed_packages()
    assert lines == sorted(lines) and any(line.startswith("mkdocs==") for line in lines)
    assert build_record.packages_hash(["b==1", "a==2"]) != build_record.packages_hash(["a==2"])
    assert build_record.packages_hash() == build_record.packages_hash(lines)


def test_warning_count_reads_every_report_shape():
    assert build_record.warning_count(None) is None
    assert build_record.warning_count({"warnings": [1, 2, 3]}) == 3
    assert build_record.warning_count({"warnings": 4}) == 4
    assert build_record.warning_count({"problems": [{"level": "warning"}, {"level": "error"}]}) == 1

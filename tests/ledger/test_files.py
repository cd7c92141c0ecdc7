"""replace_folder: the new folder swaps in whole, and the last good one survives every failure."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from etl.errors import EtlError
from etl.ledger.files import replace_folder, stage_beside


def folder(path: Path, text: str) -> Path:
    path.mkdir(parents=True)
    (path / "index.html").write_text(text, encoding="utf-8")
    return path


def test_swaps_in_and_removes_the_old(tmp_path):
    target = folder(tmp_path / "site", "old")
    replace_folder(folder(tmp_path / "stage", "new"), target)
    assert (target / "index.html").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


def test_a_failed_final_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    target = folder(tmp_path / "site", "old")
    staged = folder(tmp_path / "stage", "new")
    real_rename = Path.rename

    def failing(self, destination):
        if self == staged:
            raise OSError(28, "No space left on device")
        return real_rename(self, destination)

    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(EtlError, match="the previous site is still in place"):
        replace_folder(staged, target)
    assert (target / "index.html").read_text() == "old"
    assert not (tmp_path / "site.old").exists()


def test_a_crash_between_the_renames_is_repaired_before_anything_is_deleted(tmp_path):
    old = folder(tmp_path / "site.old", "last good")  # the crash left no site, only site.old
    replace_folder(folder(tmp_path / "stage", "new"), tmp_path / "site")
    assert (tmp_path / "site" / "index.html").read_text() == "new"
    assert not old.exists()


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs /dev/shm")
def test_across_file_systems(tmp_path):
    shm = Path("/dev/shm") / f"gongshi-test-{os.getpid()}"
    if os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same file system here")
    try:
        target = folder(shm / "site", "old")
        replace_folder(folder(tmp_path / "stage", "new"), target)
        assert (target / "index.html").read_text() == "new"
        assert sorted(p.name for p in shm.iterdir()) == ["site"]
        assert not (tmp_path / "stage").exists()
    finally:
        shutil.rmtree(shm, ignore_errors=True)


def test_stage_beside_keeps_a_folder_already_on_the_target_file_system(tmp_path):
    staged = folder(tmp_path / "stage", "new")
    (tmp_path / "snapshots").mkdir()
    assert stage_beside(staged, tmp_path / "snapshots" / "x") == staged
    assert (staged / "index.html").read_text() == "new"


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="needs /dev/shm")
def test_stage_beside_copies_into_a_hidden_sibling_across_file_systems(tmp_path):
    if os.stat("/dev/shm").st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("/dev/shm is on the same file system here")
    shm = Path("/dev/shm") / f"gongshi-test-beside-{os.getpid()}"
    shm.mkdir()
    try:
        incoming = stage_beside(folder(tmp_path / "stage", "new"), shm / "2026-11-20-abc")
        assert incoming == shm / ".incoming-2026-11-20-abc"
        assert (incoming / "index.html").read_text() == "new"
        assert not (tmp_path / "stage").exists()
    finally:
        shutil.rmtree(shm, ignore_errors=True)

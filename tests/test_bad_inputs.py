"""Bad source files: each stops the publish with a clear error and leaves site and snapshots as they were.

The cases are listed in tests/cases/bad_inputs/cases.yml. One small campaign is published once
for the module; every case copies it, swaps in its bad file and publishes again through the
command line (a subprocess, as a user would) with a later --as-of, so a publish that wrongly
succeeded would show up as a new snapshot.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


from etl import pipeline
from etl.demo import synth
from etl.config import load_config
from campaigns import tree_digest  # tests/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = Path(__file__).resolve().parent / "cases" / "bad_inputs"
CASES = yaml.safe_load((CASES_DIR / "cases.yml").read_text(encoding="utf-8"))
AS_OF = dt.date(2026, 11, 20)
LATER = (AS_OF + dt.timedelta(days=1)).isoformat()
SOURCE_FILES = ("问题整改清单.xlsx", "意见建议台账.csv")
BIG_ROWS = 50_000
BAD_ROW = 25_001  # as Excel shows it: the header is row 1, so this is data row 25,000


# --- generators for the files too big to commit -------------------------------------------

def _feedback_50k(original: bytes, bad_row: int | None = None) -> bytes:
    """BIG_ROWS feedback rows in the export's own GBK layout: its rows cycled, with fresh ids."""
    header, *body = csv.reader(io.StringIO(original.decode("gbk"), newline=""))
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(header)
    for index in range(BIG_ROWS):
        row = list(body[index % len(body)])
        row[0] = f"YJ-2026-{index + 1:05d}"
        if index + 2 == bad_row:  # + 1 for the header, + 1 because Excel counts from 1
            row[1] = "2026年13月45日"
        writer.writerow(row)
    return output.getvalue().encode("gbk")


def _unexplained_number(original: bytes) -> bytes:
    """The campaign's own issue list with a number no redaction rule explains in one 问题描述."""
    import openpyxl
    book = openpyxl.load_workbook(io.BytesIO(original))
    sheet = book.active
    header_row = next(row for row in sheet.iter_rows() if any(c.value == "问题描述" for c in row))
    column = next(c.column for c in header_row if c.value == "问题描述")
    cell = sheet.cell(header_row[0].row + 1, column)
    cell.value = f"档案编号92345678的材料缺失，{cell.value}"
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


GENERATORS = {
    "feedback_50k": lambda original: _feedback_50k(original),
    "feedback_50k_bad_row": lambda original: _feedback_50k(original, bad_row=BAD_ROW),
    "unexplained_number": _unexplained_number,
}


# --- the campaign published once, and one run per case -----------------------------------

@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict:
    """A small synthetic campaign published once; its folder and the digests of what it published."""
    folder = tmp_path_factory.mktemp("published")
    synth.generate(folder / "sources", issues=60, feedback=150, as_of=AS_OF)
    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    (folder / "gongshi.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    pipeline.publish(load_config(folder / "gongshi.yml"), log=lambda *args: None)
    return {"folder": folder, "site": tree_digest(folder / "site"),
            "snapshots": tree_digest(folder / "snapshots"),
            "entries": sorted(p.name for p in folder.iterdir()),
            "snapshot_ids": sorted(p.name for p in (folder / "snapshots").iterdir())}


@pytest.fixture(scope="module")
def outcomes(published, tmp_path_factory):
    """Run a case's publish at most once for the module (both tests of a case share it)."""
    done: dict[str, dict] = {}

    def outcome(case: dict) -> dict:
        if case["name"] not in done:
            folder = tmp_path_factory.mktemp(case["name"]) / "campaign"
            shutil.copytree(published["folder"], folder, symlinks=True)
            target = folder / "sources" / case["replaces"]
            if "fixture" in case:
                shutil.copyfile(CASES_DIR / case["fixture"], target)
            else:
                target.write_bytes(GENERATORS[case["generator"]](target.read_bytes()))
            result = subprocess.run(
                [sys.executable, "-m", "etl", "publish", "--config", str(folder / "gongshi.yml"),
                 "--as-of", LATER],
                capture_output=True, text=True, encoding="utf-8", errors="backslashreplace",
                cwd=ROOT, timeout=300)
            done[case["name"]] = {"folder": folder, "returncode": result.returncode,
                                  "stdout": result.stdout, "stderr": result.stderr}
        return done[case["name"]]

    return outcome


def _params(cases: list[dict], check: str) -> list:
    params = []
    for case in cases:
        marks = []
        bug = case.get("bug")
        if bug and bug["checks"] in (check, "all"):
            marks.append(pytest.mark.xfail(strict=True, reason=" ".join(bug["reason"].split())))
        params.append(pytest.param(case, id=case["name"], marks=marks))
    return params


FAILING = [case for case in CASES if case["exit_code"] != 0]
SUCCEEDING = [case for case in CASES if case["exit_code"] == 0]


def test_cases_file_is_consistent():
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names))
    for case in CASES:
        assert case["replaces"] in SOURCE_FILES, case["name"]
        assert ("fixture" in case) != ("generator" in case), case["name"]
        if "fixture" in case:
            assert (CASES_DIR / case["fixture"]).is_file(), case["name"]
        else:
            assert case["generator"] in GENERATORS, case["name"]
        if case["exit_code"] != 0:
            assert case["expect"], case["name"]
        if "bug" in case:
            assert case["bug"]["checks"] in ("message", "all") and case["bug"]["reason"]
    committed = sum(p.stat().st_size for p in CASES_DIR.rglob("*") if p.is_file())
    assert committed < 200_000, "keep the committed corpus small; generate big files at test time"


def test_encoding_fixtures_really_fail_both_decoders():
    """The encoding cases only test something if neither decoder extract tries can read them."""
    for name in ("utf16le_no_bom.csv", "shift_jis.csv"):
        data = (CASES_DIR / name).read_bytes()
        for encoding in ("utf-8", "gb18030"):
            with pytest.raises(UnicodeDecodeError):
                data.decode(encoding)


@pytest.mark.parametrize("case", _params(FAILING, "refused"))
def test_bad_input_is_refused_and_nothing_changes(case, published, outcomes):
    result = outcomes(case)
    folder = result["folder"]
    assert result["returncode"] == case["exit_code"], result["stderr"] or result["stdout"][-2000:]
    assert result["stderr"].startswith("error: "), result["stderr"]
    assert "Traceback" not in result["stderr"], result["stderr"]
    assert tree_digest(folder / "site") == published["site"]
    assert tree_digest(folder / "snapshots") == published["snapshots"]
    # Nothing half-done beside them: no site.old, no staged or temporary folders.
    assert sorted(p.name for p in folder.iterdir()) == published["entries"]
    assert not [p.name for p in (folder / "build").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("case", _params(FAILING, "message"))
def test_bad_input_error_message(case, outcomes):
    result = outcomes(case)
    stderr = result["stderr"]
    assert stderr.startswith("error: "), stderr or "no error; stdout:\n" + result["stdout"][-2000:]
    missing = [text for text in case["expect"] if text not in stderr]
    assert not missing, f"missing {missing} in:\n{stderr}"
    present = [text for text in case.get("absent", []) if text in stderr]
    assert not present, f"should not say {present}:\n{stderr}"


@pytest.mark.parametrize("case", _params(SUCCEEDING, "refused"))
def test_large_valid_input_publishes(case, published, outcomes):
    result = outcomes(case)
    folder = result["folder"]
    assert result["returncode"] == 0, result["stderr"]
    assert result["stderr"] == ""
    snapshots = folder / "snapshots"
    new_ids = sorted({p.name for p in snapshots.iterdir()} - set(published["snapshot_ids"]))
    assert len(new_ids) == 1 and new_ids[0].startswith(LATER)
    manifest = json.loads((snapshots / new_ids[0] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["row_counts"]["feedback"] == BIG_ROWS
    assert manifest["previous"]["snapshot_id"] == published["snapshot_ids"][-1]
    # The earlier snapshot is untouched; the site was swapped whole.
    before = {path: digest for path, digest in tree_digest(snapshots).items()
              if not path.startswith(new_ids[0])}
    assert before == published["snapshots"]
    assert (folder / "site" / "data" / "snapshots" / new_ids[0] / "manifest.json").is_file()
    assert sorted(p.name for p in folder.iterdir()) == published["entries"]

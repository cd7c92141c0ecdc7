"""The closing summary: counts read from the work dir's files, in the config's language."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from etl.errors import ValidationFailed, Problem
from etl.ledger.manifests import canonical_json
from etl.site import words
from etl.staff import summary


def _work_dir(root: Path) -> Path:
    work = root / "build"
    for folder in ("validate", "tables", "transform", "snapshot/2026-11-20-new"):
        (work / folder).mkdir(parents=True)
    (work / "snapshot/2026-11-20-new/manifest.json").write_bytes(canonical_json(
        {"snapshot_id": "2026-11-20-new", "row_counts": {"issues": 12, "feedback": 30}}))
    (work / "validate/report.json").write_bytes(canonical_json(
        {"errors": [], "warnings": [{"code": "a"}, {"code": "b"}, {"code": "c"}]}))
    (work / "validate/annotated-issues.xlsx").write_bytes(b"xlsx")
    (work / "tables/report.json").write_bytes(canonical_json(
        {"redactions": {"mobile": 4, "name": 2}}))
    (work / "transform/redactions.csv").write_text("表\n", encoding="utf-8")
    changed = {"issue_id": "QH-3", "title": "路灯不亮", "old": "done", "new": "rework"}
    (work / "changes.json").write_bytes(canonical_json({
        "added": [{"issue_id": f"QH-{n}", "title": f"新问题{n}"} for n in range(20, 27)],
        "removed": [], "id_changes": [], "regressions": [changed], "status_changes": [changed],
        "deadline_extensions": [{"issue_id": "QH-5", "title": "t", "old": "2026-06-30",
                                 "new": "2026-12-31"}] * 2,
        "unit_changes": [], "feedback_added": ["F-1"], "feedback_removed": [],
        "figure_changes": [], "counts": {"issues_changed": 9, "feedback_changed": 1}}))
    (work / "changes.xlsx").write_bytes(b"xlsx")
    return work


@pytest.mark.parametrize("language", ["zh", "en"])
def test_summary_counts_and_paths(tmp_path, language):
    work = _work_dir(tmp_path)
    config = SimpleNamespace(work_dir=work, language=language, path=tmp_path / "gongshi.yml")
    result = summary.collect(config, command="preview",
                             snapshot_dir=work / "snapshot/2026-11-20-new",
                             live_snapshot="2026-10-20-old", site=work / "stage/site",
                             receipt=None, seconds=12.34, summary_path=work / "summary.json")
    assert result["issues"] == {"added": 7, "removed": 0, "changed": 9}
    assert result["feedback"] == {"added": 1, "removed": 0, "changed": 1}
    assert (result["regressions"], result["deadline_extensions"], result["warnings"]) == (1, 2, 3)
    assert result["redactions"] == {"mobile": 4, "name": 2}
    assert result["files"]["annotated_workbooks"] == [str(work / "validate/annotated-issues.xlsx")]
    assert result["files"]["redaction_review"] == str(work / "transform/redactions.csv")
    assert result["changes"]["added"]["total"] == 7
    assert len(result["changes"]["added"]["first"]) == summary.FIRST_ITEMS

    written = summary.write(result, work / "summary.json")
    assert json.loads(written.read_text(encoding="utf-8")) == result
    text = summary.render(result)
    own = words.section("staff_summary", language)
    assert own["heading_preview"].format(snapshot="2026-11-20-new", seconds=12.3) in text
    assert own["issues"].format(added=7, removed=0, changed=9) in text
    assert own["redaction_kinds"]["mobile"] in text and own["regressions"].format(count=1) in text
    assert words.words(language)["change_regressions"] in text
    assert "QH-3  路灯不亮  done → rework" in text
    for path in (work / "validate/report.json", work / "transform/redactions.csv",
                 work / "validate/annotated-issues.xlsx", work / "changes.xlsx"):
        assert str(path) in text
    assert "QH-25" not in text  # only the first items of each kind


def test_failed_publish_summary_keeps_the_exit_code(tmp_path):
    error = ValidationFailed([Problem("error", "missing", "required field unit is empty")])
    result = summary.failure(command="publish", config_path="x.yml", language="en", error=error)
    assert result["exit_code"] == error.exit_code and result["outcome"] == "failed"
    assert summary.render(result).startswith(
        words.section("staff_summary", "en")["heading_failed"].split("{")[0])

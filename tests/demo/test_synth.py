"""Synthetic campaign: byte-reproducible, shaped like real exports, valid for the pipeline, with history."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from etl import schema
from etl.privacy import redact
from etl.demo import synth
from etl.config import load_config

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 20)
HISTORY = [dt.date(2026, 8, 31), dt.date(2026, 9, 30), dt.date(2026, 10, 31)]
DONE_WORDS = {w for w, s in schema.DEFAULT_STATUS_WORDS.items() if s == "done"}
OPEN_WORDS = {w for w, s in schema.DEFAULT_STATUS_WORDS.items() if s in ("open", "in_progress")}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The default demo campaign (600 issues, 1300 opinions) with its three earlier exports."""
    root = tmp_path_factory.mktemp("demo")
    synth.generate(root / "sources", history=HISTORY, history_out=root / "history")
    return root


def read_issues(path: Path) -> tuple[openpyxl.worksheet.worksheet.Worksheet, list[dict]]:
    sheet = openpyxl.load_workbook(path).active
    headers = [cell.value for cell in sheet[3]]
    rows = [dict(zip(headers, values)) for values in sheet.iter_rows(min_row=4, values_only=True)]
    return sheet, rows


def read_feedback(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("gbk"), newline="")))


def as_date(value) -> dt.date | None:
    """The few shapes the generator types deadlines in (the pipeline's parser is tested elsewhere)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if not isinstance(value, str) or value == "长期坚持":
        return None
    year, month, day = map(int, re.split(r"[年月日./-]", value.rstrip("日"))[:3])
    return dt.date(year, month, day)


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    for name in ("a", "b"):
        synth.generate(tmp_path / name, issues=80, feedback=170, history=HISTORY[-1:],
                       history_out=tmp_path / f"{name}-history")
    synth.generate(tmp_path / "c", issues=80, feedback=170, seed=7)
    for file_name in (synth.ISSUES_FILE, synth.FEEDBACK_FILE):
        assert (tmp_path / "a" / file_name).read_bytes() == (tmp_path / "b" / file_name).read_bytes()
        assert _sha256(tmp_path / "a-history" / "2026-10-31" / file_name) == \
            _sha256(tmp_path / "b-history" / "2026-10-31" / file_name)
        assert _sha256(tmp_path / "a" / file_name) != _sha256(tmp_path / "c" / file_name)


def _workbook_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_committed_demo_is_what_the_generator_makes(demo):
    """site_data/ holds the output of `make demo`; a stale copy fails here.

    Workbooks are compared part by part, not as zip bytes: another zlib may compress the same
    parts differently, and that is not a stale demo.
    """
    for folder in ["sources"] + [f"history/{day.isoformat()}" for day in HISTORY]:
        committed, fresh = ROOT / "site_data" / folder, demo / folder
        assert _workbook_parts(committed / synth.ISSUES_FILE) == \
            _workbook_parts(fresh / synth.ISSUES_FILE), f"{folder}: run `make demo`"
        assert (committed / synth.FEEDBACK_FILE).read_bytes() == \
            (fresh / synth.FEEDBACK_FILE).read_bytes(), f"{folder}: run `make demo`"


def test_workbook_has_merged_title_then_headers_on_row_3(demo):
    path = demo / "sources" / synth.ISSUES_FILE
    sheet, rows = read_issues(path)
    merged = {str(cell_range) for cell_range in sheet.merged_cells.ranges}
    assert {"A1:T1", "A2:T2"} <= merged
    assert sheet["A1"].value == "清河县作风建设问题整改清单（截至2026年11月20日）"
    assert [cell.value for cell in sheet[3]] == synth.ISSUE_HEADERS
    assert all(header in schema.DEFAULT_COLUMNS["issues"] for header in synth.ISSUE_HEADERS)
    assert len(rows) == 600
    properties = openpyxl.load_workbook(path).properties
    assert properties.modified == properties.created == dt.datetime(2026, 11, 20, 17, 30)


def test_deadline_cells_mix_dates_text_and_long_term(demo):
    _, rows = read_issues(demo / "sources" / synth.ISSUES_FILE)
    deadlines = [row["整改时限"] for row in rows]
    kinds = {"date cell": sum(isinstance(v, dt.datetime) for v in deadlines),
             "年月日": sum(isinstance(v, str) and "年" in v for v in deadlines),
             "dotted": sum(isinstance(v, str) and re.fullmatch(r"\d{4}\.\d+\.\d+", v) is not None
                           for v in deadlines),
             "slashed": sum(isinstance(v, str) and re.fullmatch(r"\d{4}/\d+/\d+", v) is not None
                            for v in deadlines),
             "长期坚持": deadlines.count("长期坚持")}
    assert kinds["date cell"] > 0.7 * len(rows)
    assert all(count > 0 for count in kinds.values()), kinds
    assert sum(kinds.values()) == len(rows)  # nothing else: every deadline is valid


def test_feedback_csv_is_gbk_and_not_utf8(demo):
    data = (demo / "sources" / synth.FEEDBACK_FILE).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    header = data.decode("gbk").splitlines()[0].split(",")
    assert header == synth.FEEDBACK_HEADERS
    assert all(name in schema.DEFAULT_COLUMNS["feedback"] for name in header)


def test_counts_and_proportions_look_like_a_real_campaign(demo):
    _, issues = read_issues(demo / "sources" / synth.ISSUES_FILE)
    feedback = read_feedback(demo / "sources" / synth.FEEDBACK_FILE)
    ids = [row["问题编号"] for row in issues]
    assert len(set(ids)) == len(ids) == 600
    assert all(re.fullmatch(r"QH-2026-\d{4}", issue_id) for issue_id in ids)
    assert len({row["意见编号"] for row in feedback}) == len(feedback) == 1300
    assert set(row["来源渠道"] for row in feedback) == set(synth.CHANNELS)
    assert 35 <= len({row["责任单位"] for row in issues}) <= 50
    assert {row["整改进展"] for row in issues} <= set(schema.DEFAULT_STATUS_WORDS)
    assert {"已銷號", "序時推進"} & {row["整改进展"] for row in issues}

    reply_rate = sum(row["是否答复"] == "是" for row in feedback) / len(feedback)
    assert 0.72 <= reply_rate <= 0.88
    linked = [row["归入问题编号"] for row in feedback if row["归入问题编号"]]
    assert set(linked) == set(ids)  # every issue groups at least one opinion
    assert 0.02 * len(feedback) <= len(feedback) - len(linked) <= 0.25 * len(feedback)
    counts = {issue_id: linked.count(issue_id) for issue_id in set(linked)}
    assert all(row["意见条数"] == counts[row["问题编号"]] for row in issues)

    overdue = [row for row in issues if row["整改进展"] in OPEN_WORDS
               and as_date(row["整改时限"]) and as_date(row["整改时限"]) < AS_OF]
    long_term = [row for row in issues if row["整改时限"] == "长期坚持"]
    scores = [float(str(row["满意度"]).rstrip("分")) for row in issues if row["满意度"] is not None]
    rework = [row for row in issues if row["整改进展"] == "返工"]
    low_but_done = [row for row in issues if row["整改进展"] in DONE_WORDS
                    and row["满意度"] is not None and float(str(row["满意度"]).rstrip("分")) < 80]
    done = [row for row in issues if row["整改进展"] in DONE_WORDS]
    assert 0.02 * 600 <= len(overdue) <= 0.12 * 600
    assert 0.03 * 600 <= len(long_term) <= 0.12 * 600
    assert rework and low_but_done
    assert sum(score >= 80 for score in scores) >= 0.85 * len(scores)
    assert 0.55 * 600 <= len(done) <= 0.8 * 600
    assert all(row["完成时间"] is not None for row in done)


def test_free_text_carries_fictional_personal_data_the_redactor_finds(demo):
    feedback = read_feedback(demo / "sources" / synth.FEEDBACK_FILE)
    with_personal_data = [row["意见内容"] for row in feedback
                          if redact.find_personal_data(row["意见内容"])]
    assert 0.02 * len(feedback) <= len(with_personal_data) <= 0.12 * len(feedback)
    kinds = {match.kind for text in with_personal_data for match in redact.find_personal_data(text)}
    assert {"mobile", "id_card"} <= kinds
    assert any(row["联系方式"] for row in feedback) and any(row["反映人"] == "匿名" for row in feedback)


def test_fake_id_numbers_carry_a_valid_check_digit():
    import random

    rng = random.Random(1)
    for _ in range(50):
        number = synth.fake_id_number(rng)
        total = sum(int(d) * w for d, w in zip(number[:17], synth.ID_WEIGHTS))
        assert len(number) == 18 and number[17] == "10X98765432"[total % 11]
        assert [m.kind for m in redact.find_personal_data(f"身份证号{number}。")] == ["id_card"]


def test_history_keeps_every_id_and_some_deadlines_were_extended(demo):
    exports = [demo / "history" / day.isoformat() for day in HISTORY] + [demo / "sources"]
    tables = [{row["问题编号"]: row for row in read_issues(folder / synth.ISSUES_FILE)[1]}
              for folder in exports]
    for earlier, later in zip(tables, tables[1:]):
        assert set(earlier) < set(later)  # more identified, nothing disappears
        done_before = {i for i, row in earlier.items() if row["整改进展"] in DONE_WORDS}
        done_after = {i for i, row in later.items() if row["整改进展"] in DONE_WORDS | {"返工"}}
        assert done_before <= done_after and len(done_before) < len(done_after)
    first, current = tables[0], tables[-1]
    changed = {i: (as_date(row["整改时限"]), as_date(current[i]["整改时限"]))
               for i, row in first.items() if row["整改时限"] != current[i]["整改时限"]
               and as_date(row["整改时限"]) != as_date(current[i]["整改时限"])}
    assert 0.02 * len(first) <= len(changed) <= 0.1 * len(first)
    assert all(before < after for before, after in changed.values())
    feedback_ids = [{row["意见编号"] for row in read_feedback(folder / synth.FEEDBACK_FILE)}
                    for folder in exports]
    assert all(a < b for a, b in zip(feedback_ids, feedback_ids[1:]))


def test_history_date_after_as_of_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not before the as-of date"):
        synth.generate(tmp_path, issues=5, feedback=5, history=[dt.date(2026, 12, 31)])


@pytest.mark.parametrize("export", ["sources", *(f"history/{day}" for day in HISTORY)])
def test_every_export_passes_extract_and_validate_without_errors_or_warnings(demo, tmp_path, export):
    from etl import extract, validate

    config_path = tmp_path / "gongshi.yml"
    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["path"] = str(demo / export / Path(source["path"]).name)
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    as_of = dt.date.fromisoformat(export.split("/")[1]) if "/" in export else None
    config = load_config(config_path, as_of=as_of)
    extract.run(config)
    report = yaml.safe_load((validate.run(config) / "report.json").read_text(encoding="utf-8"))
    assert report["errors"] == [] and report["warnings"] == []
    assert report["rejected"] == 0
    if export == "sources":
        assert report["rows"] == {"issues": 600, "feedback": 1300}

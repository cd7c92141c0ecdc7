"""End to end (issue 11): a campaign whose complainant is named in the published text is
published; the name is nowhere in the built site or its search index, the staff review file
lists what was hidden and stays out of the site, and the publish prints counts per kind."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from pathlib import Path

import openpyxl
import pytest
import yaml


from etl import pipeline
from etl.config import load_config
from etl.demo import synth
from etl.privacy import review, scan

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 20)
COMPLAINANT = "欧阳静怡"  # in the complainant column of one opinion, and in published text
CUED = "张三"  # in no column: hidden because it follows 举报人
PHONE = "(212) 555-0143"


def _site_text(site: Path) -> str:
    """Every text file of the site as a reader or a program would read it."""
    parts = []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        if b"\x00" not in data[:8192]:
            parts.append(scan.reveal(data.decode("utf-8", errors="replace")))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    folder = tmp_path_factory.mktemp("privacy")
    sources = folder / "sources"
    synth.generate(sources, issues=40, feedback=80, as_of=AS_OF)
    book = openpyxl.load_workbook(sources / "问题整改清单.xlsx")
    sheet = book.active
    header = next(row for row in sheet.iter_rows() if any(c.value == "问题描述" for c in row))
    column = next(c.column for c in header if c.value == "问题描述")
    first = header[0].row + 1
    sheet.cell(first, column).value = (f"群众反映{COMPLAINANT}家门口道路破损，{COMPLAINANT}多次来电，"
                                       f"联系电话{PHONE}")
    sheet.cell(first + 1, column).value = f"举报人{CUED}…反映窗口推诿，王某某和李女士到场"
    book.save(sources / "问题整改清单.xlsx")
    rows = list(csv.reader(io.StringIO((sources / "意见建议台账.csv").read_bytes().decode("gbk"))))
    complainant = rows[0].index("反映人")
    text = rows[0].index("意见内容")
    rows[1][complainant] = COMPLAINANT
    rows[1][text] = f"我是{COMPLAINANT}，家门口道路破损"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    (sources / "意见建议台账.csv").write_bytes(buffer.getvalue().encode("gbk"))

    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
    data["publish"]["fields"]["feedback"].append("text")  # opinions published too
    (folder / "gongshi.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    log: list[str] = []
    config = load_config(folder / "gongshi.yml")
    pipeline.publish(config, log=lambda *args: log.append(" ".join(map(str, args))))
    return {"folder": folder, "config": config, "log": log}


def test_the_complainant_is_nowhere_in_the_site_or_its_search_index(published):
    site = published["folder"] / "site"
    text = _site_text(site)
    assert "道路破损" in text  # the descriptions themselves are published
    for secret in (COMPLAINANT, "静怡", CUED, "王某某", "李女士", "555-0143"):
        assert secret not in text, secret
    index = "\n".join(p.read_text(encoding="utf-8") for p in (site / "search").rglob("*.js"))
    assert index and COMPLAINANT not in index and "静怡" not in index
    assert "[姓名已隐去]" in text and "[电话已隐去]" in text


def test_the_review_file_lists_each_redaction_masked_and_is_not_published(published):
    work = published["folder"] / "build"
    path = work / review.REVIEW_FILE
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["表", "编号", "字段", "类型", "摘录（已遮盖）"]
    kinds = [(row[0], row[2], row[3]) for row in rows[1:]]
    assert kinds.count(("issues", "description", "name")) == 5  # 2 x complainant, 张三, 王某某, 李女士
    assert ("issues", "description", "nanp_phone") in kinds
    assert ("feedback", "text", "name") in kinds
    assert all(row[1] for row in rows[1:])  # every line names its row id
    assert "«欧***»" in raw.decode("utf-8-sig")
    for secret in (COMPLAINANT, CUED, "555-0143"):
        assert secret not in raw.decode("utf-8-sig")
    site = published["folder"] / "site"
    assert not [p for p in site.rglob("*") if p.name == "redactions.csv"]
    assert not list((published["folder"] / "snapshots").rglob("redactions.csv"))


def test_the_publish_prints_redactions_per_kind(published):
    [line] = [line for line in published["log"] if line.startswith("redacted")]
    assert "name 6" in line and "nanp_phone 1" in line and str(review.REVIEW_FILE) in line

"""The publication receipt: an A4 PDF and page carrying the head, byte-identical on rebuild,
whose printed QR code reads back as a known head for verify."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "cases" / "snapshots"))
import snapshot_factory as factory  # noqa: E402

from etl.ledger import anchors, receipt  # noqa: E402
from etl.ledger.manifests import manifest_hash  # noqa: E402
from etl.site import fonts  # noqa: E402

I = factory.issue


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (make system-deps)")
    return path


@pytest.fixture
def snapshots(tmp_path) -> list[Path]:
    folders = []
    for as_of, rows in (("2026-11-01", [I("1")]), ("2026-11-20", [I("1", "done"), I("2")])):
        config = factory.make_config(tmp_path, as_of).replace(region="清河县",
                                                                title="清河县巡察整改公示")
        folders.append(factory.publish(config, rows))
    return folders


def _config(tmp_path, language="zh"):
    return factory.make_config(tmp_path, "2026-11-20").replace(
        region="清河县", title="清河县巡察整改公示", language=language)


def test_the_pdf_is_a4_small_in_the_pinned_font_and_byte_identical_on_rebuild(tmp_path, snapshots):
    head = snapshots[-1]
    first = receipt.write(tmp_path / "one", head, _config(tmp_path))
    second = receipt.write(tmp_path / "two", head, _config(tmp_path))
    assert first.name == f"{head.name}.pdf"
    assert first.read_bytes() == second.read_bytes()
    assert len(first.read_bytes()) < 200_000
    info = subprocess.run([_tool("pdfinfo"), str(first)], capture_output=True, text=True,
                          check=True).stdout
    assert re.search(r"Pages:\s+1\n", info)
    assert "595.276 x 841.89 pts (A4)" in info
    assert re.search(r"CreationDate:\s+Fri Nov 20 12:00:00 2026 UTC", info)
    listed = subprocess.run([_tool("pdffonts"), str(first)], capture_output=True, text=True,
                            check=True).stdout.splitlines()[2:]
    family = fonts.FONT_FAMILY.replace(" ", "-")
    assert listed and all(family in line and " yes yes " in line for line in listed), listed


def test_the_pdf_prints_the_head_and_its_qr_code_reads_back_as_a_known_head(tmp_path, snapshots):
    head = snapshots[-1]
    pdf = receipt.write(tmp_path / "pages", head, _config(tmp_path))
    text = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    for expected in ("数据发布回执", "清河县", "2026年11月20日", head.name, manifest_hash(head),
                     snapshots[0].name):
        assert expected in text.replace(" ", "") or expected in text, expected
    png = tmp_path / "page"
    subprocess.run([_tool("pdftoppm"), "-r", "150", "-png", "-singlefile", str(pdf), str(png)],
                   check=True, capture_output=True)
    decoded = subprocess.run([_tool("zbarimg"), "-q", "--raw", str(png) + ".png"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert decoded == f"{head.name} {manifest_hash(head)}"
    known = anchors.parse_known_head(decoded)
    assert (known.snapshot_id, known.manifest_sha256) == (head.name, manifest_hash(head))


def test_the_page_names_the_head_and_links_the_pdf(tmp_path, snapshots):
    head = snapshots[-1]
    pages = tmp_path / "pages"
    receipt.write(pages, head, _config(tmp_path))
    html = (pages / receipt.PAGE).read_text(encoding="utf-8")
    assert f'data-snapshot-id="{head.name}"' in html
    assert f'data-manifest-sha256="{manifest_hash(head)}"' in html
    assert f'href="data/receipts/{head.name}.pdf"' in html
    assert "<svg" in html and "@font-face" not in html  # no web font on the site's own page
    english = receipt.html(receipt.fields(head, _config(tmp_path, "en")), "en")
    assert "Publication receipt" in english and "2026-11-20" in english
    chrome = english.replace("清河县巡察整改公示", "").replace("清河县", "")  # the config's own names
    assert not re.search(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]", chrome)


def test_verify_flags_a_receipt_page_for_another_snapshot(tmp_path, snapshots):
    site = factory.make_site(tmp_path, snapshots, {"index.html": "<p>x</p>"})
    ordered = [site / "data" / "snapshots" / folder.name for folder in snapshots]
    receipt.write(site, snapshots[0], _config(tmp_path))  # the older snapshot's receipt
    problems: list[str] = []
    receipt.check(site, ordered, problems)
    assert any(f"does not name the newest snapshot {snapshots[-1].name}" in p for p in problems)
    assert any(f"{snapshots[-1].name}.pdf: missing" in p for p in problems)
    receipt.write(site, snapshots[-1], _config(tmp_path))
    problems = []
    receipt.check(site, ordered, problems)
    assert problems == []


def test_the_pdf_is_kept_in_the_work_dir_for_staff(tmp_path, snapshots):
    site = tmp_path / "site"
    receipt.write(site, snapshots[-1], _config(tmp_path))
    kept = receipt.keep_for_staff(site, tmp_path / "build", snapshots[-1].name)
    assert kept == tmp_path / "build" / "receipts" / f"{snapshots[-1].name}.pdf"
    assert kept.read_bytes() == (site / "data" / "receipts" / kept.name).read_bytes()
    assert receipt.keep_for_staff(site, tmp_path / "build", "2026-01-01-0000000000000000") is None

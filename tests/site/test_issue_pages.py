"""Issue pages from one shell page, and the steps after MkDocs (etl/site/issue_pages, finish)."""

from __future__ import annotations

import datetime as dt
import gzip
import re

import brotli
import pytest

from etl.errors import BuildError
from etl.site import finish, issue_pages

SHELL_HTML = f"""<!doctype html><html><head>
<meta name="description" content="{issue_pages.DESCRIPTION_MARK}">
<title>{issue_pages.TITLE_MARK} - 公示</title>
<link rel="canonical" href="https://example.gov.cn/s/{issue_pages.SHELL_FOLDER}/index.html">
<link rel="stylesheet" href="../../assets/stylesheets/main.css">
</head><body><header><span>{issue_pages.TITLE_MARK}</span></header>
<h1 id="x">{issue_pages.TITLE_MARK}</h1>
{issue_pages.BODY_PARAGRAPH}
<footer>foot</footer></body></html>
"""


def _records():
    yield {"path": "issues/0a/QH-1.html", "title": "QH-1 路灯<不亮>", "description": "城关镇 & 路灯",
           "body": '<section id="issue-QH-1">one</section>'}
    yield {"path": "issues/ff/QH-2.html", "title": "QH-2 菜市场", "description": "二",
           "body": "<section>two</section>"}


@pytest.fixture
def shelled(tmp_path):
    docs, site = tmp_path / "docs", tmp_path / "site"
    assert issue_pages.write_records(docs, _records()) == 2
    assert (docs / "pages" / issue_pages.SHELL_PAGE).read_text(encoding="utf-8") == \
        issue_pages.SHELL_SOURCE
    shell = site / issue_pages.SHELL_FOLDER / "index.html"
    shell.parent.mkdir(parents=True)
    shell.write_text(SHELL_HTML, encoding="utf-8")
    return docs, site


def test_each_issue_page_is_the_shell_with_its_own_title_description_and_body(shelled):
    docs, site = shelled
    assert issue_pages.expand(docs, site) == ["issues/0a/QH-1.html", "issues/ff/QH-2.html"]
    page = (site / "issues/0a/QH-1.html").read_text(encoding="utf-8")
    assert "<title>QH-1 路灯&lt;不亮&gt; - 公示</title>" in page
    assert page.count("QH-1 路灯&lt;不亮&gt;") == 3  # tab, header and heading
    assert 'content="城关镇 &amp; 路灯"' in page
    assert 'href="https://example.gov.cn/s/issues/0a/QH-1.html"' in page  # its own canonical
    assert '<section id="issue-QH-1">one</section>' in page and "<footer>foot</footer>" in page
    assert 'href="../../assets/stylesheets/main.css"' in page  # same depth as the shell
    assert not any(mark in page for mark in (issue_pages.TITLE_MARK, issue_pages.BODY_MARK,
                                             issue_pages.DESCRIPTION_MARK))
    assert not (site / issue_pages.SHELL_FOLDER).exists()  # the shell itself is not shipped


def test_a_shell_without_its_body_marker_stops_the_build(shelled):
    docs, site = shelled
    (site / issue_pages.SHELL_FOLDER / "index.html").write_text("<p>changed theme</p>",
                                                                  encoding="utf-8")
    with pytest.raises(BuildError, match="exactly once"):
        issue_pages.expand(docs, site)


def test_description_is_one_line_and_short():
    text = issue_pages.description("一\n二  三" + "字" * 400)
    assert "\n" not in text and len(text) == issue_pages.DESCRIPTION_LENGTH and text.endswith("…")


def test_sitemap_splits_past_the_limit_and_robots_names_it(tmp_path, monkeypatch):
    for name in ("index.html", "a/b.html", "c.html", "404.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    monkeypatch.setattr(issue_pages, "SITEMAP_LIMIT", 2)
    issue_pages.sitemap(tmp_path, "https://e.cn/x", dt.date(2026, 11, 20))
    index = (tmp_path / "sitemap.xml").read_text(encoding="utf-8")
    assert "<sitemapindex" in index and "https://e.cn/x/sitemap-2.xml" in index
    listed = [url for part in ("sitemap-1.xml", "sitemap-2.xml")
              for url in re.findall(r"<loc>([^<]+)</loc>", (tmp_path / part).read_text())]
    assert listed == ["https://e.cn/x/a/b.html", "https://e.cn/x/c.html", "https://e.cn/x/index.html"]
    assert gzip.decompress((tmp_path / "sitemap.xml.gz").read_bytes()).decode() == index
    assert "Sitemap: https://e.cn/x/sitemap.xml" in (tmp_path / "robots.txt").read_text()


def test_unused_theme_files_are_removed(tmp_path):
    scripts = tmp_path / "assets" / "javascripts"
    (scripts / "lunr" / "min").mkdir(parents=True)
    (scripts / "lunr" / "min" / "lunr.ja.min.js").write_text("x" * 100)
    (scripts / "workers").mkdir()
    (scripts / "workers" / "search.js").write_text("x" * 10)
    (scripts / "bundle.min.js").write_text("code();\n//# sourceMappingURL=bundle.min.js.map\n")
    (scripts / "bundle.min.js.map").write_text("{}")
    assert finish.prune_theme(tmp_path) == 112
    assert sorted(p.name for p in scripts.iterdir()) == ["bundle.min.js"]
    assert "sourceMappingURL" not in (scripts / "bundle.min.js").read_text()


def test_precompressed_copies_decompress_to_the_file_and_repeat_exactly(tmp_path):
    page = tmp_path / "index.html"
    page.write_text("<p>整改</p>" * 200, encoding="utf-8")
    (tmp_path / "tiny.css").write_text("a{}")
    assert finish.precompress(tmp_path) == 1
    first = (tmp_path / "index.html.gz").read_bytes(), (tmp_path / "index.html.br").read_bytes()
    assert gzip.decompress(first[0]) == page.read_bytes() == brotli.decompress(first[1])
    assert not (tmp_path / "tiny.css.gz").exists()
    snapshot = tmp_path / "data" / "snapshots" / "2026-11-20-x" / "issues.json"
    snapshot.parent.mkdir(parents=True)
    snapshot.write_text("[]" * 400)
    finish.precompress(tmp_path)
    assert sorted(p.name for p in snapshot.parent.iterdir()) == ["issues.json"]
    for copy in tmp_path.glob("*.*.*"):
        copy.unlink()
    finish.precompress(tmp_path)
    assert ((tmp_path / "index.html.gz").read_bytes(),
            (tmp_path / "index.html.br").read_bytes()) == first

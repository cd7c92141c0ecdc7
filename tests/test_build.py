"""Build stage: strict MkDocs build, byte-identical rebuilds, links that resolve, no other origins."""

from __future__ import annotations

import hashlib
import html
import html.parser
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import markupsafe
import pytest

from etl import build, render
from etl.privacy import safepath
from etl.errors import BuildError
from test_render import NASTY, make_inputs


def _tree(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


class _Links(html.parser.HTMLParser):
    """Collects every (tag, attribute, value) that can make a browser load or follow a URL."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("href", "src") and value is not None:
                self.links.append((tag, name, value))


def _parse(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.fixture
def built(config):
    make_inputs(config, changes={"added": [{"issue_id": "QH-005"}],
                                 "removed": [{"issue_id": "QH-999", "title": NASTY}]})
    render.run(config)
    return config, build.run(config)


def test_build_is_strict_and_complete(built):
    config, site = built
    assert site == config.work_dir / "stage" / "site"
    for relative in ("index.html", "units/index.html", "overdue/index.html", "data/index.html",
                     "data/latest.json", "charts/funnel.svg", "assets/gongshi.css",
                     f"issues/{safepath.bucket('QH-001')}/index.html"):
        assert (site / relative).is_file(), relative


def test_snapshot_files_are_copied_byte_for_byte(built):
    config, site = built
    for source in (config.snapshots_dir / "2026-10-01-bbbbbbbb").iterdir():
        copied = site / "data" / "snapshots" / "2026-10-01-bbbbbbbb" / source.name
        assert copied.read_bytes() == source.read_bytes()


def test_two_builds_are_byte_identical(built):
    config, site = built
    first = _tree(site)
    kept = config.work_dir / "first-site"
    shutil.copytree(site, kept)
    render.run(config)
    build.run(config)
    assert _tree(site) == first
    # Without site_url a sitemap could list no address (MkDocs' lists none), so none ships.
    assert "sitemap.xml" not in first and "robots.txt" not in first


def test_nasty_source_text_is_inert_in_html(built):
    config, site = built
    page = site / "issues" / safepath.bucket("QH-003") / "index.html"
    text = page.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in text
    assert "{{ 7*7 }}" in text or "&#123;&#123; 7&#42;7 &#125;&#125;" in text
    for html_page in site.rglob("*.html"):
        assert "<script>alert" not in html_page.read_text(encoding="utf-8"), html_page


def test_every_internal_link_resolves_and_nothing_loads_from_elsewhere(built):
    config, site = built
    ids_by_page: dict[Path, set[str]] = {}
    pending: list[tuple[Path, str, str, str]] = []
    for page in site.rglob("*.html"):
        parsed = _parse(page)
        ids_by_page[page] = parsed.ids
        for tag, attribute, value in parsed.links:
            pending.append((page, tag, attribute, value))
    for page, tag, attribute, value in pending:
        parts = urlsplit(value)
        if page == site / "404.html" and value.startswith("/"):
            # A server shows 404.html at any depth, so MkDocs links it from the root; it is the
            # one page that cannot be relative, and nothing links to it.
            continue
        if parts.scheme or value.startswith("//"):
            # Other origins only as plain links a reader chooses to follow, never loaded.
            assert tag == "a" and parts.scheme in ("http", "https", "mailto"), (page, tag, value)
            continue
        assert not value.startswith("/"), f"absolute path breaks sub-path and file:// {page}: {value}"
        if not parts.path:
            if parts.fragment:
                assert parts.fragment in ids_by_page[page], (page, value)
            continue
        target = (page.parent / unquote(parts.path)).resolve()
        assert target.is_file(), f"{page.relative_to(site)}: {value} does not resolve (file://)"
        if parts.fragment and target.suffix == ".html":
            assert unquote(parts.fragment) in ids_by_page[target], (page, value)


def test_no_script_or_style_from_other_origins(built):
    config, site = built
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(https?:)?//", text), page
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text


def test_build_without_render_says_what_to_do(config):
    with pytest.raises(BuildError, match="run the render stage first"):
        build.run(config)


def test_broken_page_fails_the_strict_build(built):
    config, site = built
    broken = config.work_dir / "docs" / "pages" / "broken.md"
    broken.write_text("[nowhere](missing.md)\n", encoding="utf-8")
    with pytest.raises(BuildError, match="missing.md"):
        build.run(config)


def test_404_page_loads_nothing_so_it_works_under_any_sub_path(built):
    _, site = built
    page = _parse(site / "404.html")
    loads = [(tag, value) for tag, name, value in page.links if tag in ("link", "script", "img")]
    assert loads == [], loads  # its style is inline: nothing to fetch from the wrong folder
    text = (site / "404.html").read_text(encoding="utf-8")
    assert "assets/gongshi.css" in text and "fetch(" in text  # the script finds the site root
    assert '<meta name="description"' in text


def test_site_url_gives_a_sitemap_of_every_page_and_robots(config):
    make_inputs(config)
    config = config.replace(site_url="https://example.gov.cn/gongshi/2026/")
    render.run(config)
    site = build.run(config)
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    listed = set(re.findall(r"<loc>([^<]+)</loc>", sitemap))
    pages = {"https://example.gov.cn/gongshi/2026/" + p.relative_to(site).as_posix()
             for p in site.rglob("*.html") if p.name != "404.html"}
    assert listed == pages and len(pages) > 10
    assert any("/issues/" in url and not url.endswith("index.html") for url in listed)
    robots = (site / "robots.txt").read_text(encoding="utf-8")
    assert "Sitemap: https://example.gov.cn/gongshi/2026/sitemap.xml" in robots
    assert 'href="https://example.gov.cn/gongshi/2026/index.html"' in (site / "404.html").read_text(
        encoding="utf-8")
    # Ordinary pages keep relative links, so the same site still opens from file://.
    assert all(not value.startswith("/gongshi/") for _, _, value in _parse(site / "index.html").links)


HOSTILE_UNIT = '</title><script>alert("unit")</script>局'
HOSTILE_TITLE = '<b>整改</b></title><script>alert("title")</script>公示 & 通报'


class _Head(html.parser.HTMLParser):
    """The <title> text, the header's site name and every inline script of a page, as parsed."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.scripts: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._in.append(tag)
        if tag == "script":
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag in self._in:
            del self._in[len(self._in) - 1 - self._in[::-1].index(tag):]

    def handle_data(self, data):
        if self._in and self._in[-1] == "title":
            self.title += data
        if self._in and self._in[-1] == "script":
            self.scripts[-1] += data


def _head(page: Path) -> _Head:
    parser = _Head()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_hostile_group_name_and_site_title_stay_text_in_the_page_head(write_config):
    from etl.config import load_config
    from test_render import ISSUES

    config = load_config(write_config(title=HOSTILE_TITLE))
    issues = [dict(issue, unit=HOSTILE_UNIT) if issue["issue_id"] == "QH-001" else issue
              for issue in ISSUES]
    make_inputs(config, issues=issues)
    render.run(config)
    site = build.run(config)
    unit_page = site / "units" / safepath.slug("unit", HOSTILE_UNIT) / "index.html"
    head = _head(unit_page)
    assert head.title == f"{HOSTILE_UNIT} - {HOSTILE_TITLE}"
    assert _head(site / "index.html").title == HOSTILE_TITLE
    for page in site.rglob("*.html"):
        scripts = _head(page).scripts
        assert not [s for s in scripts if "alert(" in s], page
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<b>整改" not in text, page
    # The header shows both literally: the site name and the page's own title.
    unit_html = unit_page.read_text(encoding="utf-8")
    assert str(markupsafe.escape(HOSTILE_TITLE)) in unit_html


def test_theme_overrides_are_in_the_built_config(built):
    config, _ = built
    import yaml
    mkdocs = yaml.safe_load((config.work_dir / "docs" / "mkdocs.yml").read_text(encoding="utf-8"))
    theme_dir = Path(mkdocs["theme"]["custom_dir"])
    assert theme_dir.is_absolute() and theme_dir == render.TEMPLATES / "theme"
    assert "page.title | striptags | e" in (theme_dir / "main.html").read_text(encoding="utf-8")

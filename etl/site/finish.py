"""After MkDocs: issue pages from their shell, the 404 page, sitemap and robots.txt, theme files
the site never loads removed, and optional precompressed copies for static hosts.

The build stage calls `run` on the freshly built site; every step is deterministic, so `verify`
rebuilds the same bytes.
"""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

from etl.site import issue_pages

# mkdocs-material ships its lunr search (and languages), the search worker and source maps;
# Gongshi has its own search (assets/search.js), so none of it is ever requested.
UNUSED_THEME = ("assets/javascripts/lunr", "assets/javascripts/workers")
SOURCE_MAP_COMMENT = re.compile(rb"\n?(?://# sourceMappingURL=[^\n]*|/\*# sourceMappingURL=[^\n]*?\*/)\s*$")
# Text files a host may serve precompressed; small ones gain nothing.
COMPRESSIBLE = {".html", ".css", ".js", ".svg", ".json", ".xml", ".txt", ".csv", ".md"}
COMPRESS_MINIMUM = 512
SNAPSHOTS = "data/snapshots/"
BROTLI_QUALITY = 9  # 11 is a few percent smaller and ten times slower at 100,000 pages


def prune_theme(site: Path) -> int:
    """Remove the theme files no page loads; returns the bytes removed."""
    removed = 0
    for relative in UNUSED_THEME:
        folder = site / relative
        if folder.is_dir():
            removed += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            shutil.rmtree(folder)
    for folder in ("assets/javascripts", "assets/stylesheets"):
        for path in sorted((site / folder).glob("*")):
            if path.suffix == ".map":
                removed += path.stat().st_size
                path.unlink()
            elif path.suffix in (".js", ".css"):
                data = path.read_bytes()
                stripped = SOURCE_MAP_COMMENT.sub(b"\n", data)
                if stripped != data:
                    path.write_bytes(stripped)
    return removed


def not_found_page(docs: Path, site: Path) -> None:
    """The render stage's self-contained 404.html in place of MkDocs' root-relative one."""
    page = docs / "404.html"
    if page.is_file():
        shutil.copyfile(page, site / "404.html")


def sitemap(site: Path, site_url: str, as_of) -> None:
    """With site_url: a sitemap of every page and robots.txt. Without: MkDocs' sitemap lists
    no addresses at all (it needs absolute ones), so it is not shipped."""
    if site_url:
        issue_pages.sitemap(site, site_url, as_of)
        return
    for name in ("sitemap.xml", "sitemap.xml.gz"):
        (site / name).unlink(missing_ok=True)


def precompress(site: Path) -> int:
    """A .gz and a .br beside every text file worth it (nginx gzip_static / brotli_static,
    Caddy `file_server { precompressed br gzip }`); returns the number of files compressed."""
    import brotli

    count = 0
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path.suffix not in COMPRESSIBLE:
            continue
        if path.relative_to(site).as_posix().startswith(SNAPSHOTS):
            continue  # a snapshot folder holds what its manifest lists, nothing more
        data = path.read_bytes()
        if len(data) < COMPRESS_MINIMUM:
            continue
        # mtime=0 and no file name: the same input gives the same bytes, which verify compares.
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, 9, mtime=0))
        path.with_name(path.name + ".br").write_bytes(brotli.compress(data, quality=BROTLI_QUALITY))
        count += 1
    return count


def run(config, docs: Path, site: Path) -> dict:
    """Every step after MkDocs, in order; returns counts for the log."""
    written = issue_pages.expand(docs, site)
    not_found_page(docs, site)
    removed = prune_theme(site)
    sitemap(site, config.site_url, config.as_of)
    compressed = precompress(site) if config.precompress else 0
    return {"issue_pages": len(written), "theme_bytes_removed": removed, "compressed": compressed}

"""One page per issue, written from a shell page MkDocs renders once, not one MkDocs page each.

MkDocs costs about a millisecond and a half per page in Markdown, theme and link checks; at
100,000 issues that alone would be minutes. So the render stage writes every issue's body as
HTML (templates/issue.html.j2) into one file, work_dir/docs/issue_pages.jsonl, plus a single
shell page (issues/_shell/index.md) holding three marker words where the title, the meta
description and the body go. After MkDocs has built the site, `expand` (called by the build
stage) cuts the shell's HTML at the markers and writes issues/<bucket>/<id>.html for each record:
the theme's header, nav and footer are the shell's, the shell sits at the same depth as every
issue page so its relative links hold, and the shell itself is removed. The cost per issue is a
template render and a file write, which keeps the site linear in the number of issues.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from markupsafe import escape

from etl.errors import BuildError

RECORDS = "issue_pages.jsonl"
SHELL_FOLDER = "issues/_shell"
SHELL_PAGE = f"{SHELL_FOLDER}/index.md"
# Plain ASCII words: Markdown, the theme and HTML escaping leave them exactly as they are.
TITLE_MARK = "GongshiShellTitle"
DESCRIPTION_MARK = "GongshiShellDescription"
BODY_MARK = "GongshiShellBody"
BODY_PARAGRAPH = f"<p>{BODY_MARK}</p>"
SHELL_SOURCE = f"""---
description: {DESCRIPTION_MARK}
---

# {TITLE_MARK}

{BODY_MARK}
"""
DESCRIPTION_LENGTH = 150
SITEMAP_LIMIT = 50_000
SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


def write_records(docs: Path, records) -> int:
    """The shell page under docs/pages and one JSON line per issue page; returns the count.

    `records` yields {"path", "title", "description", "body"}: the page's site-relative path,
    its title and description as plain text, and its body as HTML.
    """
    shell = docs / "pages" / SHELL_PAGE
    shell.parent.mkdir(parents=True, exist_ok=True)
    shell.write_text(SHELL_SOURCE, encoding="utf-8")
    count = 0
    with (docs / RECORDS).open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def description(text: str) -> str:
    """A meta description: the text on one line, cut to DESCRIPTION_LENGTH characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= DESCRIPTION_LENGTH else flat[: DESCRIPTION_LENGTH - 1] + "…"


def _split_shell(html: str, shell: Path) -> tuple[str, str]:
    if html.count(BODY_PARAGRAPH) != 1:
        raise BuildError(f"{shell}: the issue page shell must hold {BODY_PARAGRAPH} exactly once",
                         hint="the theme override or the shell page changed; restore "
                              "etl/site/issue_pages.SHELL_SOURCE")
    head, tail = html.split(BODY_PARAGRAPH)
    return _compact(head), _compact(tail)


def _compact(html: str) -> str:
    """The theme's markup without its indentation and blank lines: a third of each issue page,
    written (and scanned, and served) once per issue. The theme has no <pre> or <textarea>
    around the body, where white space would be content."""
    return "\n".join(line.strip() for line in html.split("\n") if line.strip()) + "\n"


def expand(docs: Path, site: Path) -> list[str]:
    """Write every issue page into the built site from its shell; return their paths.

    The shell's own address (in the canonical link, when site_url is set) becomes the page's.
    """
    records_file = docs / RECORDS
    shell = site / SHELL_FOLDER / "index.html"
    if not records_file.is_file():
        return []
    if not shell.is_file():
        raise BuildError(f"{shell} is missing: MkDocs did not build the issue page shell",
                         hint=f"run the render stage again; it writes {SHELL_PAGE}")
    head, tail = _split_shell(shell.read_text(encoding="utf-8"), shell)
    shell_address = f"{SHELL_FOLDER}/index.html"
    written = []
    made_folders: set[Path] = set()
    with records_file.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            path = record["path"]
            title = str(escape(record["title"]))
            page_head = (head.replace(TITLE_MARK, title)
                         .replace(DESCRIPTION_MARK, str(escape(record["description"])))
                         .replace(shell_address, path))
            target = site / path
            if target.parent not in made_folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                made_folders.add(target.parent)
            target.write_text(page_head + record["body"] + tail, encoding="utf-8")
            written.append(path)
    for leftover in sorted((site / SHELL_FOLDER).iterdir()):
        leftover.unlink()
    (site / SHELL_FOLDER).rmdir()
    return written


def sitemap(site: Path, site_url: str, as_of: dt.date) -> None:
    """sitemap.xml (and its .gz) listing every page of the built site, issue pages included.

    MkDocs' own lists only its pages, and none at all without site_url; this one is written
    only with site_url, since a sitemap needs absolute addresses.
    """
    base = site_url.rstrip("/") + "/"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if p.name != "404.html")
    day = as_of.isoformat()
    for stale in site.glob("sitemap*.xml*"):
        stale.unlink()
    # A sitemap file may list at most 50,000 addresses; more go into parts under an index.
    parts = [pages[start:start + SITEMAP_LIMIT] for start in range(0, len(pages), SITEMAP_LIMIT)]
    names = ["sitemap.xml"] if len(parts) <= 1 else [f"sitemap-{n + 1}.xml"
                                                    for n in range(len(parts))]
    for name, part in zip(names, parts or [[]]):
        entries = "".join(f"<url><loc>{xml_escape(base + page)}</loc><lastmod>{day}</lastmod>"
                          "</url>\n" for page in part)
        _write_xml(site / name, f'<urlset xmlns="{SITEMAP_NAMESPACE}">\n{entries}</urlset>\n')
    if len(parts) > 1:
        entries = "".join(f"<sitemap><loc>{xml_escape(base + name)}</loc></sitemap>\n"
                          for name in names)
        _write_xml(site / "sitemap.xml",
                   f'<sitemapindex xmlns="{SITEMAP_NAMESPACE}">\n{entries}</sitemapindex>\n')
    (site / "robots.txt").write_text(f"User-agent: *\nAllow: /\nSitemap: {base}sitemap.xml\n",
                                     encoding="utf-8")


def _write_xml(path: Path, body: str) -> None:
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + body
    path.write_text(text, encoding="utf-8")
    path.with_name(path.name + ".gz").write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))

"""Atom 1.0 feeds of what each publish changed: one for the site, one per unit and per area.

Each publish is an entry, made from the snapshot chain and etl/ledger/diff.compare, so a rebuild
from the snapshots alone writes the same bytes. Ids are tag: URIs (RFC 4151) built from the
site's host and the first snapshot's date, which never change once published; links are
absolute when site_url is set and relative to the feed otherwise.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape, quoteattr

from etl.ledger import diff, manifests, tables
from etl.privacy.safepath import slug
from etl.site import figures, pages, words

FEED_DIR = "feeds"
SITE_FEED = "index.xml"
KINDS = {"unit": "units", "area": "areas"}
SECTIONS = ("added", "removed", "status_changes", "regressions", "deadline_extensions")
SHOWN = 20  # items listed per section of an entry; the rest are counted
NO_HOST = "gongshi.invalid"  # a tag authority for a site without site_url (RFC 2606 name)


def _members(folder: Path) -> dict[str, dict]:
    """Issue id -> its unit and area slugs in one snapshot."""
    frame = tables.read_table(folder / "issues.csv", "issues")
    result = {}
    for row in frame.to_dict("records"):
        result[str(row["issue_id"])] = {
            kind: slug(kind, row.get(kind) if isinstance(row.get(kind), str) and row.get(kind)
                       else figures.MISSING_GROUP)
            for kind in KINDS if kind in frame.columns}
    return result


def publishes(folders: list[Path]) -> list[dict]:
    """One record per snapshot, oldest first: its id, date, and changes since the one before
    (None for the first), with each changed item's unit and area slugs."""
    records, previous = [], None
    for folder in folders:
        manifest = manifests.read_manifest(folder)
        members = _members(folder)
        record = {"snapshot_id": manifest["snapshot_id"], "as_of": str(manifest["as_of"]),
                  "total": len(members), "changes": None}
        if previous is not None:
            result = diff.compare(previous[0], folder)
            changes = {}
            for section in SECTIONS:
                changes[section] = [
                    {"issue_id": item["issue_id"], "title": item.get("title") or "",
                     "old": item.get("old"), "new": item.get("new"),
                     "groups": (members.get(item["issue_id"])
                                or previous[1].get(item["issue_id"]) or {})}
                    for item in result.get(section, [])]
            record["changes"] = changes
        records.append(record)
        previous = (folder, members)
    return records


def _line(section: str, item: dict, language: str) -> str:
    statuses = words.status_labels(language)
    text = f"{item['issue_id']} {item['title']}".strip()
    if section in ("status_changes", "regressions"):
        return f"{text}: {statuses.get(item['old'], item['old'])} → " \
               f"{statuses.get(item['new'], item['new'])}"
    if section == "deadline_extensions":
        return f"{text}: {item['old'] or ''} → {item['new'] or ''}"
    return text


def _content(changes: dict | None, total: int, language: str) -> str:
    feed_words = words.section("feed", language)
    if changes is None:
        return feed_words["first_publish"].format(count=total)
    sections = words.section("workbook", language)
    lines = []
    for section in SECTIONS:
        items = changes[section]
        if not items:
            continue
        lines.append(f"{sections[section]} ({len(items)})")
        lines += [f"- {_line(section, item, language)}" for item in items[:SHOWN]]
        if len(items) > SHOWN:
            lines.append(feed_words["more"].format(count=len(items) - SHOWN))
    return "\n".join(lines) if lines else feed_words["no_changes"]


def _tag(config, records: list[dict], path: str) -> str:
    host = urlsplit(config.site_url).hostname if config.site_url else None
    start = records[0]["as_of"][:10] if records else "2000-01-01"
    return f"tag:{host or NO_HOST},{start}:{path}"


def _href(config, site_path: str, depth: int) -> str:
    """A site path as the feed links it: absolute with site_url, else relative to the feed."""
    if config.site_url:
        return config.site_url.rstrip("/") + "/" + site_path
    return "../" * depth + site_path


def _stamp(as_of: str) -> str:
    return f"{as_of[:10]}T00:00:00Z"


def feed_xml(config, records: list[dict], *, title: str, feed_path: str, page_path: str,
             key: str, group: tuple[str, str] | None = None) -> str:
    """One feed as Atom 1.0 text. `group` (kind, slug) keeps only that group's changes, and
    only publishes that changed something of it; the first publish is in every feed."""
    language = config.language
    depth = feed_path.count("/")
    entries = []
    for record in reversed(records):  # newest first, as readers expect
        changes = record["changes"]
        if group is not None and changes is not None:
            kind, group_slug = group
            changes = {section: [item for item in items
                                 if item["groups"].get(kind) == group_slug]
                       for section, items in changes.items()}
            if not any(changes.values()):
                continue
        entry_title = words.section("feed", language)["entry_title"].format(as_of=record["as_of"])
        entry_id = _tag(config, records, key + "/" + record["snapshot_id"])
        entries.append(
            "  <entry>\n"
            f"    <id>{escape(entry_id)}</id>\n"
            f"    <title>{escape(entry_title)}</title>\n"
            f"    <updated>{_stamp(record['as_of'])}</updated>\n"
            f"    <link rel=\"alternate\" href={quoteattr(_href(config, page_path, depth))}/>\n"
            f"    <content type=\"text\">{escape(_content(changes, record['total'], language))}"
            "</content>\n"
            "  </entry>\n")
    updated = _stamp(records[-1]["as_of"]) if records else _stamp("2000-01-01")
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
            f"<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{language}\">\n"
            f"  <id>{escape(_tag(config, records, key))}</id>\n"
            f"  <title>{escape(title)}</title>\n"
            f"  <updated>{updated}</updated>\n"
            f"  <author><name>{escape(config.title)}</name></author>\n"
            f"  <link rel=\"self\" href={quoteattr(_href(config, feed_path, depth))}/>\n"
            f"  <link rel=\"alternate\" href={quoteattr(_href(config, page_path, depth))}/>\n"
            + "".join(entries) + "</feed>\n")


def write(config, folders: list[Path], groups: dict, pages_dir: Path) -> list[str]:
    """The site feed and one per unit and area under pages_dir/feeds/; returns their paths."""
    records = publishes(folders)
    feed_words = words.section("feed", config.language)
    written = [(f"{FEED_DIR}/{SITE_FEED}", "changes/", "site",
                feed_words["site_title"].format(title=config.title), None)]
    for kind, folder in KINDS.items():
        for entry in groups.get(kind, []):
            written.append((f"{FEED_DIR}/{folder}/{entry['slug']}.xml",
                            f"{folder}/{entry['slug']}/", f"{kind}/{entry['slug']}",
                            feed_words["group_title"].format(title=config.title,
                                                             name=entry["name"]),
                            (kind, entry["slug"])))
    for feed_path, page_path, key, title, group in written:
        target = pages_dir / feed_path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(feed_xml(config, records, title=title, feed_path=feed_path,
                                   page_path=page_path, key=key, group=group), encoding="utf-8")
    return [feed_path for feed_path, *_ in written]


def link_line(text: dict, href: str) -> str:
    """The Markdown line a page ends with: a link to its feed."""
    return f"\n[{text['feed_link']}]({href})\n"


def write_site(site) -> None:
    """The page writer (writers.PAGES): every feed, the site's linked from the changes page and
    each unit's and area's from its page. Runs after those pages are written."""
    written = write(site.config, pages.snapshot_folders(site.config), site.metrics["groups"],
                    site.pages_dir)
    for feed_path in written:
        kind_dir, _, name = feed_path.removeprefix(FEED_DIR + "/").rpartition("/")
        page = site.pages_dir / (f"{kind_dir}/{name.removesuffix('.xml')}" if kind_dir
                                 else "changes") / "index.md"
        if page.is_file():
            href = "../" * (page.relative_to(site.pages_dir).as_posix().count("/")) + feed_path
            with page.open("a", encoding="utf-8") as handle:
                handle.write(link_line(site.text, href))

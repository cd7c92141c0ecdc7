"""The page writers: what each page of the site shows, and the registry of pages (PAGES).

`etl/render.py` (the stage) builds one `Site` and calls every writer in `PAGES` order; the
nav follows the same order. A new page is one entry in PAGES, plus its writer and template.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jinja2

from etl.ledger import build_record, diff_page, manifests, receipt, removals, timeline, timestamps
from etl import schema
from etl.privacy import safepath
from etl.site import (accountability, charts, downloads, feeds, figures, group_charts, issue_pages,
                      pages, words)
from etl.staff import progress


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def chart_block(name: str, title: str, alt: str, svg: str, headings: list[str], rows: list,
                out: Path, src: str) -> dict:
    (out / f"{name}.svg").write_text(svg, encoding="utf-8")
    return {"title": title, "alt": alt, "src": src + f"{name}.svg", "headings": headings,
            "rows": rows, "more": None}


def home_charts(metrics: dict, text: dict, out: Path, language: str = "zh") -> list[dict]:
    """Funnel, burn-up and status by unit, each with the numbers it plots as a table."""
    labels = words.status_labels(language)
    chart_words = charts.chart_text(language)
    known = metrics["figures"]
    blocks = []
    funnel_keys = {"opinions": "feedback.total", "issues": "issues.total",
                   "rectified": "issues.rectified", "closed_not_fixed": "issues.closed_not_fixed"}
    stages = metrics["funnel"]
    if stages:
        labelled = []
        for stage in stages:
            key = funnel_keys.get(stage["stage"])
            labelled.append({"label": figures.label(key, language) if key else stage["stage"],
                             "value": stage["value"], "key": key})
        svg, _ = charts.funnel(labelled, chart_words)
        rows = [[s["label"], {"key": s["key"]} if s["key"] in known else str(s["value"])]
                for s in labelled]
        blocks.append(chart_block("funnel", text["funnel"], text["funnel_alt"], svg,
                                  [text["funnel"], chart_words["count"]], rows, out, "charts/"))
    burnup = metrics["series"]["burnup"]
    if burnup:
        svg, points = charts.burnup(burnup, chart_words)
        rows = [[p["date"], str(p["identified"]), str(p["done"])] for p in points]
        blocks.append(chart_block("burnup", text["burnup"], text["burnup_alt"], svg,
                                  [chart_words["date"], chart_words["identified"], chart_words["done"]],
                                  rows, out, "charts/"))
    units = metrics["groups"]["unit"]
    if units:
        svg, plotted = charts.status_by_unit(
            [{"name": u["name"], "slug": u["slug"], **u["figures"]} for u in units], labels,
            text=chart_words)
        # Each row is a unit's own figures, found by its slug (a name may be anything, 其他 too).
        rows = [[row["name"]] + [_figure_cell(known, f"unit.{row['slug']}.{status}", row[status])
                                 for status in charts.STATUS_ORDER] for row in plotted]
        block = chart_block("status_by_unit", text["by_unit"], text["by_unit_alt"], svg,
                            [text["unit"]] + [labels[s] for s in charts.STATUS_ORDER],
                            rows, out, "charts/")
        if len(units) > len(plotted):
            block["more"] = {"text": text["by_unit_more"].format(shown=len(plotted),
                                                                 total=len(units)),
                             "link": text["units"], "href": "units/index.md"}
        blocks.append(block)
    return blocks


def _figure_cell(known: dict, key: str, value) -> dict | str:
    """A table cell: the figure's span when metrics has the key, else the plotted number."""
    return {"key": key} if key in known else str(value)


@dataclass
class Site:
    """What every page writer needs: the config, the data, the words and the one environment."""

    config: object
    metrics: dict
    text: dict
    env: jinja2.Environment
    pages_dir: Path
    issues: list[dict]
    published: list[str]

    @property
    def language(self) -> str:
        return self.config.language

    def write(self, relative: str, template: str, **context) -> None:
        path = self.pages_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        site = {"title": self.config.title, "region": self.config.region,
                "as_of": self.metrics["as_of"]}
        path.write_text(self.env.get_template(template).render(site=site, **context),
                        encoding="utf-8")

    @property
    def metrics_as_of(self) -> dt.date:
        return dt.date.fromisoformat(str(self.metrics["as_of"]))

    @functools.cached_property
    def by_id(self) -> dict[str, dict]:
        return {issue["issue_id"]: issue for issue in self.issues}

    def listed(self, name: str) -> list[dict]:
        """The issues a metrics list names, in the list's order."""
        return [self.by_id[i] for i in self.metrics["lists"][name] if i in self.by_id]

    def table(self, issues: list[dict], extra: list | None = None) -> dict:
        return pages.issue_table(issues, self.published, self.text, extra or [],
                                 language=self.language)


def _write_home(site: Site) -> None:
    (site.pages_dir / "charts").mkdir()
    links = [{"title": site.text[page.home_link], "href": page.home_href}
             for page in PAGES if page.home_link]
    site.write("index.md", "index.md.j2",
               headline=pages.figure_items(site.metrics, figures.HEADLINE_KEYS, site.language),
               charts=home_charts(site.metrics, site.text, site.pages_dir / "charts", site.language),
               links=links)


def _write_groups(site: Site) -> list[dict]:
    """Units, areas, categories: an index table and a page per group; returns their nav entries."""
    nav_groups = []
    for kind, folder in pages.GROUP_DIRS.items():
        groups = site.metrics["groups"][kind]
        if kind not in site.published and not groups:
            continue
        heading = site.text[folder]
        site.write(f"{folder}/index.md", "group_index.md.j2", heading=heading, kind=kind,
                   groups=pages.group_table(site.metrics, kind, linked=True, language=site.language))
        nav_groups.append({heading: f"{folder}/index.md"})
        members: dict[str, list[dict]] = {g["name"]: [] for g in groups}
        for issue in site.issues:
            name = issue.get(kind) or figures.MISSING_GROUP
            if name in members:
                members[name].append(issue)
        for group in groups:
            site.write(f"{folder}/{group['slug']}/index.md", "group.md.j2",
                       kind_label=site.text[kind],
                       group={"name": group["name"], "figures": pages.group_figures(
                           site.metrics, kind, group, site.language)},
                       charts=group_page_charts(site, kind, group, members[group["name"]]),
                       issues=site.table(members[group["name"]]))
    return nav_groups


def group_page_charts(site: Site, kind: str, group: dict, issues: list[dict]) -> list[dict]:
    """A group page's status chart and progress chart, each with its numbers as a table; the
    status counts are the group's own figures (spans verify checks) wherever metrics has them."""
    text, language = site.text, site.language
    out = site.pages_dir / pages.GROUP_DIRS[kind] / group["slug"]
    out.mkdir(parents=True, exist_ok=True)
    labels = words.status_labels(language)
    chart_words = charts.chart_text(language)
    known = site.metrics["figures"]
    counts = {status: group["figures"].get(status) or 0 for status in charts.STATUS_ORDER}
    blocks = []
    if any(counts.values()):
        title = text["group_status_chart"]
        svg, _ = group_charts.status_bars(counts, labels, title)
        rows = [[labels.get(status, status), _figure_cell(known, f"{kind}.{group['slug']}.{status}",
                                                          f"{count:,}")]
                for status, count in counts.items() if count]
        blocks.append(chart_block("status", title, text["group_status_alt"].format(
            name=group["name"]), svg, [chart_words["status"], chart_words["count"]], rows, out, ""))
    points = group_charts.progress_points(issues, site.metrics_as_of)
    if points:
        title = text["group_progress_chart"]
        svg, rows = group_charts.progress_lines(points, chart_words, title)
        blocks.append(chart_block("progress", title, text["group_progress_alt"].format(
            name=group["name"]), svg, [chart_words["date"], chart_words["identified"],
                                       chart_words["done"]], rows, out, ""))
    return blocks


def _write_issue_pages(site: Site) -> None:
    """A page per issue (issues/<bucket>/<id>.html, through issue_pages' shell), and the old
    bucket pages (issues/<bucket>/index.html), which now send their #issue-<id> links on."""
    slugs = pages.group_slugs(site.metrics)
    histories = timeline.timelines(pages.snapshot_folders(site.config))
    body = site.env.get_template("issue.html.j2")
    buckets: dict[str, list[dict]] = {}

    def records():
        for issue in progress.track(sorted(site.issues, key=lambda i: i["issue_id"]), "render"):
            issue_id = issue["issue_id"]
            detail = pages.issue_detail(issue, site.published, slugs, site.language,
                                        histories.get(issue_id))
            href = pages.issue_href(issue_id)
            buckets.setdefault(safepath.bucket(issue_id), []).append(
                {"anchor": detail["anchor"], "heading": detail["heading"],
                 "href": href})
            yield {"path": href, "title": detail["heading"],
                   "description": issue_pages.description(
                       " ".join(f"{f['label']}{site.text['colon']}{f['value']}"
                                for f in detail["fields"])),
                   "body": body.render(issue=detail)}

    issue_pages.write_records(site.pages_dir.parent, records())
    for bucket, entries in sorted(buckets.items()):
        site.write(f"issues/{bucket}/index.md", "issues.md.j2", bucket=bucket, issues=entries)


def _write_not_found(site: Site) -> None:
    """404.html beside the pages (docs/), which the build stage puts in place of MkDocs' own:
    that one links its styles from the host root, which breaks under a sub-path."""
    url = site.config.site_url
    html = site.env.get_template("404.html.j2").render(
        site={"title": site.config.title}, language=site.language,
        root=(url.rstrip("/") + "/") if url else "", site_url=url)
    (site.pages_dir.parent / "404.html").write_text(html, encoding="utf-8")


def _write_overdue(site: Site) -> None:
    text, metrics, language = site.text, site.metrics, site.language
    days_late = metrics["days_late"]
    late = (text["days_late"], lambda issue: str(days_late.get(issue["issue_id"], "")), True)
    extra = [late]
    if "unit" in site.published:  # who is late matters as much as how late
        extra.insert(0, (text["unit"], lambda issue: issue.get("unit") or ""))
    listed = site.listed("overdue")
    # A rework item was reported done before its deadline, then failed the satisfaction check:
    # it is open again and late by the original deadline, which its completion date alone
    # would not explain.
    rework_ids = set(metrics["lists"].get("rework", []))
    reworked = any(issue["issue_id"] in rework_ids or issue.get("status") == "rework"
                   for issue in listed)
    site.write("overdue/index.md", "list.md.j2", heading=text["overdue"],
               intro=text["overdue_intro"], note=text["overdue_rework_note"] if reworked else "",
               figures=pages.figure_items(metrics, ["issues.overdue",
                                                    "issues.overdue_first_deadline"], language),
               issues=site.table(listed, extra))


def _write_rework(site: Site) -> None:
    text, metrics, language = site.text, site.metrics, site.language
    score = (text["satisfaction"], lambda i: pages.display("satisfaction", i.get("satisfaction")))
    site.write("rework/index.md", "list.md.j2", heading=text["rework"], intro=text["rework_intro"],
               figures=pages.figure_items(metrics, ["issues.rework"], language),
               issues=site.table(site.listed("rework"),
                                 [score] if "satisfaction" in site.published else []))


def _write_claims(site: Site) -> None:
    site.write("claims/index.md", "claims.md.j2", claims=pages.claims(site.metrics))


def _write_changes(site: Site) -> None:
    """The changes since the last publish."""
    text, metrics, language = site.text, site.metrics, site.language
    changes = _read_json(site.config.work_dir / "changes.json")
    issue_ids = {i["issue_id"] for i in site.issues}
    site.write("changes/index.md", "changes.md.j2", changes=diff_page.page(
        changes, text, issue_ids, metrics["figures"], language,
        downloads=_copy_changes(site) if changes else []),
               removals=removals.page(pages.snapshot_folders(site.config), text))


def _copy_changes(site: Site) -> list[str]:
    """changes.json and its workbook into data/, where the changes page offers them in full."""
    copied = []
    for name in diff_page.DOWNLOADS:
        source = site.config.work_dir / name
        if source.is_file():
            (site.pages_dir / "data").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, site.pages_dir / "data" / name)
            copied.append(name)
    return copied


def _write_history(site: Site) -> None:
    """Snapshots chart, deadline buckets, channels and the due-soon and stale lists."""
    text, metrics, language = site.text, site.metrics, site.language
    folder = site.pages_dir / "history"
    folder.mkdir()
    history_charts = []
    snapshots_series = metrics["series"]["snapshots"]
    if snapshots_series:
        statuses = words.status_labels(language)
        svg, rows = charts.history(snapshots_series, statuses, charts.chart_text(language))
        history_charts.append(chart_block(
            "history", text["history_chart"], text["history_chart_alt"], svg,
            [text["as_of"]] + [statuses[s] for s in charts.STATUS_ORDER],
            [[r["label"]] + [str(r[s]) for s in charts.STATUS_ORDER] for r in rows], folder, ""))
    deadline_keys = [k for k in ("deadline.overdue", "deadline.within_10", "deadline.within_20",
                                 "deadline.later", "deadline.none") if k in metrics["figures"]]
    if deadline_keys:
        svg, _ = charts.bars([{"label": figures.label(k, language), "value": metrics["figures"][k]}
                              for k in deadline_keys], charts.chart_text(language))
        history_charts.append(chart_block(
            "deadlines", text["deadline"], text["deadline"], svg,
            [text["deadline"], text["count_issues"]],
            [[figures.label(k, language), {"key": k}] for k in deadline_keys], folder, ""))
    sections = [{"title": text[name], "table": site.table(site.listed(name))}
                for name in ("due_10", "due_20", "stale") if name in metrics["lists"]]
    site.write("history/index.md", "history.md.j2", charts=history_charts,
               channels=pages.group_table(metrics, "channel", linked=False, language=language),
               lists=sections)


def _write_data(site: Site) -> None:
    """Every snapshot copied into the site, the public key, latest.json and the data page.

    The warning count comes from the newest snapshot's build record, not the work dir, so a
    rebuild from the snapshots alone (`verify`) prints the same page.
    """
    config = site.config
    folders = pages.snapshot_folders(config)
    data_dir = site.pages_dir / "data"
    for folder in folders:
        shutil.copytree(folder, data_dir / "snapshots" / folder.name)
    if public_key := manifests.public_key(config):
        # With the public key on the site, `verify` checks every signature it carries.
        shutil.copyfile(public_key, data_dir / "minisign.pub")
    if folders:
        (data_dir / "latest.json").write_text(
            json.dumps({"snapshot_id": folders[-1].name}, ensure_ascii=False) + "\n",
            encoding="utf-8")
    record = build_record.read(folders[-1]) if folders else None
    site.write("data/index.md", "data.md.j2", snapshots=pages.snapshot_entries(folders),
               warnings=(record or {}).get("validate_warnings"),
               receipt=_write_receipt(site, folders, data_dir))


def _write_receipt(site: Site, folders: list[Path], data_dir: Path) -> dict | None:
    """The publication receipt (page and PDF) of the newest snapshot, and the timestamp
    authority's certificate that `verify` checks the snapshots' tokens against."""
    timestamps.copy_certificate(site.config, data_dir)
    if not folders:
        return None
    key = data_dir / "minisign.pub"
    pdf = receipt.write(site.pages_dir, folders[-1], site.config, key if key.is_file() else None)
    return {"page": "../" + receipt.PAGE, "pdf": pdf.name}


def _status_mapping(status_words, language: str) -> list[dict]:
    """The status words in use (config.status_words) under the status each is shown as: the
    built-in words of the site's script (Chinese on a Chinese site, ASCII on others) and every
    word the config adds."""
    labels = words.status_labels(language)
    built_in = {schema.status_key(word): status
                for word, status in schema.DEFAULT_STATUS_WORDS.items()}
    grouped: dict[str, list[str]] = {status: [] for status in labels}
    for word, status in sorted(status_words.items()):
        if built_in.get(word) != status or word.isascii() != (language == "zh"):
            grouped.setdefault(status, []).append(word)
    separator = "、" if language == "zh" else ", "
    return [{"label": labels.get(status, status), "words": separator.join(found)}
            for status, found in grouped.items() if found]


def _write_methodology(site: Site) -> None:
    text, config, language = site.text, site.config, site.language
    parameters = site.metrics["parameters"]
    site.write("methodology/index.md", "methodology.md.j2",
               parameters=[{"label": text["threshold"], "value": parameters.get(
                               "satisfaction_threshold", config.satisfaction_threshold)},
                           {"label": text["stale_weeks"], "value": parameters.get(
                               "stale_weeks", config.stale_weeks)},
                           *({"label": text[name], "value": parameters[name]}
                             for name in ("reply_prompt_days", "reply_limit_days",
                                          "ranking_min_items", "ranking_size"))],
               definitions=[{"key": k, "label": figures.label(k, language) if k in figures.LABELS
                             else text.get(k.split(".")[-1], k), "text": v}
                            for k, v in figures.definitions(language).items()],
               status_mapping=_status_mapping(config.status_words, language))


def _write_scorecards(site: Site) -> None:
    site.write("scorecards/index.md", "scorecards.md.j2",
               table=accountability.scorecard_table(site.metrics, site.language))


def _write_ranking(site: Site) -> list[dict] | None:
    """The ranking page (红黑榜), only when the config switches it on; its own nav entry."""
    if not site.config.ranking.page:
        return None
    site.write("ranking/index.md", "ranking.md.j2",
               ranking=accountability.ranking(site.metrics, site.text, site.language))
    return [{site.text["ranking"]: "ranking/index.md"}]


def _write_extensions(site: Site) -> None:
    site.write("extensions/index.md", "extensions.md.j2",
               figures=pages.figure_items(site.metrics, ["issues.deadline_extended"],
                                          site.language),
               rows=accountability.extensions(pages.snapshot_folders(site.config), site.by_id,
                                              site.published))


@dataclass(frozen=True)
class Page:
    """One entry of the site: its nav title (a text.yml key), its page, and what writes it.

    `write(site)` writes the page (and any below it) and may return extra nav entries, placed
    right after this entry's own (the unit, area and category indexes). A page with no `path`
    has no nav entry of its own; one with no writer is hand-written (content/<language>/).
    `home_link` is the text.yml key of its link on the home page, if it has one.
    """

    title: str
    path: str
    write: Callable[[Site], list[dict] | None] | None = None
    home_link: str = ""
    home_href: str = ""


# The site's pages in nav order: a new page is one entry here, plus its writer and template.
PAGES: tuple[Page, ...] = (
    Page("home", "index.md", _write_home),
    Page("overdue", "overdue/index.md", _write_overdue, "overdue", "overdue/index.md"),
    Page("rework", "rework/index.md", _write_rework, "rework", "rework/index.md"),
    Page("units", "", _write_groups, "units", "units/index.md"),
    Page("scorecards", "scorecards/index.md", _write_scorecards, "scorecards",
         "scorecards/index.md"),
    Page("ranking", "", _write_ranking),
    Page("extensions", "extensions/index.md", _write_extensions, "extensions",
         "extensions/index.md"),
    Page("issue_details", "", _write_issue_pages),
    Page("not_found_title", "", _write_not_found),
    Page("history", "history/index.md", _write_history),
    Page("changes", "changes/index.md", _write_changes, "changes", "changes/index.md"),
    Page("claims", "claims/index.md", _write_claims, "claims", "claims/index.md"),
    Page("data", "data/index.md", _write_data, "data", "data/index.md"),
    Page("downloads", "", downloads.write_site),  # after the list pages it links from
    Page("feeds", "", feeds.write_site),  # after the changes, unit and area pages it links from
    Page("methodology", "methodology/index.md", _write_methodology, "methodology",
         "methodology/index.md"),
    Page("search", "search.md"),
    Page("about", "about.md"),
)

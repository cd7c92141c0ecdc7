"""Render stage: tables, metrics and snapshots into a MkDocs project (Markdown pages + SVG charts)."""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import dataclass
from typing import Callable
from pathlib import Path

import jinja2
import yaml
from markupsafe import Markup

from etl import schema
from etl.site import charts
from etl.site import figures
from etl.ledger import build_record, diff_page, manifests, receipt, timestamps
from etl.site import pages
from etl.ledger import removals, timeline
from etl.privacy import safepath
from etl.site import search
from etl.ledger import tables
from etl.privacy import textsafe
from etl.errors import BuildError
from etl.site import words
from etl.config import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CONTENT = ROOT / "content"
BASE_MKDOCS = ROOT / "mkdocs.yml"


def environment(metrics: dict, text: dict, language: str = "zh") -> jinja2.Environment:
    """One environment for every page; autoescape on, so only filters below may emit markup."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    values = metrics["figures"]

    def fig(key: str) -> Markup:
        # A figure absent from metrics is a bug: verify could not check it, so never print it.
        if key not in values:
            raise BuildError(f"page wants figure {key!r}, which metrics.json does not have",
                             hint="rerun the metrics stage or fix the template")
        return Markup('<span class="gs-figure" data-figure="{}">{}</span>').format(
            key, figures.format_figure(key, values[key], language))

    env.globals.update(fig=fig, t=text)
    textsafe.install(env)  # md_text, md_cell, html_attr, safe_url: the only ways data reaches a page
    return env


def load_text(language: str) -> dict:
    """The site's words in one language (templates/text.yml through etl/site/words.py)."""
    return words.words(language)


def copy_content(language: str, pages_dir: Path) -> None:
    """Hand-written pages: content/<language>/ for the site's language, the rest (assets) shared."""
    own = CONTENT / language
    if not own.is_dir():
        raise BuildError(f"{own} is missing: no hand-written pages for language {language!r}",
                         hint=f"add {own.name}/about.md and {own.name}/search.md under {CONTENT}")

    def other_languages(directory: str, names: list[str]) -> list[str]:
        return [n for n in names if Path(directory) == CONTENT and n in LANGUAGES]

    shutil.copytree(CONTENT, pages_dir, dirs_exist_ok=True, ignore=other_languages)
    shutil.copytree(own, pages_dir, dirs_exist_ok=True)


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
                   "rectified": "issues.rectified"}
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
class _Site:
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

    @functools.cached_property
    def by_id(self) -> dict[str, dict]:
        return {issue["issue_id"]: issue for issue in self.issues}

    def listed(self, name: str) -> list[dict]:
        """The issues a metrics list names, in the list's order."""
        return [self.by_id[i] for i in self.metrics["lists"][name] if i in self.by_id]

    def table(self, issues: list[dict], extra: list | None = None) -> dict:
        return pages.issue_table(issues, self.published, self.text, extra or [],
                                 language=self.language)


def run(config) -> Path:
    """Write config.work_dir/docs: mkdocs.yml and pages/ with every page, chart and snapshot."""
    work = config.work_dir
    docs = work / "docs"
    pages_dir = docs / "pages"
    if docs.exists():
        shutil.rmtree(docs)
    pages_dir.mkdir(parents=True)
    metrics = schema.load_metrics(work / "metrics.json")
    text = load_text(config.language)
    issues_path = work / "tables" / "issues.csv"
    # The columns actually in the canonical CSV: a field the config does not publish never shows.
    published = tables.read_header(issues_path)
    issues = pages.issue_records(tables.read_table(issues_path, "issues"), published)
    site = _Site(config, metrics, text, environment(metrics, text, config.language), pages_dir,
                 issues, published)

    search.write_index(issues, pages_dir, page_url=pages.issue_href, language=config.language)
    nav = []
    for page in PAGES:
        entries = page.write(site) if page.write else None
        if page.path:
            nav.append({text[page.title]: page.path})
        nav.extend(entries or [])
    copy_content(config.language, pages_dir)
    _write_mkdocs_config(site, docs, nav)
    return docs


def _write_home(site: _Site) -> None:
    (site.pages_dir / "charts").mkdir()
    links = [{"title": site.text[page.home_link], "href": page.home_href}
             for page in PAGES if page.home_link]
    site.write("index.md", "index.md.j2",
               headline=pages.figure_items(site.metrics, figures.HEADLINE_KEYS, site.language),
               charts=home_charts(site.metrics, site.text, site.pages_dir / "charts", site.language),
               links=links)


def _write_groups(site: _Site) -> list[dict]:
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
                       issues=site.table(members[group["name"]]))
    return nav_groups


def _write_issue_pages(site: _Site) -> None:
    """Issue detail pages, one per bucket; the bucket of an id never changes."""
    slugs = pages.group_slugs(site.metrics)
    histories = timeline.timelines(pages.snapshot_folders(site.config))
    buckets: dict[str, list[dict]] = {}
    for issue in site.issues:
        buckets.setdefault(safepath.bucket(issue["issue_id"]), []).append(
            pages.issue_detail(issue, site.published, slugs, site.language,
                               histories.get(issue["issue_id"])))
    for bucket, details in sorted(buckets.items()):
        site.write(f"issues/{bucket}/index.md", "issues.md.j2", bucket=bucket, issues=details)


def _write_overdue(site: _Site) -> None:
    text, metrics, language = site.text, site.metrics, site.language
    days_late = metrics["days_late"]
    late = (text["days_late"], lambda issue: str(days_late.get(issue["issue_id"], "")))
    site.write("overdue/index.md", "list.md.j2", heading=text["overdue"],
               intro=text["overdue_intro"],
               figures=pages.figure_items(metrics, ["issues.overdue",
                                                    "issues.overdue_first_deadline"], language),
               issues=site.table(site.listed("overdue"), [late]))


def _write_rework(site: _Site) -> None:
    text, metrics, language = site.text, site.metrics, site.language
    score = (text["satisfaction"], lambda i: pages.display("satisfaction", i.get("satisfaction")))
    site.write("rework/index.md", "list.md.j2", heading=text["rework"], intro=text["rework_intro"],
               figures=pages.figure_items(metrics, ["issues.rework"], language),
               issues=site.table(site.listed("rework"),
                                 [score] if "satisfaction" in site.published else []))


def _write_claims(site: _Site) -> None:
    site.write("claims/index.md", "claims.md.j2", claims=pages.claims(site.metrics))


def _write_changes(site: _Site) -> None:
    """The changes since the last publish."""
    text, metrics, language = site.text, site.metrics, site.language
    changes = _read_json(site.config.work_dir / "changes.json")
    issue_ids = {i["issue_id"] for i in site.issues}
    site.write("changes/index.md", "changes.md.j2", changes=diff_page.page(
        changes, text, issue_ids, metrics["figures"], language,
        downloads=_copy_changes(site) if changes else []),
               removals=removals.page(pages.snapshot_folders(site.config), text))


def _copy_changes(site: _Site) -> list[str]:
    """changes.json and its workbook into data/, where the changes page offers them in full."""
    copied = []
    for name in diff_page.DOWNLOADS:
        source = site.config.work_dir / name
        if source.is_file():
            (site.pages_dir / "data").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, site.pages_dir / "data" / name)
            copied.append(name)
    return copied


def _write_history(site: _Site) -> None:
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


def _write_data(site: _Site) -> None:
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


def _write_receipt(site: _Site, folders: list[Path], data_dir: Path) -> dict | None:
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


def _write_methodology(site: _Site) -> None:
    text, config, language = site.text, site.config, site.language
    parameters = site.metrics["parameters"]
    site.write("methodology/index.md", "methodology.md.j2",
               parameters=[{"label": text["threshold"], "value": parameters.get(
                               "satisfaction_threshold", config.satisfaction_threshold)},
                           {"label": text["stale_weeks"], "value": parameters.get(
                               "stale_weeks", config.stale_weeks)}],
               definitions=[{"key": k, "label": figures.label(k, language) if k in figures.LABELS
                             else text.get(k.split(".")[-1], k), "text": v}
                            for k, v in figures.definitions(language).items()],
               status_mapping=_status_mapping(config.status_words, language))


def _write_mkdocs_config(site: _Site, docs: Path, nav: list[dict]) -> None:
    config = site.config
    mkdocs = yaml.safe_load(BASE_MKDOCS.read_text(encoding="utf-8"))
    if mkdocs.get("use_directory_urls") is not False:
        # Raw HTML issue tables link to .../index.html directly; they need this setting.
        raise BuildError(f"{BASE_MKDOCS}: use_directory_urls must be false",
                         hint="restore `use_directory_urls: false` in the base mkdocs.yml")
    mkdocs.update({"site_name": config.title, "docs_dir": "pages", "nav": nav,
                   "site_dir": str(config.work_dir / "stage" / "site")})
    mkdocs["theme"]["language"] = config.language
    theme_dir = (BASE_MKDOCS.parent / mkdocs["theme"].get("custom_dir", "")).resolve()
    if not (mkdocs["theme"].get("custom_dir") and (theme_dir / "main.html").is_file()):
        # Without the overrides, material prints page titles (source names) unescaped.
        raise BuildError(f"{BASE_MKDOCS}: theme.custom_dir must name the folder with main.html "
                         f"(templates/theme)", hint="restore `custom_dir: templates/theme`")
    mkdocs["theme"]["custom_dir"] = str(theme_dir)
    if config.site_url:
        mkdocs["site_url"] = config.site_url
    (docs / "mkdocs.yml").write_text(
        yaml.safe_dump(mkdocs, allow_unicode=True, sort_keys=False), encoding="utf-8")


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
    write: Callable[[_Site], list[dict] | None] | None = None
    home_link: str = ""
    home_href: str = ""


# The site's pages in nav order: a new page is one entry here, plus its writer and template.
PAGES: tuple[Page, ...] = (
    Page("home", "index.md", _write_home),
    Page("overdue", "overdue/index.md", _write_overdue, "overdue", "overdue/index.md"),
    Page("rework", "rework/index.md", _write_rework, "rework", "rework/index.md"),
    Page("units", "", _write_groups, "units", "units/index.md"),
    Page("issue_details", "", _write_issue_pages),
    Page("history", "history/index.md", _write_history),
    Page("changes", "changes/index.md", _write_changes, "changes", "changes/index.md"),
    Page("claims", "claims/index.md", _write_claims, "claims", "claims/index.md"),
    Page("data", "data/index.md", _write_data, "data", "data/index.md"),
    Page("methodology", "methodology/index.md", _write_methodology, "methodology",
         "methodology/index.md"),
    Page("search", "search.md"),
    Page("about", "about.md"),
)

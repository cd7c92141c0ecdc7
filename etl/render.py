"""Render stage: tables, metrics and snapshots into a MkDocs project (Markdown pages + SVG charts)."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import yaml
from markupsafe import Markup, escape

from etl import schema
from etl.ledger import tables
from etl.privacy import textsafe
from etl.site import figures, pages, search, writers
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
    site = writers.Site(config, metrics, text, environment(metrics, text, config.language), pages_dir,
                 issues, published)

    search.write_index(issues, pages_dir, page_url=pages.issue_href, language=config.language,
                       opinions=_opinion_ids(work / "tables" / "feedback.csv"))
    nav = []
    for page in writers.PAGES:
        entries = page.write(site) if page.write else None
        if page.path:
            nav.append({text[page.title]: page.path})
        nav.extend(entries or [])
    copy_content(config.language, pages_dir)
    _write_mkdocs_config(site, docs, nav)
    return docs


def _opinion_ids(path: Path) -> dict[str, list[str]]:
    """Issue id -> the published ids of the opinions gathered into it, for the search index."""
    if not path.is_file() or not {"feedback_id", "issue_id"} <= set(tables.read_header(path)):
        return {}
    frame = tables.read_table(path, "feedback")
    found: dict[str, list[str]] = {}
    for opinion, issue in zip(frame["feedback_id"].tolist(), frame["issue_id"].tolist()):
        if isinstance(issue, str) and issue and isinstance(opinion, str) and opinion:
            found.setdefault(issue, []).append(opinion)
    return found


def _write_mkdocs_config(site: writers.Site, docs: Path, nav: list[dict]) -> None:
    config = site.config
    mkdocs = yaml.safe_load(BASE_MKDOCS.read_text(encoding="utf-8"))
    if mkdocs.get("use_directory_urls") is not False:
        # Raw HTML issue tables link to .../index.html directly; they need this setting.
        raise BuildError(f"{BASE_MKDOCS}: use_directory_urls must be false",
                         hint="restore `use_directory_urls: false` in the base mkdocs.yml")
    mkdocs.update({"site_name": config.title, "docs_dir": "pages", "nav": nav,
                   # material prints it raw into every page's head: escaped here, once.
                   "site_description": str(escape(site.text["site_description"].format(
                       title=config.title, region=config.region))),
                   "site_dir": str(config.work_dir / "stage" / "site")})
    mkdocs["theme"]["language"] = config.language
    mkdocs.setdefault("extra", {})["gongshi"] = words.section("header_search", config.language)
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

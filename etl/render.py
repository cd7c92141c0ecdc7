"""Render stage: tables, metrics and snapshots into a MkDocs project (Markdown pages + SVG charts)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import jinja2
import yaml
from markupsafe import Markup

from etl import charts, figures, pages, safepath, schema, search, tables, textsafe

from etl.errors import BuildError

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"
CONTENT = ROOT / "content"
BASE_MKDOCS = ROOT / "mkdocs.yml"
SNAPSHOT_FILE_ORDER = ("manifest.json", "manifest.json.minisig", "datapackage.json", "issues.csv",
                       "issues.json", "feedback.csv", "feedback.json", "metrics.json")


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
    """The site's words in one language; a language text.yml lacks is an error, never Chinese."""
    path = TEMPLATES / "text.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if language not in data:
        raise BuildError(f"{path} has no words for language {language!r} (it has "
                         f"{', '.join(sorted(data))})",
                         hint=f"set `language` to one of {', '.join(figures.LANGUAGES)}, "
                              f"or add a {language}: block to {path.name}")
    return data[language]


def copy_content(language: str, pages_dir: Path) -> None:
    """Hand-written pages: content/<language>/ for the site's language, the rest (assets) shared."""
    own = CONTENT / language
    if not own.is_dir():
        raise BuildError(f"{own} is missing: no hand-written pages for language {language!r}",
                         hint=f"add {own.name}/about.md and {own.name}/search.md under {CONTENT}")

    def other_languages(directory: str, names: list[str]) -> list[str]:
        return [n for n in names if Path(directory) == CONTENT and n in figures.LANGUAGES]

    shutil.copytree(CONTENT, pages_dir, dirs_exist_ok=True, ignore=other_languages)
    shutil.copytree(own, pages_dir, dirs_exist_ok=True)


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _published(path: Path) -> list[str]:
    """Columns actually in the canonical CSV: a column the config does not publish never shows."""
    with path.open(encoding="utf-8-sig") as handle:
        return handle.readline().strip().split(",")


def snapshot_folders(config) -> list[Path]:
    """Every snapshot, oldest first by the `previous` chain; the staged one (if any) last."""
    staged = sorted((config.work_dir / "stage" / "snapshot").glob("*/manifest.json"))
    folders = {p.parent.name: p.parent for p in sorted(config.snapshots_dir.glob("*/manifest.json"))}
    for manifest in staged:
        folders[manifest.parent.name] = manifest.parent
    for name in folders:
        safepath.check_id(name, what="snapshot id")
    previous = {}
    for name, folder in folders.items():
        link = (_read_json(folder / "manifest.json") or {}).get("previous") or {}
        previous[name] = link.get("snapshot_id")
    newest = staged[-1].parent.name if staged else None
    if newest is None:
        referenced = set(previous.values())
        heads = sorted(n for n in folders if n not in referenced)
        newest = heads[-1] if heads else None
    ordered: list[str] = []
    while newest in folders and newest not in ordered:
        ordered.append(newest)
        newest = previous[newest]
    ordered.reverse()
    strays = sorted(n for n in folders if n not in ordered)
    return [folders[n] for n in strays + ordered]


def snapshot_entries(folders: list[Path]) -> list[dict]:
    entries = []
    for index, folder in enumerate(reversed(folders)):
        manifest = _read_json(folder / "manifest.json") or {}
        listed = manifest.get("files", {})
        files = []
        names = [n for n in SNAPSHOT_FILE_ORDER if (folder / n).exists()]
        names += sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in names)
        for name in names:
            info = listed.get(name, {})
            files.append({"name": name, "href": f"snapshots/{folder.name}/{name}",
                          "bytes": str(info.get("bytes", (folder / name).stat().st_size)),
                          "sha256": info.get("sha256") or file_sha256(folder / name)})
        entries.append({"id": folder.name, "latest": index == 0, "as_of": manifest.get("as_of", ""),
                        "row_counts": sorted(manifest.get("row_counts", {}).items()),
                        "files": files})
    return entries


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chart_block(name: str, title: str, alt: str, svg: str, headings: list[str], rows: list,
                out: Path, src: str) -> dict:
    (out / f"{name}.svg").write_text(svg, encoding="utf-8")
    return {"title": title, "alt": alt, "src": src + f"{name}.svg", "headings": headings,
            "rows": rows}


def home_charts(metrics: dict, text: dict, out: Path, language: str = "zh") -> list[dict]:
    """Funnel, burn-up and status by unit, each with the numbers it plots as a table."""
    labels = schema.status_labels(language)
    words = charts.chart_text(language)
    known = metrics["figures"]
    blocks = []
    funnel_keys = {"opinions": "feedback.total", "issues": "issues.total",
                   "rectified": "issues.rectified"}
    stages = metrics.get("funnel", [])
    if stages:
        labelled = []
        for stage in stages:
            key = funnel_keys.get(stage["stage"])
            labelled.append({"label": figures.label(key, language) if key else stage["stage"],
                             "value": stage["value"], "key": key})
        svg, _ = charts.funnel(labelled, words)
        rows = [[s["label"], {"key": s["key"]} if s["key"] in known else str(s["value"])]
                for s in labelled]
        blocks.append(chart_block("funnel", text["funnel"], text["funnel_alt"], svg,
                                  [text["funnel"], words["count"]], rows, out, "charts/"))
    burnup = metrics.get("series", {}).get("burnup", [])
    if burnup:
        svg, points = charts.burnup(burnup, words)
        rows = [[p["date"], str(p["identified"]), str(p["done"])] for p in points]
        blocks.append(chart_block("burnup", text["burnup"], text["burnup_alt"], svg,
                                  [words["date"], words["identified"], words["done"]],
                                  rows, out, "charts/"))
    units = metrics.get("groups", {}).get("unit", [])
    if units:
        svg, plotted = charts.status_by_unit(
            [{"name": u["name"], **u["figures"]} for u in units], labels, text=words)
        slugs = {u["name"]: u["slug"] for u in units}
        rows = []
        for row in plotted:
            slug = slugs.get(row["name"])
            cells = [row["name"]]
            for status in charts.STATUS_ORDER:
                key = f"unit.{slug}.{status}" if slug else None
                cells.append({"key": key} if key in known else str(row[status]))
            rows.append(cells)
        blocks.append(chart_block("status_by_unit", text["by_unit"], text["by_unit_alt"], svg,
                                  [text["unit"]] + [labels[s] for s in charts.STATUS_ORDER],
                                  rows, out, "charts/"))
    return blocks


def run(config) -> Path:
    """Write config.work_dir/docs: mkdocs.yml and pages/ with every page, chart and snapshot."""
    work = config.work_dir
    docs = work / "docs"
    pages_dir = docs / "pages"
    if docs.exists():
        shutil.rmtree(docs)
    pages_dir.mkdir(parents=True)
    metrics = _read_json(work / "metrics.json")
    if metrics is None:
        raise BuildError(f"{work / 'metrics.json'} is missing", hint="run the metrics stage first")
    language = config.language
    text = load_text(language)
    env = environment(metrics, text, language)
    site = {"title": config.title, "region": config.region, "as_of": metrics.get("as_of", "")}

    issues_path = work / "tables" / "issues.csv"
    published = _published(issues_path)
    issues = pages.issue_records(tables.read_table(issues_path, "issues"), published)
    issue_ids = {i["issue_id"] for i in issues}
    search.write_index(issues, pages_dir, language=language)
    by_id = {i["issue_id"]: i for i in issues}
    slugs = pages.group_slugs(metrics)

    def write(relative: str, template: str, **context) -> None:
        path = pages_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(site=site, **context), encoding="utf-8")

    # Home.
    (pages_dir / "charts").mkdir()
    links = [{"title": text[k], "href": f"{d}/index.md"} for k, d in (
        ("overdue", "overdue"), ("rework", "rework"), ("units", "units"), ("changes", "changes"),
        ("claims", "claims"), ("data", "data"), ("methodology", "methodology"))]
    write("index.md", "index.md.j2",
          headline=pages.figure_items(metrics, figures.HEADLINE_KEYS, language),
          charts=home_charts(metrics, text, pages_dir / "charts", language), links=links)

    # Units, areas, categories: an index table and a page per group.
    nav_groups = []
    for kind, folder in pages.GROUP_DIRS.items():
        groups = metrics.get("groups", {}).get(kind, [])
        if kind not in published and not groups:
            continue
        heading = text[folder]
        write(f"{folder}/index.md", "group_index.md.j2", heading=heading, kind=kind,
              groups=pages.group_table(metrics, kind, linked=True, language=language))
        nav_groups.append({heading: f"{folder}/index.md"})
        members: dict[str, list[dict]] = {g["name"]: [] for g in groups}
        for issue in issues:
            name = issue.get(kind) or figures.MISSING_GROUP
            if name in members:
                members[name].append(issue)
        for group in groups:
            write(f"{folder}/{group['slug']}/index.md", "group.md.j2", kind_label=text[kind],
                  group={"name": group["name"],
                         "figures": pages.group_figures(metrics, kind, group, language)},
                  issues=pages.issue_table(members[group["name"]], published, text,
                                           language=language))

    # Issue detail pages, one per bucket; the bucket of an id never changes.
    buckets: dict[str, list[dict]] = {}
    for issue in issues:
        buckets.setdefault(safepath.bucket(issue["issue_id"]), []).append(
            pages.issue_detail(issue, published, slugs, language))
    template = env.get_template("issues.md.j2")
    for bucket, details in sorted(buckets.items()):
        path = pages_dir / "issues" / bucket / "index.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.render(site=site, bucket=bucket, issues=details), encoding="utf-8")

    # Lists.
    lists = metrics.get("lists", {})

    def listed(name: str) -> list[dict]:
        return [by_id[i] for i in lists.get(name, []) if i in by_id]

    late = pages.days_late(_as_of(metrics, config))
    write("overdue/index.md", "list.md.j2", heading=text["overdue"], intro=text["overdue_intro"],
          figures=pages.figure_items(metrics, ["issues.overdue", "issues.overdue_first_deadline"],
                                     language),
          issues=pages.issue_table(sorted(listed("overdue"), key=lambda i: -int(late(i) or 0)),
                                   published, text, [(text["days_late"], late)],
                                   language=language))
    score = (text["satisfaction"], lambda i: pages.display("satisfaction", i.get("satisfaction")))
    write("rework/index.md", "list.md.j2", heading=text["rework"], intro=text["rework_intro"],
          figures=pages.figure_items(metrics, ["issues.rework"], language),
          issues=pages.issue_table(listed("rework"), published, text,
                                   [score] if "satisfaction" in published else [],
                                   language=language))
    write("claims/index.md", "claims.md.j2", claims=pages.claims(metrics))
    write("changes/index.md", "changes.md.j2",
          changes=pages.changes(_read_json(work / "changes.json"), text, issue_ids,
                                metrics["figures"], language))

    # History: snapshots chart, deadline buckets, channels, stale items.
    (pages_dir / "history").mkdir()
    history_charts = []
    snapshots_series = metrics.get("series", {}).get("snapshots", [])
    if snapshots_series:
        statuses = schema.status_labels(language)
        svg, rows = charts.history(snapshots_series, statuses, charts.chart_text(language))
        history_charts.append(chart_block(
            "history", text["history_chart"], text["history_chart_alt"], svg,
            [text["as_of"]] + [statuses[s] for s in charts.STATUS_ORDER],
            [[r["label"]] + [str(r[s]) for s in charts.STATUS_ORDER] for r in rows],
            pages_dir / "history", ""))
    deadline_keys = [k for k in ("deadline.overdue", "deadline.within_10", "deadline.within_20",
                                 "deadline.later", "deadline.none") if k in metrics["figures"]]
    if deadline_keys:
        svg, _ = charts.bars([{"label": figures.label(k, language), "value": metrics["figures"][k]}
                              for k in deadline_keys], charts.chart_text(language))
        history_charts.append(chart_block(
            "deadlines", text["deadline"], text["deadline"], svg, [text["deadline"], text["count_issues"]],
            [[figures.label(k, language), {"key": k}] for k in deadline_keys],
            pages_dir / "history", ""))
    sections = [{"title": text[name],
                 "table": pages.issue_table(listed(name), published, text, language=language)}
                for name in ("due_10", "due_20", "stale") if name in lists]
    write("history/index.md", "history.md.j2", charts=history_charts,
          channels=pages.group_table(metrics, "channel", linked=False, language=language),
          lists=sections)

    # Data and methodology.
    folders = snapshot_folders(config)
    data_dir = pages_dir / "data"
    for folder in folders:
        shutil.copytree(folder, data_dir / "snapshots" / folder.name)
    if config.minisign_key and config.minisign_key.with_suffix(".pub").is_file():
        # With the public key on the site, `verify` checks every signature it carries.
        shutil.copyfile(config.minisign_key.with_suffix(".pub"), data_dir / "minisign.pub")
    if folders:
        (data_dir / "latest.json").write_text(
            json.dumps({"snapshot_id": folders[-1].name}, ensure_ascii=False) + "\n", encoding="utf-8")
    report = _read_json(work / "validate" / "report.json")
    warnings = _count_warnings(report)
    write("data/index.md", "data.md.j2", snapshots=snapshot_entries(folders), warnings=warnings)
    parameters = metrics.get("parameters", {})
    write("methodology/index.md", "methodology.md.j2",
          parameters=[{"label": text["threshold"], "value": parameters.get("satisfaction_threshold", config.satisfaction_threshold)},
                      {"label": text["stale_weeks"], "value": parameters.get("stale_weeks", config.stale_weeks)}],
          definitions=[{"key": k, "label": figures.label(k, language) if k in figures.LABELS else
                        text.get(k.split(".")[-1], k), "text": v}
                       for k, v in figures.definitions(language).items()])

    # Hand-written content and the MkDocs config.
    copy_content(language, pages_dir)
    nav = [{text["home"]: "index.md"}, {text["overdue"]: "overdue/index.md"},
           {text["rework"]: "rework/index.md"}, *nav_groups,
           {text["history"]: "history/index.md"}, {text["changes"]: "changes/index.md"},
           {text["claims"]: "claims/index.md"}, {text["data"]: "data/index.md"},
           {text["methodology"]: "methodology/index.md"}, {text["search"]: "search.md"},
           {text["about"]: "about.md"}]
    mkdocs = yaml.safe_load(BASE_MKDOCS.read_text(encoding="utf-8"))
    if mkdocs.get("use_directory_urls") is not False:
        # Raw HTML issue tables link to .../index.html directly; they need this setting.
        raise BuildError(f"{BASE_MKDOCS}: use_directory_urls must be false",
                         hint="restore `use_directory_urls: false` in the base mkdocs.yml")
    mkdocs.update({"site_name": config.title, "docs_dir": "pages", "nav": nav,
                   "site_dir": str(work / "stage" / "site")})
    mkdocs["theme"]["language"] = config.language
    if config.site_url:
        mkdocs["site_url"] = config.site_url
    (docs / "mkdocs.yml").write_text(
        yaml.safe_dump(mkdocs, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return docs


def _as_of(metrics: dict, config) -> dt.date:
    return dt.date.fromisoformat(metrics["as_of"]) if metrics.get("as_of") else config.as_of


def _count_warnings(report) -> int | None:
    if not isinstance(report, dict):
        return None
    if isinstance(report.get("warnings"), list):
        return len(report["warnings"])
    if isinstance(report.get("warnings"), int):
        return report["warnings"]
    problems = report.get("problems")
    if isinstance(problems, list):
        return sum(1 for p in problems if isinstance(p, dict) and p.get("level") == "warning")
    return None

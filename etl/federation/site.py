"""The province site: the county site's stack and look (templates, theme, charts, MkDocs build).

Pages are written with render.environment (autoescape, the md_* filters, `fig` spans) from
templates/federation/, reusing templates/_macros.md.j2's chart block; charts come from
etl/site/charts.py and the build from build.run, so the province site looks and is checked
like a county's. Every figure is a gs-figure span over the province's metrics.json, and the
built pages are checked against it (verify.check_figures) before the site is swapped in.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from etl import build, render, verify
from etl.site import writers
from etl.errors import BuildError, EtlError
from etl.federation.record import METRICS
from etl.ledger.files import replace_folder
from etl.privacy import textsafe
from etl.site import charts, figures, pages, words

HEADLINE = ("province.members", "province.members_verified", "province.issues.total",
            "province.issues.done", "province.rate.completion", "province.rate.on_time",
            "province.issues.overdue", "province.feedback.total", "province.rate.reply",
            "province.rate.satisfaction")
# The comparison table's figure columns, and the figures charted member against member.
COLUMNS = ("issues.total", "rate.completion", "rate.on_time", "issues.overdue", "rate.reply",
           "rate.satisfaction")
CHARTED = ("rate.completion", "rate.on_time", "issues.overdue", "rate.reply",
           "rate.satisfaction")
ATTENTION = ("stale", "unreachable", "rejected")


def text(language: str) -> dict:
    """The county site's words with the province's own on top (the `federation` section of
    templates/text.yml)."""
    own = words.words(language)
    return {**own, **own["federation"]}


def _label(key: str, words_: dict) -> str:
    short = key.removeprefix("province.")
    return words_["labels"].get(key) or words_["labels"].get(short) or figures.label(short)


def _member_rows(records: list[dict], values: dict, words_: dict) -> list[dict]:
    rows = []
    for record in records:
        head = record.get("head") or {}
        link = textsafe.safe_url(record["site"]) if record["site"].startswith(
            ("http://", "https://")) else None
        snapshot_href = None
        if link and head.get("snapshot_id"):
            base = record["site"] if record["site"].endswith("/") else record["site"] + "/"
            snapshot_href = textsafe.safe_url(
                f"{base}data/snapshots/{head['snapshot_id']}/manifest.json")
        keys = [f"member.{record['slug']}.{key}" for key in COLUMNS]
        rows.append({"name": record["name"], "slug": record["slug"], "link": link,
                     "state": words_["states"][record["state"]], "as_of": head.get("as_of") or "",
                     "snapshot_id": head.get("snapshot_id") or "", "snapshot_href": snapshot_href,
                     "figure_keys": keys if all(k in values for k in keys) else None,
                     "verified_on": record.get("verified_on") or "",
                     "problem": record.get("problem") or "", "raw_state": record["state"]})
    return rows


def _charts(records: list[dict], values: dict, words_: dict, language: str,
            out: Path) -> list[dict]:
    chart_words = charts.chart_text(language)
    blocks = []
    known = [r for r in records if f"member.{r['slug']}.issues.total" in values]
    for key in CHARTED:
        rate = figures.kind(key) == "rate"
        plotted = [(r, values[f"member.{r['slug']}.{key}"]) for r in known]
        plotted = [(r, v) for r, v in plotted if v is not None]
        if not plotted:
            continue
        plotted.sort(key=lambda pair: (-pair[1], pair[0]["name"]))
        label = _label(key, words_)
        axis = label + (words_["percent"] if rate else "")
        svg, _ = charts.bars([{"label": r["name"], "value": v * 100 if rate else v}
                              for r, v in plotted], {**chart_words, "count": axis})
        name = key.replace(".", "_")
        blocks.append(writers.chart_block(
            name, label, label, svg, [words_["member"], label],
            [[r["name"], {"key": f"member.{r['slug']}.{key}"}] for r, _ in plotted], out,
            "charts/"))
    return blocks


def write_docs(province, records: list[dict], values: dict) -> Path:
    """work_dir/docs: mkdocs.yml and the pages (home, witness record, the records' files)."""
    docs = Path(province.work_dir) / "docs"
    pages_dir = docs / "pages"
    if docs.exists():
        shutil.rmtree(docs)
    (pages_dir / "charts").mkdir(parents=True)
    words_ = text(province.language)
    env = render.environment({"figures": values}, words_, province.language)
    site = {"title": province.title, "region": province.region,
            "as_of": province.as_of.isoformat()}
    rows = _member_rows(records, values, words_)
    home = env.get_template("federation/index.md.j2").render(
        site=site, headline=[{"key": k, "label": _label(k, words_)} for k in HEADLINE],
        columns=[{"label": _label(k, words_)} for k in COLUMNS], members=rows,
        attention=[r for r in rows if r["raw_state"] in ATTENTION],
        charts=_charts(records, values, words_, province.language, pages_dir / "charts"))
    (pages_dir / "index.md").write_text(home, encoding="utf-8")
    folders = pages.snapshot_folders(province)  # the committed record chain and the staged one
    data_dir = pages_dir / "data"
    for folder in folders:
        shutil.copytree(folder, data_dir / "snapshots" / folder.name)
    (data_dir / "latest.json").write_text(
        json.dumps({"snapshot_id": folders[-1].name}, ensure_ascii=False) + "\n", encoding="utf-8")
    (data_dir / "index.md").write_text(env.get_template("federation/data.md.j2").render(
        site=site, snapshots=pages.snapshot_entries(folders)), encoding="utf-8")
    shutil.copytree(render.CONTENT / "assets", pages_dir / "assets")
    _write_mkdocs_config(province, docs, [{words_["home"]: "index.md"},
                                          {words_["data"]: "data/index.md"}])
    return docs


def _write_mkdocs_config(province, docs: Path, nav: list[dict]) -> None:
    mkdocs = yaml.safe_load(render.BASE_MKDOCS.read_text(encoding="utf-8"))
    mkdocs.pop("not_in_nav", None)
    mkdocs.update({"site_name": province.title, "docs_dir": "pages", "nav": nav,
                   "site_dir": str(Path(province.work_dir) / "stage" / "site")})
    mkdocs["theme"]["language"] = province.language
    mkdocs["theme"]["custom_dir"] = str((render.BASE_MKDOCS.parent
                                         / mkdocs["theme"]["custom_dir"]).resolve())
    (docs / "mkdocs.yml").write_text(yaml.safe_dump(mkdocs, allow_unicode=True, sort_keys=False),
                                     encoding="utf-8")


def build_site(province, records: list[dict], values: dict) -> Path:
    """Render and build the site into work_dir/stage/site; every figure span checked."""
    write_docs(province, records, values)
    staged = build.run(province)
    problems: list[str] = []
    verify.check_figures(staged, values, figures.format_figure, problems)
    if problems:
        raise BuildError("the province pages disagree with their own figures: "
                         + "; ".join(problems[:10]), hint="report this as a bug")
    recorded = json.loads((staged / "data" / "snapshots" / _newest(staged) / METRICS)
                          .read_text(encoding="utf-8"))["figures"]
    if recorded != json.loads(json.dumps(values)):
        raise BuildError("the province pages were built from other figures than the record's",
                         hint="report this as a bug")
    return staged


def _newest(site: Path) -> str:
    return json.loads((site / "data" / "latest.json").read_text(encoding="utf-8"))["snapshot_id"]


def swap_in(staged: Path, site_dir: Path) -> None:
    """Replace site_dir by rename; refuse a folder that is not an earlier province site."""
    if site_dir.is_dir() and any(site_dir.iterdir()) and \
            not (site_dir / "data" / "latest.json").exists():
        raise EtlError(f"{site_dir} exists and is not a Gongshi site (no data/latest.json)",
                       hint="point paths.site_dir at an empty or new folder, or at the site "
                            "an earlier federation made")
    replace_folder(staged, site_dir)

"""Benchmark: time every stage raw -> site on synthetic campaigns, against a plain MkDocs build."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import logging
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script (`python bench/run.py`) from anywhere

DEFAULT_SIZES = (1000, 11500, 100000)
# Opinions per issue in the report the goal comes from: 16,521 opinions, 11,518 issues.
FEEDBACK_PER_ISSUE = 16521 / 11518
PUBLISH_CHECKS = ("scan", "verify", "commit")  # after the stages, as `publish` runs them
GOAL_ISSUES, GOAL_SECONDS = 11500, 60.0

# The federation case (`--federation`) lives in its own module, beside this script.
from federation_case import (FEDERATION_CHANGED, FEDERATION_ISSUES,  # noqa: E402
                             FEDERATION_MEMBERS, federation_report, measure_federation)


def write_config(base: Path, sources: Path) -> Path:
    """The demo config, its sources and output paths pointed into the benchmark's temp folder."""
    import yaml

    data = yaml.safe_load((ROOT / "site_data" / "gongshi.yml").read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["path"] = str(sources / Path(source["path"]).name)
    data["paths"] = {"work_dir": str(base / "work"), "site_dir": str(base / "site"),
                     "snapshots_dir": str(base / "snapshots")}
    path = base / "gongshi.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def folder_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def plain_mkdocs_build(docs_config: Path, base: Path, as_of: dt.date) -> float:
    """Seconds for MkDocs alone on the same pages: default theme, no plugins, no checks.

    Nav and Markdown extensions are kept from the rendered config so both builds parse and
    lay out the same pages; only the theme, plugins and validation differ.
    """
    import yaml
    from mkdocs.commands import build as mkdocs_build
    from mkdocs.config import load_config

    rendered = yaml.safe_load(docs_config.read_text(encoding="utf-8"))
    plain = {"site_name": rendered.get("site_name", "baseline"),
             "docs_dir": str((docs_config.parent / rendered.get("docs_dir", "docs")).resolve()),
             "site_dir": str(base / "baseline-site"), "theme": {"name": "mkdocs"}, "plugins": [],
             "use_directory_urls": rendered.get("use_directory_urls", True),
             "markdown_extensions": rendered.get("markdown_extensions", [])}
    for key in ("nav", "not_in_nav"):
        if key in rendered:
            plain[key] = rendered[key]
    config_path = base / "baseline-mkdocs.yml"
    config_path.write_text(yaml.safe_dump(plain, allow_unicode=True), encoding="utf-8")
    logging.getLogger("mkdocs").setLevel(logging.ERROR)  # the plain theme warns about every page
    os.environ["SOURCE_DATE_EPOCH"] = str(int(dt.datetime(as_of.year, as_of.month, as_of.day, 12,
                                                          tzinfo=dt.timezone.utc).timestamp()))
    started = time.perf_counter()
    mkdocs_build.build(load_config(config_file=str(config_path)))
    return time.perf_counter() - started


def measure(issues: int, keep: bool) -> dict:
    """One size, in this process: generate, run every stage, then the plain MkDocs baseline."""
    from etl import pipeline, snapshot
    from etl.demo import synth
    from etl.config import load_config
    from etl.ledger.files import replace_folder
    from etl.privacy import scan

    base = Path(tempfile.mkdtemp(prefix=f"gongshi-bench-{issues}-"))
    feedback = round(issues * FEEDBACK_PER_ISSUE)
    result = {"issues": issues, "feedback": feedback, "stages": {}, "cpu": {}, "folder": str(base),
              "load_before": os.getloadavg()[0]}
    try:
        started = time.perf_counter()
        synth.generate(base / "sources", issues=issues, feedback=feedback)
        result["generate"] = time.perf_counter() - started
        result["source_bytes"] = folder_size(base / "sources")[0]
        config = load_config(write_config(base, base / "sources"))
        staged = config.work_dir / "stage" / "site"
        steps = {name: functools.partial(pipeline.run_stage, name, config, log=lambda *_: None)
                 for name in pipeline.NAMES}
        steps["snapshot"] = lambda: pipeline.write_changes(
            config, pipeline.run_stage("snapshot", config, log=lambda *_: None))
        steps["scan"] = lambda: scan.run(staged)
        steps["verify"] = lambda: pipeline.verify_site(staged)
        steps["commit"] = lambda: (snapshot.commit(config),
                                   replace_folder(staged, config.site_dir))
        for name, step in steps.items():
            # CPU time too: on a shared machine wall time also measures the neighbours.
            started, cpu_started = time.perf_counter(), time.process_time()
            step()
            result["stages"][name] = time.perf_counter() - started
            result["cpu"][name] = time.process_time() - cpu_started
        result["total"] = sum(result["stages"].values())
        result["total_cpu"] = sum(result["cpu"].values())
        result["load_after"] = os.getloadavg()[0]
        result["site_bytes"], result["site_files"] = folder_size(config.site_dir)
        result["baseline"] = plain_mkdocs_build(config.work_dir / "docs" / "mkdocs.yml", base,
                                                config.as_of)
        result["baseline_bytes"], result["baseline_files"] = folder_size(base / "baseline-site")
    except Exception as error:  # a stage still being written must not hide the other numbers
        result["error"] = f"{type(error).__name__}: {error}"
        result["traceback"] = traceback.format_exc(limit=4)
    finally:
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if not keep:
            shutil.rmtree(base, ignore_errors=True)
    return result


def run_size(issues: int, keep: bool) -> dict:
    """Each size in a fresh interpreter, as `make publish` would run: imports and memory count."""
    command = [sys.executable, str(Path(__file__).resolve()), "--one", str(issues)]
    if keep:
        command.append("--keep")
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"issues": issues, "feedback": round(issues * FEEDBACK_PER_ISSUE), "stages": {},
                "error": f"exit {done.returncode}: {done.stderr.strip()[-500:]}"}
    return json.loads(lines[-1])


def _seconds(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(results: list[dict], stages: tuple[str, ...]) -> str:
    head = (["issues", "opinions", "generate s"] + [f"{s} s" for s in stages]
            + ["raw→site s", "raw→site CPU s", "load 1 min", "site MB", "site files", "plain mkdocs s", "build / plain",
               "raw→site / plain", "peak RSS MB"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in results:
        baseline = r.get("baseline")
        build = r["stages"].get("build")
        cells = [f"{r['issues']:,}", f"{r['feedback']:,}", _seconds(r.get("generate"))]
        cells += [_seconds(r["stages"].get(s)) for s in stages]
        load = [r[key] for key in ("load_before", "load_after") if key in r]
        cells += [_seconds(r.get("total")), _seconds(r.get("total_cpu")),
                  "→".join(f"{value:.1f}" for value in load) or "—",
                  f"{r['site_bytes'] / 1e6:.1f}" if "site_bytes" in r else "—",
                  f"{r['site_files']:,}" if "site_files" in r else "—", _seconds(baseline),
                  f"{build / baseline:.1f}×" if build and baseline else "—",
                  f"{r['total'] / baseline:.1f}×" if baseline and r.get("total") else "—",
                  f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report(results: list[dict], stages: tuple[str, ...]) -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [f"# Gongshi benchmark {dt.date.today().isoformat()}", "",
             f"Python {platform.python_version()} on {platform.machine()}, {cores} cores usable. "
             f"Synthetic campaigns from `etl.demo.synth` ({FEEDBACK_PER_ISSUE:.3f} opinions per issue). "
             "raw→site = every step of `python -m etl publish` (the stages, the leak scan, "
             "verify and the commit), timed one by one in one fresh process per size; "
             "generate is not counted. "
             "Plain mkdocs = the same rendered pages built by MkDocs with the default `mkdocs` "
             "theme and no plugins, in the same process right after. CPU s is this process's "
             "own CPU time (threads included); with a high load average, trust it over wall "
             "seconds.", "",
             table(results, stages), ""]
    goal = next((r for r in results if r["issues"] == GOAL_ISSUES and r.get("total")), None)
    if goal is not None:
        verdict = "met" if goal["total"] <= GOAL_SECONDS else "NOT met"
        lines += [f"Goal ({GOAL_ISSUES:,} issues raw→site ≤ {GOAL_SECONDS:.0f} s on 2 cores): "
                  f"{verdict} in wall time, {goal['total']:.1f} s "
                  f"({goal['total_cpu']:.1f} CPU s; 1-min load average "
                  f"{goal.get('load_before', 0):.1f} on {cores} cores while it ran).", ""]
    for r in results:
        if "error" in r:
            lines += [f"- {r['issues']:,} issues failed: {r['error']}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="issue counts, comma-separated (default %(default)s)")
    parser.add_argument("--keep", action="store_true", help="keep each size's temp folder")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"),
                        help="folder for <date>.md (default bench/results)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process: one size
    parser.add_argument("--federation", action="store_true",
                        help="run the federation case instead: cold and re-federation times")
    parser.add_argument("--members", type=int, default=FEDERATION_MEMBERS,
                        help="federation: member counties (default %(default)s)")
    parser.add_argument("--member-issues", type=int, default=FEDERATION_ISSUES,
                        help="federation: issues per member (default %(default)s)")
    parser.add_argument("--changed", type=int, default=FEDERATION_CHANGED,
                        help="federation: members that publish again (default %(default)s)")
    args = parser.parse_args(argv)
    if args.federation:
        result = measure_federation(args.members, args.member_issues, args.changed,
                                    Path(args.results))
        text = federation_report(result)
        print(text)
        folder = Path(args.results)
        (folder / f"{dt.date.today().isoformat()}-federation.md").write_text(text, encoding="utf-8")
        runs = [result.get("cold") or {}, result.get("refederation") or {}]
        return 1 if any(run.get("exit") or run.get("failed") for run in runs) else 0
    if args.one is not None:
        print(json.dumps(measure(args.one, args.keep)))
        return 0
    from etl.pipeline import NAMES as STAGES

    steps = (*STAGES, *PUBLISH_CHECKS)
    results = []
    for size in [int(part) for part in args.sizes.split(",") if part.strip()]:
        print(f"bench: {size:,} issues ...", file=sys.stderr, flush=True)
        results.append(run_size(size, args.keep))
        if "traceback" in results[-1]:
            print(results[-1]["traceback"], file=sys.stderr)
    text = report(results, steps)
    print(text)
    folder = Path(args.results)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{dt.date.today().isoformat()}.md").write_text(text, encoding="utf-8")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""The pipeline: every stage of a publish in the order it runs, declared once, and the publish
that runs them into the work dir, checks the result and commits it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import contextlib
import fcntl
import json
import os
import shutil
import time
from pathlib import Path

from etl import build, extract, metrics, render, snapshot, transform, validate, verify
from etl.config import Config
from etl.errors import EtlError
from etl.ledger import anchors, diff, rebuild, receipt
from etl.ledger.files import replace_folder
from etl.ledger.manifests import canonical_json, read_manifest
from etl.privacy import review, scan
from etl.staff import progress


@dataclass(frozen=True)
class Stage:
    """One stage of `publish`: its name on the command line and its `run(config) -> Path`."""

    name: str
    run: Callable
    help: str


STAGES: tuple[Stage, ...] = (
    Stage("extract", extract.run, "read every source into raw rows that remember file/sheet/row"),
    Stage("validate", validate.run, "check the rows against the rules and vocabularies"),
    Stage("transform", transform.run, "write the canonical, redacted public tables"),
    Stage("metrics", metrics.run, "compute every figure, series and list the pages show"),
    Stage("snapshot", snapshot.run, "stage the hash-chained snapshot of this publish"),
    Stage("render", render.run, "write the Markdown pages, charts and search index"),
    Stage("build", build.run, "build the static site with MkDocs"),
)

NAMES = tuple(stage.name for stage in STAGES)


def stage(name: str) -> Stage:
    """The stage called `name`."""
    return STAGES[NAMES.index(name)]


def through(name: str) -> tuple[Stage, ...]:
    """The stages up to and including `name`, in order."""
    return STAGES[:NAMES.index(name) + 1]


def run_stage(name: str, config: Config, log=print) -> Path:
    """Run one stage by name, logging how long it took."""
    started = time.perf_counter()
    with progress.counter(name):  # a spinner on a terminal; the stage's own bars nest in it
        result = stage(name).run(config)
    log(f"{name:<10} {time.perf_counter() - started:6.2f}s  -> {result}")
    if name == "validate":
        report = json.loads((result / "report.json").read_text(encoding="utf-8"))
        if report["warnings"]:
            log(f"{'':<10} {len(report['warnings'])} warning(s), listed in {result / 'report.json'}")
    return result

def publish(config: Config, log=print, snapshot_only: bool = False) -> Path:
    """All stages into the work dir, checks, then commit snapshot and site by rename."""
    with _publish_lock(config):
        return _publish(config, log, snapshot_only)

@contextlib.contextmanager
def _publish_lock(config: Config):
    """One publish at a time per work dir: two would share and clear the same staging folder."""
    config.work_dir.mkdir(parents=True, exist_ok=True)
    path = config.work_dir / ".publish.lock"
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # A lock on a file the previous holder already unlinked guards nothing.
            if not path.exists() or os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino:
                raise BlockingIOError
        except BlockingIOError:
            raise EtlError(f"another publish is running with work dir {config.work_dir}",
                           hint="wait for it to finish, then publish again")
        try:
            yield
        finally:
            path.unlink(missing_ok=True)  # held by us until here, so nobody else is using it

def _check_site_dir(site_dir: Path) -> None:
    """Refuse to swap away a folder that is not an earlier Gongshi site (a mistyped site_dir)."""
    if site_dir.is_dir() and any(site_dir.iterdir()) and not (site_dir / "data" / "latest.json").exists():
        raise EtlError(f"{site_dir} exists and is not a Gongshi site (no data/latest.json)",
                       hint="point paths.site_dir at an empty or new folder, or at the site "
                            "an earlier publish made")

def _publish(config: Config, log, snapshot_only: bool) -> Path:
    anchors.check_previous_site(config.site_dir, config.snapshots_dir)
    if snapshot_only:
        for stage in through("snapshot"):
            run_stage(stage.name, config, log)
        snapshot_dir = snapshot.commit(config)
        log(f"snapshot   {snapshot_dir} (site not rebuilt)")
        return snapshot_dir
    return commit_site(config, stage_site(config, log), log)

def stage_site(config: Config, log) -> Path:
    """Every stage, the leak scan and verify, into work_dir/stage/; nothing live is changed."""
    _check_site_dir(config.site_dir)
    shutil.rmtree(config.work_dir / "stage", ignore_errors=True)
    for stage in STAGES:
        result = run_stage(stage.name, config, log)
        if stage.name == "transform":
            log(review.summary(config.work_dir))
        if stage.name == "snapshot":
            write_changes(config, result)
    staged_site = config.work_dir / "stage" / "site"
    with progress.stage("scan", log, "no personal data found in the built site"):
        scan.run(staged_site, names=review.names_to_scan(config))
    with progress.stage("verify", log, "hashes, chain and every figure on the pages check out"):
        verify_site(staged_site)
    return staged_site

def commit_site(config: Config, staged_site: Path, log, receipts_dir: Path | None = None) -> Path:
    """Commit the staged snapshot, then swap the staged site in; the receipt goes to staff."""
    anchors.check_previous_site(config.site_dir, config.snapshots_dir)
    _check_site_dir(config.site_dir)
    snapshot_dir = snapshot.commit(config)
    replace_folder(staged_site, config.site_dir)
    log(f"published  {config.site_dir} (snapshot {snapshot_dir.name})")
    if kept := receipt.keep_for_staff(config.site_dir, receipts_dir or config.work_dir,
                                      snapshot_dir.name):
        log(f"receipt    {kept}: print it and file it with this publication's official papers")
    return config.site_dir

def write_changes(config: Config, staged: Path) -> Path:
    """Compare the staged snapshot with its predecessor for the "changes since last publish" page."""
    target = config.work_dir / "changes.json"
    workbook = target.with_name(diff.WORKBOOK)  # the same changes for auditors; render copies both
    previous = read_manifest(staged).get("previous")
    if previous is None:
        target.unlink(missing_ok=True)
        workbook.unlink(missing_ok=True)
        return target
    changes = diff.compare(config.snapshots_dir / previous["snapshot_id"], staged)
    target.write_bytes(canonical_json(changes))
    diff.write_workbook(changes, workbook, language=config.language)
    return target

def verify_site(site: Path, public_key: Path | None = None, *, rebuild: bool = False,
                known_heads=(), tsa_certificate: Path | None = None) -> list[str]:
    """Verify a built site (or a snapshots_dir), re-deriving its figures with the metrics stage.

    `public_key` (obtained out of band) checks the signatures instead of the site's own copy.
    With `rebuild`, the site is rebuilt from its snapshots (render and build, as `publish` runs
    them) and compared file by file. `publish` leaves it off: the staged site was just built
    from the very same inputs. Returns verify's notes (a different build environment).
    """
    return verify.run(site, derive=metrics.derive, public_key=public_key,
                      rebuild=rebuild_site if rebuild else None, known_heads=known_heads,
                      tsa_certificate=tsa_certificate)

def rebuild_site(snapshot_dirs: list[Path], folder: Path) -> Path:
    """The site the newest snapshot's build record describes, built again under `folder`."""
    config = rebuild.prepare(snapshot_dirs, folder)
    write_changes(config, Path(snapshot_dirs[-1]))
    for name in ("render", "build"):
        stage(name).run(config)
    return config.work_dir / "stage" / "site"

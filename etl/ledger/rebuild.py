"""Rebuild a site's inputs from its snapshots alone, and compare two built sites file by file.

`verify` uses both: `prepare` lays out a work dir exactly as the stages before render leave it
(the newest snapshot's tables and metrics.json; the CLI then writes changes.json the way
`publish` does), with a config made from the snapshot's build record; `compare_trees` lists
every file that was added, is missing or differs, with the first differing text of a page;
`check` runs both for `verify`. When the build record names another Gongshi or other
packages than this machine's, that is a note, not a failure: only if files differ is it
listed beside them, saying to install the recorded versions before reading them as edits.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

from etl.config import Config
from etl.ledger import build_record

# The snapshot files that stand in for the work dir's: where the stages before render put them.
WORK_FILES = {"issues.csv": "tables/issues.csv", "feedback.csv": "tables/feedback.csv",
              "metrics.json": "metrics.json"}
TEXT_SUFFIXES = {".html", ".md", ".svg", ".js", ".css", ".json", ".xml", ".txt", ".csv",
                 ".yml", ".pub", ".minisig", ".map"}
EXCERPT = 60  # characters of text shown either side of the first difference


def prepare(snapshot_dirs: list[Path], folder: Path) -> Config:
    """A work dir under `folder` holding what render reads, taken from the newest snapshot.

    The snapshots are rendered from where they are (`snapshot_dirs[-1].parent`), so the site
    carries the very folders it was checked against. Raises ValueError without a build record.
    """
    head = Path(snapshot_dirs[-1])
    record = build_record.read(head)
    if record is None:
        raise ValueError(f"{head / build_record.FILE_NAME} is missing")
    config = build_record.config_from(record, folder, snapshots_dir=head.parent)
    for name, target in WORK_FILES.items():
        source = head / name
        if source.is_file():
            destination = config.work_dir / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
    return config


def _files(root: Path) -> dict[str, Path]:
    return {path.relative_to(root).as_posix(): path
            for path in sorted(root.rglob("*")) if path.is_file()}


def compare_trees(site: Path, rebuilt: Path) -> list[str]:
    """One line per file that differs between a site and its rebuild, named by its path."""
    shown, made = _files(Path(site)), _files(Path(rebuilt))
    problems = []
    for name in sorted(set(shown) | set(made)):
        if name not in made:
            problems.append(f"{name}: in the site but not made by the rebuild (an added file)")
        elif name not in shown:
            problems.append(f"{name}: made by the rebuild but missing from the site (a removed "
                            "file)")
        else:
            difference = first_difference(shown[name].read_bytes(), made[name].read_bytes(),
                                          text=shown[name].suffix.lower() in TEXT_SUFFIXES)
            if difference:
                problems.append(f"{name}: differs from the rebuild: {difference}")
    return problems


def first_difference(site: bytes, rebuilt: bytes, *, text: bool) -> str | None:
    """None when equal; else where they first differ, with the text there for a text file."""
    if site == rebuilt:
        return None
    if not text:
        return f"{len(site)} bytes in the site, {len(rebuilt)} in the rebuild"
    ours = site.decode("utf-8", "replace").split("\n")
    theirs = rebuilt.decode("utf-8", "replace").split("\n")
    line = next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b),
                min(len(ours), len(theirs)))
    a = ours[line] if line < len(ours) else ""
    b = theirs[line] if line < len(theirs) else ""
    column = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, column - EXCERPT)
    if line >= len(ours) or line >= len(theirs):
        which = "the site" if line >= len(ours) else "the rebuild"
        return f"line {line + 1}: {which} ends here, the other goes on"
    return (f"line {line + 1}: the site has {_excerpt(a, start)!r}, "
            f"the rebuild has {_excerpt(b, start)!r}")


def _excerpt(text: str, start: int) -> str:
    piece = text[start:start + 2 * EXCERPT]
    return ("…" if start else "") + piece + ("…" if start + 2 * EXCERPT < len(text) else "")


def check(site_dir: Path, ordered: list[Path], rebuild: Callable,
          problems: list[str]) -> list[str]:
    """Rebuild the site from its snapshots in a temporary folder and compare every file.

    Appends each added, missing or changed file to problems; returns notes on how this
    machine's Gongshi and packages differ from those the build record names.
    """
    head = ordered[-1]
    record_path = head / build_record.FILE_NAME
    try:
        record = build_record.read(head)
    except (ValueError, UnicodeDecodeError) as error:
        problems.append(f"{record_path}: unreadable build record ({error})")
        return []
    if record is None:
        problems.append(f"{record_path}: missing, so the site cannot be rebuilt to compare (the "
                        "newest snapshot was made before Gongshi recorded its builds); publish "
                        "again to record one, or check the rest alone with --no-rebuild")
        return []
    notes = build_record.environment_notes(record)
    with tempfile.TemporaryDirectory(prefix="gongshi-rebuild-") as folder:
        try:
            rebuilt = rebuild(ordered, Path(folder))
        except Exception as error:  # noqa: BLE001 - whatever breaks the rebuild is reported
            problems.append(f"could not rebuild the site from {head}: {error.__class__.__name__}: "
                            f"{getattr(error, 'message', error)}")
            return notes
        differences = compare_trees(site_dir, rebuilt)
    problems += differences
    if differences and notes:
        problems.append("the rebuild ran with another Gongshi or other packages than the "
                        f"publish ({'; '.join(notes)}): install the versions the site was built "
                        "with (that Gongshi, `pip install -r requirements.txt`) and verify "
                        "again before reading the differences above as edits")
    return notes

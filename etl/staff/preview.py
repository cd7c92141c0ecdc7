"""A preview: a publish built into work_dir/preview/, never touching the live site or snapshots.

`python -m etl preview` runs every stage, the leak scan and verify with the work dir set to
work_dir/preview/ (snapshots_dir and site_dir are only read), then records preview.json: the
config's hash, every source's hash, the live snapshot it was compared with, and the SHA-256 of
every file of the staged site and snapshot. `publish --from-preview` commits those very files,
and only when each hash still holds: a source or the config changed since (the preview no
longer shows what the sources say), another publish went live since, or a staged file was
touched, and the preview is refused as stale.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from etl.errors import EtlError, SourceError
from etl.ledger.manifests import canonical_json, chain
from etl.read.sources import read_source
from etl.site import words

FOLDER = "preview"
RECORD = "preview.json"
SHOWN_FILES = 5  # changed files named in a stale-preview error


def config_for(config):
    """The config a preview runs with: the same sources and live folders, its own work dir."""
    return config.replace(work_dir=Path(config.work_dir) / FOLDER)


def staged_site(preview_config) -> Path:
    return Path(preview_config.work_dir) / "stage" / "site"


def staged_snapshot_root(preview_config) -> Path:
    return Path(preview_config.work_dir) / "stage" / "snapshot"


def live_head(config) -> str | None:
    """The id of the newest committed snapshot, the one the live site shows."""
    committed = chain(Path(config.snapshots_dir))
    return committed[-1].name if committed else None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_hashes(folder: Path, prefix: str) -> dict[str, str]:
    """prefix/relative path -> SHA-256 of every file under folder."""
    return {f"{prefix}/{path.relative_to(folder).as_posix()}": _sha256_file(path)
            for path in sorted(folder.rglob("*")) if path.is_file()}


def _staged_files(preview_config) -> dict[str, str]:
    return {**tree_hashes(staged_site(preview_config), "site"),
            **tree_hashes(staged_snapshot_root(preview_config), "snapshot")}


def _source_hashes(source, preview_config) -> list[str]:
    """The SHA-256 of the raw bytes of a source, read as extract reads it."""
    if source.path is not None:
        return [_sha256_file(source.path)]
    return sorted(table.meta["sha256"] for table in read_source(source, preview_config))


def _recorded_sources(preview_config) -> list[dict]:
    entries = json.loads((Path(preview_config.work_dir) / "extract" / "sources.json")
                         .read_text(encoding="utf-8"))
    result = []
    for source in preview_config.sources:
        hashes = sorted(entry["sha256"] for entry in entries if entry["name"] == source.name)
        result.append({"name": source.name,
                       "path": str(source.path) if source.path is not None else None,
                       "sha256": hashes})
    return result


def record(config, preview_config, live_snapshot: str | None) -> Path:
    """Write preview.json once the preview is built, scanned and verified."""
    snapshots = [p.name for p in staged_snapshot_root(preview_config).iterdir() if p.is_dir()]
    data = {
        "config": {"path": str(Path(config.path).resolve()),
                   "sha256": _sha256_file(Path(config.path))},
        "live_snapshot": live_snapshot,
        "snapshot_id": snapshots[0] if len(snapshots) == 1 else None,
        "sources": _recorded_sources(preview_config),
        "files": _staged_files(preview_config),
    }
    path = Path(preview_config.work_dir) / RECORD
    path.write_bytes(canonical_json(data))
    return path


def forget(preview_config) -> None:
    """A stale or half-made preview must never be committed: drop its record first."""
    (Path(preview_config.work_dir) / RECORD).unlink(missing_ok=True)


def _stale_sources(recorded: list[dict], preview_config, text: dict) -> list[str]:
    problems = []
    configured = {source.name: source for source in preview_config.sources}
    for entry in recorded:
        source = configured.get(entry["name"])
        if source is None:
            continue  # the config changed, which is reported on its own
        if entry["path"] is not None:
            source = dataclasses.replace(source, path=Path(entry["path"]))
        try:
            now = _source_hashes(source, preview_config)
        except (OSError, SourceError) as error:
            message = error.render() if isinstance(error, EtlError) else str(error)
            problems.append(text["stale_source_gone"].format(name=entry["name"],
                                                              error=message.splitlines()[0]))
            continue
        if now != entry["sha256"]:
            where = entry["path"] or "URL"
            problems.append(text["stale_source"].format(name=entry["name"], where=where))
    return problems


def check(config):
    """The preview's config when its record still holds for every hash; EtlError listing why not."""
    preview_config = config_for(config)
    text = words.section("staff_summary", config.language)
    path = Path(preview_config.work_dir) / RECORD
    if not path.is_file():
        raise EtlError(text["no_preview"].format(folder=preview_config.work_dir),
                       hint=text["no_preview_hint"].format(config=config.path))
    recorded = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    config_path = str(Path(config.path).resolve())
    if recorded["config"]["path"] != config_path:
        problems.append(text["stale_config_path"].format(recorded=recorded["config"]["path"],
                                                         path=config_path))
    elif _sha256_file(Path(config.path)) != recorded["config"]["sha256"]:
        problems.append(text["stale_config"].format(path=config_path))
    problems += _stale_sources(recorded["sources"], preview_config, text)
    current = live_head(config)
    if current != recorded["live_snapshot"]:
        problems.append(text["stale_live"].format(recorded=recorded["live_snapshot"] or "-",
                                                  current=current or "-"))
    files = _staged_files(preview_config)
    touched = sorted(name for name in set(files) | set(recorded["files"])
                     if files.get(name) != recorded["files"].get(name))
    if touched:
        shown = ", ".join(touched[:SHOWN_FILES]) + (" …" if len(touched) > SHOWN_FILES else "")
        problems.append(text["stale_files"].format(files=shown))
    if problems:
        raise EtlError(text["stale_heading"].format(preview=recorded.get("snapshot_id"))
                       + "".join(f"\n  - {problem}" for problem in problems),
                       hint=text["stale_hint"].format(config=config.path))
    return preview_config

"""Immutable, hash-chained snapshots: canonical tables, datapackage.json and a manifest per publish."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd

from etl import __version__, schema
from etl.ledger import build_record, manifests
from etl.ledger import removals, tables, timestamps
from etl.ledger.manifests import (MANIFEST, SIGNATURE, canonical_json, chain, locked, manifest_hash,
                           read_manifest, sha256_hex)
from etl.config import Removals
from etl.errors import SnapshotError
from etl.ledger.files import stage_beside
from etl.site import words

TABLE_NAMES = ("issues", "feedback")
TOOL = f"gongshi {__version__}"
DATAPACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
# Frictionless type names match etl.schema's, so a field's type is passed through unchanged.
FRICTIONLESS_TYPES = {"string": "string", "integer": "integer", "number": "number",
                      "date": "date", "boolean": "boolean"}


def _published_columns(path: Path, table: str) -> list[str]:
    header = tables.read_header(path)
    unknown = [name for name in header if name not in schema.field_names(table)]
    if unknown:
        raise SnapshotError(f"{path} has unknown columns {unknown}",
                            hint="run the transform stage again to rewrite the table")
    return header


def _load_table(work_dir: Path, table: str, config) -> tuple[pd.DataFrame, list[str]]:
    path = work_dir / "tables" / f"{table}.csv"
    if not path.is_file():
        if table == "feedback":  # feedback is optional: publish an empty table with its columns
            columns = list(config.published_fields.get("feedback", [schema.PRIMARY_KEYS[table]]))
            return pd.DataFrame({name: [] for name in columns}), columns
        raise SnapshotError(f"{path} is missing", hint="run `python -m etl transform` first")
    columns = _published_columns(path, table)
    frame = tables.read_table(path, table)
    duplicated = tables.repeated_keys(frame, table)
    if duplicated:
        key = schema.PRIMARY_KEYS[table]
        raise SnapshotError(f"{path} repeats {key} {', '.join(duplicated[:10])}",
                            hint="ids must be unique; fix the source and publish again")
    return frame, columns


def datapackage(snapshot_id: str, files: dict[str, bytes], columns: dict[str, list[str]],
                frames: dict[str, pd.DataFrame]) -> dict:
    """Frictionless Data Package v2 describing the CSV tables (types, keys, enums, hashes)."""
    resources = []
    for table in TABLE_NAMES:
        meta = {f.name: f for f in schema.TABLES[table]}
        key = schema.PRIMARY_KEYS[table]
        fields = []
        for name in columns[table]:
            field = {"name": name, "title": words.field_title(name, "zh", table),
                     "type": FRICTIONLESS_TYPES[meta[name].type]}
            constraints = {}
            if meta[name].required or name == key:
                constraints["required"] = True
            if name == key:
                constraints["unique"] = True
            if table == "issues" and name == "status":
                constraints["enum"] = list(schema.STATUSES)
            if meta[name].type == "boolean":
                field["trueValues"], field["falseValues"] = ["true"], ["false"]
            if constraints:
                field["constraints"] = constraints
            fields.append(field)
        table_schema = {"fields": fields, "primaryKey": [key], "missingValues": [""]}
        if table == "feedback" and _links_resolve(frames, columns):
            table_schema["foreignKeys"] = [{"fields": ["issue_id"], "reference": {
                "resource": "issues", "fields": ["issue_id"]}}]
        data = files[f"{table}.csv"]
        resources.append({
            "name": table, "path": f"{table}.csv", "type": "table", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8", "bytes": len(data),
            "hash": "sha256:" + sha256_hex(data), "schema": table_schema,
        })
    return {"$schema": DATAPACKAGE_PROFILE, "name": "gongshi-" + snapshot_id.lower(),
            "title": f"Gongshi snapshot {snapshot_id}", "version": snapshot_id,
            "resources": resources}


def _links_resolve(frames: dict[str, pd.DataFrame], columns: dict[str, list[str]]) -> bool:
    # The foreign key is declared only when it holds, so the published package always validates;
    # unlinked feedback (empty issue_id) is allowed by the key.
    if "issue_id" not in columns["feedback"]:
        return False
    known = set(frames["issues"]["issue_id"].dropna())
    return all(value in known for value in frames["feedback"]["issue_id"].dropna())


def build_files(config) -> tuple[dict[str, bytes], dict, dict, dict]:
    """The data files and the manifest fields that do not depend on the chain.

    Returns (files, manifest, columns, frames); `previous`, the id and datapackage.json come
    later, in `_complete`, once the chain's head is known.
    """
    work_dir = Path(config.work_dir)
    frames, columns, files = {}, {}, {}
    for table in TABLE_NAMES:
        frames[table], columns[table] = _load_table(work_dir, table, config)
        files[f"{table}.csv"] = tables.table_csv_bytes(frames[table], table, columns[table])
        files[f"{table}.json"] = tables.table_json_bytes(frames[table], table, columns[table])
    as_of = config.as_of.isoformat()
    metrics_path = work_dir / "metrics.json"
    files["metrics.json"] = _read_input(metrics_path, "metrics")
    try:
        metrics_as_of = json.loads(files["metrics.json"].decode("utf-8")).get("as_of", as_of)
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        raise SnapshotError(f"{metrics_path} is not a JSON object", hint="run `python -m etl metrics`")
    if metrics_as_of != as_of:
        raise SnapshotError(f"{metrics_path} is for {metrics_as_of}, this publish is for {as_of}",
                            hint="run `python -m etl metrics` again with the same as-of date")
    # What rebuilding this publish's site needs besides the data; hashed into the id like it.
    files[build_record.FILE_NAME] = build_record.record_bytes(
        config, _optional_json(work_dir / "validate" / "report.json"))
    sources_path = work_dir / "extract" / "sources.json"
    try:
        sources = json.loads(_read_input(sources_path, "extract").decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SnapshotError(f"{sources_path} is not JSON", hint="run `python -m etl extract` again")
    manifest = {
        "as_of": as_of, "tool": TOOL, "sources": sources,
        "row_counts": {table: len(frames[table]) for table in TABLE_NAMES},
        "files": _file_entries(files),
    }
    return files, manifest, columns, frames


def _optional_json(path: Path):
    """A JSON file's value, or None when it is missing or unreadable (the validate report)."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _file_entries(files: dict[str, bytes]) -> dict[str, dict]:
    return {name: {"sha256": sha256_hex(data), "bytes": len(data)}
            for name, data in sorted(files.items())}


def _complete(files: dict[str, bytes], manifest: dict, previous: dict | None,
              columns: dict, frames: dict) -> str:
    """Set previous and the id (manifests.snapshot_id), add datapackage.json; returns the id."""
    manifest["previous"] = previous
    # The id hashes the data and the history, not the package description, which names the id.
    snapshot_id = manifests.snapshot_id(manifest)
    files["datapackage.json"] = canonical_json(datapackage(snapshot_id, files, columns, frames))
    manifest["files"] = _file_entries(files)
    manifest["snapshot_id"] = snapshot_id
    return snapshot_id


def _read_input(path: Path, stage: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SnapshotError(f"{path} is missing", hint=f"run `python -m etl {stage}` first")


def _same_files(folder_a: Path, folder_b: Path) -> bool:
    """Byte-equal folders, ignoring signatures and timestamp tokens (a rerun without the key or
    the authority is still the same data)."""
    def listing(folder: Path) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
                if p.is_file() and p.name not in (SIGNATURE, timestamps.TIMESTAMP)}
    return listing(folder_a) == listing(folder_b)


def staging_dir(config) -> Path:
    return Path(config.work_dir) / "stage" / "snapshot"


def run(config) -> Path:
    """Stage this publish's snapshot under work_dir/stage/snapshot/<id>/ and return that folder.

    Only a publish whose content equals the newest snapshot's is a rerun (the same id, a no-op
    commit); anything else, even inputs equal to an older snapshot's, is a new snapshot after
    the newest one.
    """
    snapshots_dir = Path(config.snapshots_dir)
    _clear_incoming(snapshots_dir)
    files, manifest, columns, frames = build_files(config)
    committed = chain(snapshots_dir)
    previous, removed = None, None
    if committed:
        head = committed[-1]
        head_manifest = read_manifest(head)
        rerun_previous = head_manifest.get("previous")
        rerun = {**manifest, "previous": rerun_previous}
        if "removals" in head_manifest:
            rerun["removals"] = head_manifest["removals"]
        if manifests.snapshot_id(rerun) == head.name:
            previous = rerun_previous  # a rerun of the newest publish keeps its own previous
            removed = head_manifest.get("removals")  # allowed when it was made; nothing new
        else:
            head_as_of = head_manifest.get("as_of", "")
            if manifest["as_of"] < head_as_of:
                raise SnapshotError(
                    f"as-of date {manifest['as_of']} is before the newest snapshot {head.name} "
                    f"in {snapshots_dir}", hint="publish with an as-of date on or after "
                    f"{head_as_of}; history cannot be rewritten")
            previous = {"snapshot_id": head.name, "manifest_sha256": manifest_hash(head)}
            # Before anything is staged: a publish that drops published items stops here.
            removed = removals.check(removals.find(head, frames),
                                     getattr(config, "removals", None) or Removals(),
                                     head.name, getattr(config, "language", "zh"))
    if removed:
        # Only then, so other manifests keep their bytes; inside the id (manifests.content_hash).
        manifest["removals"] = removed
    snapshot_id = _complete(files, manifest, previous, columns, frames)
    files[MANIFEST] = canonical_json(manifest)
    existing = snapshots_dir / snapshot_id

    stage_root = staging_dir(config)
    if stage_root.exists():
        shutil.rmtree(stage_root)
    staged = stage_root / snapshot_id
    staged.mkdir(parents=True)
    for name, data in files.items():
        (staged / name).write_bytes(data)
    if existing.exists():
        if not _same_files(staged, existing):
            raise SnapshotError(
                f"{existing} already exists with different content",
                hint="snapshots are immutable; restore that folder from a backup or the published "
                     "site, or find what changed the inputs of a publish that was already made")
        shutil.rmtree(staged)
        shutil.copytree(existing, staged)
    elif getattr(config, "minisign_key", None):
        sign(staged / MANIFEST, config)
    if not existing.exists() and config.timestamp.url:
        timestamps.stamp(staged / MANIFEST, config)  # outside the id: the id stays the content's
    return staged


def _clear_incoming(snapshots_dir: Path) -> None:
    """Remove `.incoming-<id>` copies left by a commit interrupted between copy and rename."""
    if not snapshots_dir.is_dir():
        return
    with locked(snapshots_dir):
        for leftover in sorted(snapshots_dir.glob(".incoming-*")):
            if leftover.is_dir():
                shutil.rmtree(leftover)
            else:
                leftover.unlink()


def sign(manifest_path: Path, config) -> Path:
    """Sign manifest.json with minisign; the trusted comment is fixed so reruns give equal bytes."""
    binary = shutil.which("minisign")
    if binary is None:
        raise SnapshotError("signing is configured but the minisign program is not installed",
                            hint="apt-get install minisign, or remove signing.minisign_key")
    key = Path(config.minisign_key)
    if not key.is_file():
        raise SnapshotError(f"minisign key {key} not found", hint="fix signing.minisign_key")
    password = ""
    if config.minisign_password_env:
        password = os.environ.get(config.minisign_password_env, "")
        if not password:
            raise SnapshotError(f"environment variable {config.minisign_password_env} is empty",
                                hint="export the key's password in it, or unset "
                                     "signing.password_env for a key without password")
    signature = manifest_path.with_name(SIGNATURE)
    comment = f"gongshi snapshot {manifest_path.parent.name}"
    result = subprocess.run(
        [binary, "-S", "-s", str(key), "-m", str(manifest_path), "-x", str(signature),
         "-t", comment, "-c", comment],
        input=(password + "\n").encode() if password else b"", capture_output=True, timeout=60)
    if result.returncode != 0 or not signature.is_file():
        message = result.stderr.decode("utf-8", "replace").strip()
        raise SnapshotError(f"minisign could not sign {manifest_path}: {message}",
                            hint="check the key file and its password variable")
    # The site publishes the .pub beside the key; a mismatched pair must fail here, not in verify.
    public = manifests.public_key(config)
    if public is None:
        raise SnapshotError(f"the public key {manifests.public_key_path(key)} is missing",
                            hint="keep the key pair together: minisign.key and minisign.pub")
    check = subprocess.run([binary, "-V", "-q", "-p", str(public), "-m", str(manifest_path),
                            "-x", str(signature)], capture_output=True, timeout=60)
    if check.returncode != 0:
        raise SnapshotError(f"the signature made with {key} does not verify against {public}",
                            hint="the two files are not one key pair; put the matching "
                                 "minisign.pub beside the key")
    return signature


def commit(config) -> Path:
    """Move the staged snapshot into snapshots_dir by rename; a no-op if it is already there.

    The check that the staged snapshot follows the newest one and the rename happen under the
    snapshots_dir lock, so two publishes committing at once cannot fork the chain.
    """
    stage_root = staging_dir(config)
    staged = sorted(p for p in stage_root.iterdir() if p.is_dir()) if stage_root.is_dir() else []
    if len(staged) != 1:
        raise SnapshotError(f"expected one staged snapshot in {stage_root}, found {len(staged)}",
                            hint="run `python -m etl snapshot` (or the whole publish) again")
    source = staged[0]
    snapshots_dir = Path(config.snapshots_dir)
    target = snapshots_dir / source.name
    with locked(snapshots_dir):
        if target.exists():
            if not _same_files(source, target):
                raise SnapshotError(f"{target} already exists with different content",
                                    hint="snapshots are immutable; restore it from a backup")
            shutil.rmtree(source)
            return target
        previous = read_manifest(source).get("previous")
        committed = chain(snapshots_dir)
        head = committed[-1].name if committed else None
        if (previous or {}).get("snapshot_id") != head:
            follows = (previous or {}).get("snapshot_id")
            raise SnapshotError(f"the staged snapshot {source.name} follows {follows}, "
                                f"but the newest in {snapshots_dir} is now {head}",
                                hint="another publish committed meanwhile; run the publish again")
        # A copy left by an interrupted cross-file-system move is skipped by chain() and
        # cleared by run().
        stage_beside(source, target).rename(target)
    return target

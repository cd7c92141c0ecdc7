"""Snapshot manifests: canonical JSON, hashes, and the hash-checked chain of snapshots."""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

from etl.errors import SnapshotError

MANIFEST = "manifest.json"
SIGNATURE = "manifest.json.minisig"
LOCK = ".lock"
# 64 bits of the content hash: a second preimage for a given id is out of reach, unlike 32 bits.
ID_HASH_LENGTH = 16
# Files outside the id's hash: the manifest itself, and datapackage.json, which names the id.
NOT_IN_ID = ("datapackage.json", MANIFEST)


def canonical_json(value) -> bytes:
    """The one JSON spelling used for every file we hash, so equal data gives equal bytes."""
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1, default=_plain)
            + "\n").encode("utf-8")


def _plain(value):
    """Read-only mappings (the frozen config's) are written as the mappings they are."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(directory: Path) -> dict:
    """The parsed manifest.json of a snapshot folder; SnapshotError if missing or not JSON."""
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"{path} is missing", hint="a snapshot folder must hold manifest.json; "
                            "restore it from the published site or a backup")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SnapshotError(f"{path} is not valid JSON ({error})",
                            hint="restore the file from the published site or a backup")
    if not isinstance(manifest, dict) or "snapshot_id" not in manifest:
        raise SnapshotError(f"{path} has no snapshot_id", hint="restore the file from a backup")
    return manifest


def manifest_hash(directory: Path) -> str:
    return sha256_hex((Path(directory) / MANIFEST).read_bytes())


def content_hash(manifest: dict) -> str:
    """SHA-256 of what a snapshot's id stands for: its data files, sources, counts and previous.

    Taken from the manifest's own fields, so `snapshot` computes it before naming the id and
    `verify` recomputes it from a published manifest. `previous` is part of it: a publish that
    restores older inputs gets a new id instead of colliding with that older snapshot.
    """
    files = manifest["files"]
    covered = {
        "as_of": manifest["as_of"], "tool": manifest["tool"], "sources": manifest["sources"],
        "row_counts": manifest["row_counts"], "previous": manifest["previous"],
        "files": {name: entry["sha256"] for name, entry in sorted(files.items())
                  if name not in NOT_IN_ID},
    }
    if "removals" in manifest:
        # The reason staff gave for dropping items: an edit to it must change the id too. Only
        # manifests that removed items carry it, so every other id stays as it was.
        covered["removals"] = manifest["removals"]
    return sha256_hex(canonical_json(covered))


def snapshot_id(manifest: dict) -> str:
    """`<as_of>-<first ID_HASH_LENGTH hex of content_hash>`: the id a manifest must carry."""
    return f"{manifest['as_of']}-{content_hash(manifest)[:ID_HASH_LENGTH]}"


def public_key_path(secret_key: Path) -> Path:
    """Where the public half of a minisign key lives: minisign.key -> minisign.pub beside it."""
    return Path(secret_key).with_suffix(".pub")


def public_key(config) -> Path | None:
    """The public half of the configured signing key, if signing is on and the file exists.

    The render stage copies it to data/minisign.pub so `verify` checks the signatures.
    """
    key = getattr(config, "minisign_key", None)
    if not key:
        return None
    candidate = public_key_path(key)
    return candidate if candidate.is_file() else None


@contextmanager
def locked(snapshots_dir: Path):
    """Hold an exclusive lock on snapshots_dir/.lock, so two commits cannot both add a head."""
    snapshots_dir = Path(snapshots_dir)
    snapshots_dir.mkdir(parents=True, exist_ok=True)
    with (snapshots_dir / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def chain(snapshots_dir: Path) -> list[Path]:
    """Snapshot folders oldest to newest by their `previous` links; SnapshotError if broken.

    Names starting with "." are not snapshots: the commit lock, and `.incoming-<id>` copies
    that an interrupted commit may leave behind.
    """
    snapshots_dir = Path(snapshots_dir)
    if not snapshots_dir.is_dir():
        return []
    folders = sorted(p for p in snapshots_dir.iterdir()
                     if not p.name.startswith(".") and (p / MANIFEST).is_file())
    manifests = {folder.name: read_manifest(folder) for folder in folders}
    return [snapshots_dir / name for name in order_chain(manifests, snapshots_dir,
                                                         hash_of=lambda n: manifest_hash(snapshots_dir / n),
                                                         error=SnapshotError)]


def order_chain(manifests: dict[str, dict], where: Path, *, hash_of, error) -> list[str]:
    """Order snapshot ids by `previous`, checking each link's hash; shared with verify."""
    hint = ("restore the missing or edited snapshot from the published site or a backup; "
            "snapshots are never edited or deleted")
    problems = []
    children: dict[str, list[str]] = {}
    for name, manifest in manifests.items():
        if manifest.get("snapshot_id") != name:
            problems.append(f"folder {name} holds manifest of {manifest.get('snapshot_id')!r}")
        previous = manifest.get("previous")
        if previous is None:
            continue
        parent = previous.get("snapshot_id") if isinstance(previous, dict) else None
        if parent not in manifests:
            problems.append(f"{name} names previous {parent!r}, which is not in {where}")
            continue
        children.setdefault(parent, []).append(name)
        if previous.get("manifest_sha256") != hash_of(parent):
            problems.append(f"{name} records a hash of {parent}/manifest.json that does not match "
                            "the file (the older manifest was edited)")
    for parent, kids in sorted(children.items()):
        if len(kids) > 1:
            problems.append(f"fork: {', '.join(sorted(kids))} all name {parent} as previous")
    heads = sorted(name for name in manifests if name not in children)
    if manifests and len(heads) != 1:
        problems.append(f"{len(heads)} chain heads ({', '.join(heads) or 'none'}); expected one")
    if problems:
        raise error(f"broken chain in {where}: " + "; ".join(problems), hint=hint)
    ordered: list[str] = []
    current = heads[0] if heads else None
    while current is not None:
        ordered.append(current)
        previous = manifests[current].get("previous")
        current = previous["snapshot_id"] if previous else None
        if current in ordered:
            raise error(f"broken chain in {where}: a loop through {current}", hint=hint)
    if len(ordered) != len(manifests):
        stray = sorted(set(manifests) - set(ordered))
        raise error(f"broken chain in {where}: {', '.join(stray)} not reachable from the head "
                    f"{heads[0]}", hint=hint)
    return list(reversed(ordered))

"""Anchors outside the site: snapshot heads an auditor or the office recorded elsewhere.

A chain that checks out link by link proves only that it is consistent: whoever rewrites it
from an old snapshot can recompute every hash, id and folder name. What pins the history is a
head recorded where the rewriter cannot reach: a printed receipt filed with the office's
official papers, an auditor's notes, the site a publish replaces. The chain must still contain
every such head, with the manifest hash recorded for it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from etl.errors import ConfigError, SnapshotError
from etl.ledger.manifests import MANIFEST, chain, manifest_hash

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class KnownHead:
    """A snapshot id recorded outside the site, and the manifest's SHA-256 if recorded too."""

    snapshot_id: str
    manifest_sha256: str = ""
    where: str = "--known-head"


def parse_known_head(text: str, where: str = "--known-head") -> KnownHead:
    """`ID`, or `ID SHA256` / `ID:SHA256` as the receipt's QR code and known-heads files hold it."""
    parts = text.strip().replace(":", " ").split()
    if not parts or len(parts) > 2 or not re.fullmatch(r"[0-9A-Za-z._-]+", parts[0]):
        raise ConfigError([f"{where}: {text.strip()!r} is not a snapshot id, optionally "
                           "followed by its manifest SHA-256"])
    sha = parts[1].lower() if len(parts) == 2 else ""
    if sha and not _SHA256.fullmatch(sha):
        raise ConfigError([f"{where}: {parts[1]!r} is not a SHA-256 (64 hex digits)"])
    return KnownHead(parts[0], sha, where)


def read_known_heads(path: Path) -> list[KnownHead]:
    """One head a line (`ID` or `ID SHA256`); blank lines and `#` comments are skipped."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (FileNotFoundError, UnicodeDecodeError) as error:
        raise ConfigError([f"--known-heads: cannot read {path} ({error.__class__.__name__})"])
    heads = []
    for number, line in enumerate(lines, start=1):
        text = line.split("#", 1)[0].strip()
        if text:
            heads.append(parse_known_head(text, where=f"{path}, line {number}"))
    return heads


def check_known_heads(ordered: list[Path], heads: list[KnownHead], problems: list[str]) -> None:
    """Every known head must be in the chain (so the newest snapshot descends from it)."""
    by_name = {folder.name: folder for folder in ordered}
    for head in heads:
        folder = by_name.get(head.snapshot_id)
        if folder is None:
            problems.append(
                f"known head {head.snapshot_id} ({head.where}) is not in the chain: the history "
                "was rewritten after it, or that snapshot is missing; do not trust this site "
                "until the snapshot is restored from a backup or the published record")
            continue
        if head.manifest_sha256 and manifest_hash(folder) != head.manifest_sha256:
            problems.append(
                f"known head {head.snapshot_id} ({head.where}): {folder.name}/{MANIFEST} has "
                f"SHA-256 {manifest_hash(folder)}, not the recorded {head.manifest_sha256}: "
                "the snapshot was rewritten under its id")


def previous_site_head(site_dir: Path) -> tuple[str, str] | None:
    """(snapshot id, manifest SHA-256) of the newest snapshot the current site carries."""
    data_dir = Path(site_dir) / "data"
    try:
        head = json.loads((data_dir / "latest.json").read_text(encoding="utf-8"))["snapshot_id"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError):
        return None
    carried = data_dir / "snapshots" / str(head)
    return str(head), manifest_hash(carried) if (carried / MANIFEST).is_file() else ""


def check_previous_site(site_dir: Path, snapshots_dir: Path) -> None:
    """Refuse to build on a chain that lacks the head the site being replaced published.

    The published site is the last record the public saw; a snapshots_dir rewritten since
    (from an old snapshot, with every hash recomputed) no longer contains its head.
    """
    recorded = previous_site_head(site_dir)
    if recorded is None:
        return
    head, sha = recorded
    folders = {folder.name: folder for folder in chain(snapshots_dir)}
    hint = ("restore snapshots_dir from a backup or from the published site's data/snapshots/; "
            "snapshots are never rewritten or deleted")
    if head not in folders:
        raise SnapshotError(f"{snapshots_dir} does not contain {head}, the newest snapshot of "
                            f"the published site {site_dir}: the chain was rewritten or that "
                            "snapshot is missing", hint=hint)
    if sha and manifest_hash(folders[head]) != sha:
        raise SnapshotError(f"{folders[head] / MANIFEST} differs from the published site's copy "
                            f"({Path(site_dir) / 'data' / 'snapshots' / head / MANIFEST}): the "
                            "snapshot was rewritten under its id", hint=hint)

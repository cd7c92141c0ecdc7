"""The province's witness record: its own hash-chained snapshot of every member's verified head.

Each federation writes snapshots_dir/<id>/ in the snapshot layout (manifest.json with
`previous`, file hashes and the id from manifests.snapshot_id): members.json and members.csv
(one row per member: state, head id, manifest SHA-256, figures) and metrics.json (the figures
the province pages show). The manifest's `sources` name every member's head id and manifest
hash, so they are part of the id. A county that later rewrites its history cannot also rewrite
this record, published on another machine: the next federation finds the recorded head missing
from the county's chain, or its manifest changed, and says so.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

from etl import __version__, verify
from etl.errors import SnapshotError
from etl.federation.check import COUNTS, KEYS, RATES
from etl.ledger import manifests
from etl.ledger.files import stage_beside
from etl.ledger.manifests import MANIFEST, canonical_json, chain, locked, manifest_hash, read_manifest
from etl.metrics import ratio

TOOL = f"gongshi {__version__} federation"
MEMBERS_JSON, MEMBERS_CSV, METRICS = "members.json", "members.csv", "metrics.json"
# States a member can be in. An unreachable or rejected member keeps the figures of its last
# verified head, if it ever had one.
STATES = ("current", "stale", "unreachable", "rejected")
CSV_COLUMNS = ("name", "state", "site", "snapshot_id", "manifest_sha256", "as_of",
               "verified_on") + KEYS


def slug(name: str) -> str:
    """Stable ASCII id of a member for figure keys and anchors; depends on the name alone."""
    return "m-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def previous_members(snapshots_dir: Path) -> dict[str, dict]:
    """The members' records in the province's newest snapshot, by name; {} before the first.

    The province's own chain is checked first (files, ids, links): a witness whose record was
    edited cannot witness anything, so a broken chain stops the federation.
    """
    ordered = chain(snapshots_dir)
    if not ordered:
        return {}
    problems: list[str] = []
    verify.check_store(snapshots_dir, problems)
    if problems:
        raise SnapshotError(f"the province's own record in {snapshots_dir} fails its checks: "
                            + "; ".join(problems[:10]),
                            hint="restore snapshots_dir from a backup or from the province "
                                 "site's data/snapshots/; records are never edited")
    data = json.loads((ordered[-1] / MEMBERS_JSON).read_text(encoding="utf-8"))
    return {entry["name"]: entry for entry in data}


def figures(records: list[dict]) -> dict:
    """Every figure the province pages show: each member's own, and the province totals.

    A count is the sum over the members whose figures are known; a rate is recomputed from
    the summed numerator and denominator (members where the numerator is unknown left out of
    both), never averaged from the members' rates.
    """
    known = [r for r in records if r.get("figures")]
    result: dict[str, float | int | None] = {"province.members": len(records),
                                             "province.members_verified": len(known)}
    for key in COUNTS:
        values = [r["figures"][key] for r in known if r["figures"].get(key) is not None]
        result[f"province.{key}"] = sum(values) if values else None
    for key, (numerator, denominator) in RATES.items():
        pairs = [(r["figures"][numerator], r["figures"][denominator] or 0) for r in known
                 if r["figures"].get(numerator) is not None]
        result[f"province.{key}"] = ratio(sum(n for n, _ in pairs), sum(d for _, d in pairs)) \
            if pairs else None
    for entry in known:
        for key in KEYS:
            result[f"member.{entry['slug']}.{key}"] = entry["figures"].get(key)
    return dict(sorted(result.items()))


def _csv_bytes(records: list[dict]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for record in records:
        head = record.get("head") or {}
        values = record.get("figures") or {}
        row = [record["name"], record["state"], record["site"], head.get("snapshot_id"),
               head.get("manifest_sha256"), head.get("as_of"), record.get("verified_on")]
        row += [values.get(key) for key in KEYS]
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue().encode("utf-8")


def stage(province, records: list[dict], values: dict) -> Path:
    """Write this federation's record to work_dir/stage/snapshot/<id>/; a rerun keeps its id."""
    snapshots_dir = Path(province.snapshots_dir)
    data = {MEMBERS_JSON: canonical_json(records), MEMBERS_CSV: _csv_bytes(records),
            METRICS: canonical_json({"as_of": province.as_of.isoformat(), "figures": values})}
    manifest = {
        "kind": "federation", "as_of": province.as_of.isoformat(), "tool": TOOL,
        "sources": [{"name": r["name"], "site": r["site"],
                     "snapshot_id": (r.get("head") or {}).get("snapshot_id"),
                     "manifest_sha256": (r.get("head") or {}).get("manifest_sha256")}
                    for r in records],
        "row_counts": {"members": len(records)},
        "files": {name: {"sha256": manifests.sha256_hex(body), "bytes": len(body)}
                  for name, body in sorted(data.items())},
    }
    committed = chain(snapshots_dir)
    previous = None
    if committed:
        head = committed[-1]
        head_manifest = read_manifest(head)
        rerun = head_manifest.get("previous")
        if manifests.snapshot_id({**manifest, "previous": rerun}) == head.name:
            previous = rerun  # the same record again: the same id, nothing new to commit
        elif manifest["as_of"] < head_manifest.get("as_of", ""):
            raise SnapshotError(f"as-of date {manifest['as_of']} is before the province's newest "
                                f"record {head.name}", hint="federate with an as-of date on or "
                                f"after {head_manifest.get('as_of')}; the record is never rewritten")
        else:
            previous = {"snapshot_id": head.name, "manifest_sha256": manifest_hash(head)}
    manifest["previous"] = previous
    manifest["snapshot_id"] = manifests.snapshot_id(manifest)
    root = Path(province.work_dir) / "stage" / "snapshot"
    if root.exists():
        shutil.rmtree(root)
    folder = root / manifest["snapshot_id"]
    folder.mkdir(parents=True)
    for name, body in data.items():
        (folder / name).write_bytes(body)
    (folder / MANIFEST).write_bytes(canonical_json(manifest))
    return folder


def commit(province, staged: Path) -> Path:
    """Move the staged record into snapshots_dir by rename, under the lock; a rerun is a no-op."""
    snapshots_dir = Path(province.snapshots_dir)
    target = snapshots_dir / staged.name
    with locked(snapshots_dir):
        if target.exists():
            shutil.rmtree(staged)
            return target
        follows = (read_manifest(staged).get("previous") or {}).get("snapshot_id")
        committed = chain(snapshots_dir)
        head = committed[-1].name if committed else None
        if follows != head:
            raise SnapshotError(f"the staged record {staged.name} follows {follows}, but the "
                                f"newest in {snapshots_dir} is now {head}",
                                hint="another federation committed meanwhile; run it again")
        stage_beside(staged, target).rename(target)
    return target

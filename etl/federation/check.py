"""Verify a member's pulled chain with verify.run, and recompute its figures from its tables.

Nothing a member says about itself is taken on its word: verify checks every file hash, id,
link, row count and CSV/JSON pair, the signature (with the key the province was given), that
the chain still holds the head the province recorded last time, and that the head's
metrics.json equals what its tables re-derive. The figures the province shows are those
re-derived ones (metrics.derive), never the member's metrics.json.

`check` runs in a worker process (plain arguments and a plain dict back, so it pickles), so
two members' chains are verified on two cores while the threads go on fetching.
"""

from __future__ import annotations

import json
from pathlib import Path

from etl import metrics, verify
from etl.errors import EtlError
from etl.ledger import anchors
from etl.ledger.manifests import MANIFEST, manifest_hash

# What the province keeps of each member: counts it sums, and the rates it recomputes from
# them (numerator, denominator), so every province figure is a sum or a ratio of sums.
COUNTS = ("issues.total", "issues.done", "issues.overdue", "issues.done_on_time",
          "issues.done_with_deadline", "feedback.total", "feedback.replied",
          "satisfaction.scored", "satisfaction.satisfied")
RATES = {"rate.completion": ("issues.done", "issues.total"),
         "rate.on_time": ("issues.done_on_time", "issues.done_with_deadline"),
         "rate.reply": ("feedback.replied", "feedback.total"),
         "rate.satisfaction": ("satisfaction.satisfied", "satisfaction.scored")}
KEYS = COUNTS + tuple(RATES)


def check(store: str, public_key: str | None, recorded: dict | None, where: str) -> dict:
    """{"ok": True, "head", "manifest_sha256", "as_of", "snapshots", "figures"} or
    {"ok": False, "problems": [...]}; `recorded` is the head the province holds as known."""
    derived: list[dict] = []
    ordered: list[Path] = []

    def derive(snapshot_dirs: list[Path]) -> dict:
        ordered.extend(snapshot_dirs)
        derived.append(metrics.derive(snapshot_dirs))
        return derived[-1]

    known = []
    if recorded and recorded.get("snapshot_id"):
        known.append(anchors.KnownHead(recorded["snapshot_id"],
                                       recorded.get("manifest_sha256") or "", where))
    try:
        verify.run(Path(store), derive=derive, public_key=Path(public_key) if public_key else None,
                   known_heads=known)
    except EtlError as error:
        return {"ok": False, "problems": list(getattr(error, "problems", None) or [error.message])}
    except Exception as error:  # noqa: BLE001 - data shaped to break a check fails the member
        return {"ok": False, "problems": [f"{store}: the check stopped on "
                                          f"{error.__class__.__name__}: {error}"]}
    if not derived:
        return {"ok": False, "problems": [f"{store}: no chain was verified"]}
    head = ordered[-1]
    manifest = json.loads((head / MANIFEST).read_bytes().decode("utf-8"))
    figures = derived[-1]["figures"]
    return {"ok": True, "head": head.name, "manifest_sha256": manifest_hash(head),
            "as_of": manifest["as_of"], "snapshots": len(ordered),
            "figures": {key: figures.get(key) for key in KEYS}}

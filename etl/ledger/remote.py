"""Copy a published site's snapshot chain over HTTP, so `verify URL` checks it like a folder.

Only what the site links for this purpose is fetched: data/latest.json names the newest
snapshot, each manifest names its files and its previous snapshot, and data/minisign.pub (if
the site is signed). Downloads go through etl/read/http.py, with its retries, size limit and
HTML-page refusal. Pages are not fetched: a site's file list is not recorded anywhere a
mirror must carry, so over a URL `verify` checks the data and the chain, and the pages are
checked by rebuilding a downloaded copy of the site folder.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from pathlib import Path

from etl.config import HttpOptions, Source
from etl.errors import EtlError, VerifyFailed
from etl.ledger import timestamps
from etl.ledger.manifests import MANIFEST, SIGNATURE
from etl.read import http

# Snapshot ids and file names come from remote files: nothing that could leave its folder.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
MAX_SNAPSHOTS = 10_000
# Fetched when served: what a signed or timestamped site carries for verify to check with.
OPTIONAL_SITE_FILES = ("minisign.pub", timestamps.SITE_CERTIFICATE)
OPTIONAL_SNAPSHOT_FILES = (SIGNATURE, timestamps.TIMESTAMP)


def is_url(text: str) -> bool:
    return str(text).startswith(("http://", "https://"))


def _fetch(url: str, cache: Path) -> bytes:
    source = Source(name="verify", kind="http", url=url, http=HttpOptions())
    body, _ = http.fetch(source, cache)
    return body


def download_site(url: str, into: Path) -> Path:
    """A site folder under `into` holding data/latest.json, data/minisign.pub (when published)
    and every snapshot of the chain, as the site at `url` serves them; returns it."""
    base = url if url.endswith("/") else url + "/"
    site = Path(into) / "site"
    data_dir = site / "data"
    cache = Path(into) / "cache"
    data_dir.mkdir(parents=True)
    latest_bytes = _fetch(base + "data/latest.json", cache)
    (data_dir / "latest.json").write_bytes(latest_bytes)
    try:
        snapshot_id = json.loads(latest_bytes.decode("utf-8")).get("snapshot_id")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        raise VerifyFailed(f"{base}data/latest.json is not JSON naming a snapshot_id",
                           hint="give the address of a Gongshi site (the folder with index.html)")
    for name in OPTIONAL_SITE_FILES:
        _fetch_optional(base + "data/" + name, data_dir / name, cache)
    seen = set()
    while snapshot_id is not None:
        if not isinstance(snapshot_id, str) or not SAFE_NAME.match(snapshot_id):
            raise VerifyFailed(f"{base}: a snapshot id {snapshot_id!r} is not a safe name",
                               hint="this is not a Gongshi site, or its data was altered")
        if snapshot_id in seen or len(seen) >= MAX_SNAPSHOTS:
            break  # a loop: verify reports it from the manifests downloaded so far
        seen.add(snapshot_id)
        snapshot_id = _download_snapshot(base, snapshot_id, data_dir / "snapshots", cache)
    return site


def _download_snapshot(base: str, snapshot_id: str, snapshots_dir: Path, cache: Path) -> str | None:
    """One snapshot folder, as served; returns the id of its previous snapshot, if any."""
    where = f"{base}data/snapshots/{urllib.parse.quote(snapshot_id)}/"
    folder = snapshots_dir / snapshot_id
    folder.mkdir(parents=True)
    manifest_bytes = _fetch(where + MANIFEST, cache)
    (folder / MANIFEST).write_bytes(manifest_bytes)
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        files = sorted(manifest["files"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return None  # verify reports the unreadable manifest
    for name in files:
        if SAFE_NAME.match(name):  # verify reports any other name as unsafe
            (folder / name).write_bytes(_fetch(where + urllib.parse.quote(name), cache))
    for name in OPTIONAL_SNAPSHOT_FILES:
        _fetch_optional(where + name, folder / name, cache)
    previous = manifest.get("previous")
    return previous.get("snapshot_id") if isinstance(previous, dict) else None


def _fetch_optional(url: str, target: Path, cache: Path) -> None:
    """Copy a file the site may not serve (an unsigned site has no key); verify then says
    whether it was needed."""
    try:
        target.write_bytes(_fetch(url, cache))
    except EtlError:
        pass

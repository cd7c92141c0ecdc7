"""Pull one member's chain from its published files, fetching only what the province lacks.

A member's site links everything needed: data/latest.json names the head, each manifest names
its files and its previous snapshot. The province keeps a verified copy of each member's chain
(the mirror); a pull walks back from the served head and downloads snapshots until it reaches
one the mirror holds with the very manifest hash the newer snapshot records, then links the
rest from the mirror. An unchanged member costs two conditional requests (latest.json and the
head manifest, both answered 304 by a server that keeps ETags), and nothing is verified again.
What was pulled is only a candidate: `check` verifies it, and only then does it replace the
mirror (`accept`), so a failed or forged pull leaves the last verified state as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import requests

from etl.config import Source
from etl.errors import EtlError, FetchError, Location, VerifyFailed
from etl.federation.config import Member, Province
from etl.ledger import files, timestamps
from etl.ledger.manifests import MANIFEST, SIGNATURE, sha256_hex
from etl.ledger.remote import MAX_SNAPSHOTS, SAFE_NAME
from etl.read import http

SITE_KEY = "minisign.pub"
OPTIONAL_SNAPSHOT_FILES = (SIGNATURE, timestamps.TIMESTAMP)


@dataclass(frozen=True)
class Pulled:
    """What a pull found: the served head, and the candidate chain to verify (None: unchanged)."""

    head: str
    manifest_sha256: str
    store: Path | None
    downloaded: int = 0


class MemberSite:
    """Reads files of one member's published site: over HTTP or from a local folder."""

    def __init__(self, member: Member, province: Province, cache_dir: Path,
                 session: requests.Session | None = None):
        self.member = member
        self.province = province
        self.cache_dir = cache_dir
        self.session = session
        self.base = member.url if member.url.endswith("/") else member.url + "/"

    def where(self, relative: str) -> str:
        return self.base + relative if self.member.url else str(self.member.path / relative)

    def get(self, relative: str) -> bytes:
        """The file's bytes, or FetchError naming the member."""
        if not self.member.url:
            path = self.member.path / relative
            try:
                if path.stat().st_size > self.province.http.max_bytes:
                    raise self._error(f"{path} is larger than http.max_bytes "
                                      f"({self.province.http.max_bytes} bytes)")
                return path.read_bytes()
            except OSError as error:
                raise self._error(f"cannot read {path}: {error.strerror or error}") from error
        url = self.base + urllib.parse.quote(relative)
        source = Source(name=self.member.name, kind="http", url=url, http=self.province.http)
        body, _ = http.fetch(source, self.cache_dir, session=self.session)
        return body

    def get_optional(self, relative: str) -> bytes | None:
        """A file the site may not publish (a signature, its key): None when it is not there."""
        try:
            return self.get(relative)
        except FetchError:
            return None

    def _error(self, message: str) -> FetchError:
        return FetchError(message, location=Location(source=self.member.name),
                          hint="check the member's path in the province config, or that the "
                               "member's site was published there")


def head_of(site: MemberSite) -> str:
    """The snapshot id the member's data/latest.json names."""
    data = site.get("data/latest.json")
    try:
        head = json.loads(data.decode("utf-8")).get("snapshot_id")
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        head = None
    if not isinstance(head, str) or not SAFE_NAME.match(head):
        raise VerifyFailed(f"member {site.member.name}: {site.where('data/latest.json')} does not "
                           "name a snapshot_id that is a safe folder name",
                           hint="the address is not a Gongshi site, or its data was altered")
    return head


def pull(site: MemberSite, mirror: Path, staging: Path, recorded: dict | None) -> Pulled:
    """Fetch the member's head; return it unchanged, or a candidate chain in `staging`.

    `recorded` is the head the province recorded last time ({snapshot_id, manifest_sha256});
    the member is unchanged only when it still serves exactly that head and the mirror holds it.
    """
    head = head_of(site)
    manifest_bytes = site.get(f"data/snapshots/{head}/{MANIFEST}")
    head_sha = sha256_hex(manifest_bytes)
    if recorded and recorded.get("snapshot_id") == head and \
            recorded.get("manifest_sha256") == head_sha and _holds(mirror, head, head_sha):
        return Pulled(head, head_sha, None)
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    key = site.get_optional(f"data/{SITE_KEY}")
    if key is not None:
        # In a store, verify checks signatures with this file unless the config gives a key;
        # given one, the member's own copy must equal it.
        (staging / SITE_KEY).write_bytes(key)
    snapshot_id, expected, downloaded, seen = head, head_sha, 0, set()
    while snapshot_id is not None:
        if not isinstance(snapshot_id, str) or not SAFE_NAME.match(snapshot_id):
            raise VerifyFailed(f"member {site.member.name}: a snapshot id {snapshot_id!r} is not "
                               "a safe folder name",
                               hint="the member's data was altered; ask the member to restore it")
        if snapshot_id in seen or len(seen) >= MAX_SNAPSHOTS:
            break  # a loop: verify reports it from what was fetched
        seen.add(snapshot_id)
        if _holds(mirror, snapshot_id, expected):
            _link_chain(mirror, snapshot_id, staging)
            break
        if manifest_bytes is None:
            manifest_bytes = site.get(f"data/snapshots/{snapshot_id}/{MANIFEST}")
        snapshot_id, expected = _download(site, snapshot_id, manifest_bytes, staging)
        manifest_bytes = None
        downloaded += 1
    return Pulled(head, head_sha, staging, downloaded)


def _holds(mirror: Path, snapshot_id: str, manifest_sha256: str | None) -> bool:
    """The mirror has this snapshot, with the manifest hash the newer snapshot records for it."""
    path = mirror / snapshot_id / MANIFEST
    return bool(manifest_sha256) and path.is_file() and sha256_hex(path.read_bytes()) == manifest_sha256


def _download(site: MemberSite, snapshot_id: str, manifest_bytes: bytes,
              staging: Path) -> tuple[str | None, str | None]:
    """One snapshot folder as served; returns its previous id and the hash recorded for it."""
    folder = staging / snapshot_id
    folder.mkdir()
    (folder / MANIFEST).write_bytes(manifest_bytes)
    try:
        manifest = json.loads(manifest_bytes.decode("utf-8"))
        names = sorted(manifest["files"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return None, None  # verify reports the unreadable manifest
    where = f"data/snapshots/{snapshot_id}/"
    for name in names:
        if SAFE_NAME.match(name) and name != MANIFEST:  # verify reports any other name
            (folder / name).write_bytes(site.get(where + name))
    for name in OPTIONAL_SNAPSHOT_FILES:
        data = site.get_optional(where + name)
        if data is not None:
            (folder / name).write_bytes(data)
    previous = manifest.get("previous")
    if not isinstance(previous, dict):
        return None, None
    return previous.get("snapshot_id"), previous.get("manifest_sha256")


def _link_chain(mirror: Path, snapshot_id: str, staging: Path) -> None:
    """The mirror's verified snapshots from `snapshot_id` back to the first, linked into staging."""
    current: str | None = snapshot_id
    while current and (mirror / current / MANIFEST).is_file() and not (staging / current).exists():
        _link_folder(mirror / current, staging / current)
        try:
            previous = json.loads((mirror / current / MANIFEST).read_bytes()).get("previous")
        except (ValueError, AttributeError):
            previous = None
        current = previous.get("snapshot_id") if isinstance(previous, dict) else None


def _link_folder(source: Path, target: Path) -> None:
    # Hard links: a verified snapshot's files never change, and a chain of big tables is not
    # copied on every pull. A file system without them gets copies.
    target.mkdir(parents=True)
    for item in source.iterdir():
        try:
            os.link(item, target / item.name)
        except OSError:
            shutil.copy2(item, target / item.name)


def accept(staging: Path, mirror: Path) -> None:
    """The verified candidate becomes the member's mirror, replaced by rename."""
    files.replace_folder(staging, mirror)


def describe(error: Exception) -> str:
    """One line for the member's record: the error's message, without the hint."""
    if isinstance(error, EtlError):
        text = error.message
        if error.location is not None and error.location.describe():
            text = f"{error.location.describe()}: {text}"
        return text
    return f"{error.__class__.__name__}: {error}"

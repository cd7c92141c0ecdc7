"""Check a built site: snapshot hashes, the chain, signatures, CSV against JSON, every figure shown on
a page, and (given a rebuild) every file against the site its snapshots rebuild."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Sequence

from etl.site import figures as figure_text
from etl.errors import SnapshotError, VerifyFailed
from etl.ledger import crosscheck, manifests, rebuild as rebuilding
from etl.ledger import anchors, receipt, timestamps
from etl.ledger.manifests import MANIFEST, SIGNATURE, order_chain, sha256_hex
from etl.staff import progress

PUBLIC_KEY = "minisign.pub"
MAX_LISTED = 50


class _FigureSpans(HTMLParser):
    """Collects (key, shown text) of every <span class="gs-figure" data-figure="KEY">."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, int]] = []
        self._open: list[dict] = []  # figure spans being read, innermost last
        self._depth = 0  # nesting of spans inside the current figure span

    def handle_starttag(self, tag, attrs):
        if tag != "span":
            return
        attributes = dict(attrs)
        if self._open:
            self._depth += 1
        elif "gs-figure" in (attributes.get("class") or "").split():
            self._open.append({"key": attributes.get("data-figure") or "", "text": [],
                               "line": self.getpos()[0]})

    def handle_endtag(self, tag):
        if tag != "span" or not self._open:
            return
        if self._depth:
            self._depth -= 1
            return
        span = self._open.pop()
        self.found.append((span["key"], "".join(span["text"]).strip(), span["line"]))

    def handle_data(self, data):
        if self._open:
            self._open[-1]["text"].append(data)


def figure_spans(html: str) -> list[tuple[str, str, int]]:
    """(key, text, line) for every figure span in a page, in page order."""
    parser = _FigureSpans()
    parser.feed(html)
    parser.close()
    return parser.found


def _check_snapshot(folder: Path, problems: list[str]) -> dict | None:
    """Hashes and sizes of one snapshot's files; its manifest, or None if unreadable."""
    try:
        manifest = json.loads((folder / MANIFEST).read_bytes().decode("utf-8"))
        files = manifest["files"]
        if not isinstance(files, dict) or not all(isinstance(e, dict) for e in files.values()):
            raise TypeError("files is not a mapping of name to {sha256, bytes}")
    except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
        problems.append(f"{folder / MANIFEST}: unreadable manifest ({error.__class__.__name__})")
        return None
    for name, entry in sorted(files.items()):
        path = folder / name
        if "/" in name or "\\" in name or name.startswith("."):
            problems.append(f"{folder / MANIFEST}: unsafe file name {name!r}")
            continue
        if not path.is_file():
            problems.append(f"{path}: listed in the manifest but missing")
            continue
        data = path.read_bytes()
        if len(data) != entry.get("bytes") or sha256_hex(data) != entry.get("sha256"):
            problems.append(f"{path}: SHA-256 or size differs from {folder.name}/{MANIFEST} "
                            "(the file was edited)")
    extra = sorted(p.name for p in folder.iterdir() if p.name not in files
                   and p.name not in (MANIFEST, SIGNATURE, timestamps.TIMESTAMP))
    if extra:
        problems.append(f"{folder}: files not in the manifest: {', '.join(extra)}")
    _check_id(folder, manifest, problems)
    _check_row_counts(folder, manifest, problems)
    problems += crosscheck.csv_json_problems(folder, manifest)
    return manifest


def _check_id(folder: Path, manifest: dict, problems: list[str]) -> None:
    """The id must be the hash of the manifest's content, as the snapshot stage named it: the
    newest snapshot has no successor recording its manifest's hash, so this is what pins it."""
    try:
        expected = manifests.snapshot_id(manifest)
    except (KeyError, TypeError, AttributeError) as error:
        problems.append(f"{folder / MANIFEST}: cannot recompute the snapshot id "
                        f"({error.__class__.__name__}: {error})")
        return
    if manifest.get("snapshot_id") != expected or folder.name != expected:
        problems.append(f"{folder / MANIFEST}: snapshot id mismatch: the manifest's content hashes "
                        f"to {expected}, but the snapshot is named {manifest.get('snapshot_id')} "
                        f"in folder {folder.name} (its data or manifest was edited)")


def _check_row_counts(folder: Path, manifest: dict, problems: list[str]) -> None:
    """row_counts must match the rows of each table's CSV and JSON files."""
    counts = manifest.get("row_counts")
    if not isinstance(counts, dict):
        problems.append(f"{folder / MANIFEST}: row_counts missing or not a mapping")
        return
    for table, count in sorted(counts.items()):
        for name, rows in ((f"{table}.csv", _csv_rows), (f"{table}.json", _json_rows)):
            path = folder / name
            if not path.is_file():
                problems.append(f"{path}: missing, but row_counts lists {table}")
                continue
            try:
                found = rows(path.read_bytes())
            except (UnicodeDecodeError, json.JSONDecodeError, csv.Error, TypeError) as error:
                problems.append(f"{path}: cannot count its rows ({error.__class__.__name__})")
                continue
            if found != count:
                problems.append(f"{path}: holds {found} rows, but {folder.name}/{MANIFEST} "
                                f"row_counts says {count}")


def _csv_rows(data: bytes) -> int:
    rows = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    return max(sum(1 for row in rows if row) - 1, 0)  # less the header


def _json_rows(data: bytes) -> int:
    records = json.loads(data.decode("utf-8"))
    if not isinstance(records, list):
        raise TypeError("not a list of records")
    return len(records)


def _check_signatures(data_dir: Path, ordered: list[Path], problems: list[str],
                      public_key: Path | None = None, snapshots_dir: Path | None = None) -> None:
    """Check signatures with `public_key` (obtained out of band) if given, else the site's own
    data/minisign.pub; signatures with no key to check them are a problem, not a pass."""
    site_key = data_dir / PUBLIC_KEY
    snapshots_dir = snapshots_dir or data_dir / "snapshots"
    key = None
    if public_key is not None:
        key = Path(public_key)
        if not key.is_file():
            problems.append(f"{key}: the public key given with --public-key does not exist")
            return
        if site_key.is_file() and _key_material(site_key) != _key_material(key):
            problems.append(f"{site_key}: differs from the public key given with --public-key "
                            f"({key}); the site was signed, or its key replaced, by someone else")
    elif site_key.is_file():
        key = site_key
    signatures = sorted(snapshots_dir.glob(f"*/{SIGNATURE}"))
    if key is None:
        if signatures:
            problems.append(f"{signatures[0]}: signed snapshots but no public key to check them "
                            f"({site_key} is missing); pass the key with --public-key")
        return
    signed = [folder for folder in ordered if (folder / SIGNATURE).is_file()]
    if ordered and ordered[-1] not in signed:
        problems.append(f"{ordered[-1] / SIGNATURE}: missing, but the site is checked with a "
                        f"signing key ({key}); the newest snapshot must be signed")
    binary = shutil.which("minisign")
    if signed and binary is None:
        problems.append("signatures present but the minisign program is not installed "
                        "(apt-get install minisign) so they cannot be checked")
        return
    for folder in signed:
        result = subprocess.run([binary, "-V", "-q", "-p", str(key), "-m",
                                 str(folder / MANIFEST), "-x", str(folder / SIGNATURE)],
                                capture_output=True, timeout=60)
        if result.returncode != 0:
            problems.append(f"{folder / SIGNATURE}: signature does not verify against "
                            f"{key}: {result.stderr.decode('utf-8', 'replace').strip()}")


def _key_material(path: Path) -> list[str]:
    """A minisign public key file without its untrusted comment line, which anyone may change."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines
            if line.strip() and not line.startswith("untrusted comment:")]


def check_snapshots(site_dir: Path, problems: list[str],
                    public_key: Path | None = None) -> list[Path]:
    """Hashes, chain, latest.json and signatures; appends to problems; returns oldest→newest."""
    data_dir = Path(site_dir) / "data"
    ordered = check_store(data_dir / "snapshots", problems)
    if not _snapshot_folders(data_dir / "snapshots"):
        return []
    latest_path = data_dir / "latest.json"
    try:
        latest = json.loads(latest_path.read_text(encoding="utf-8")).get("snapshot_id")
    except (FileNotFoundError, json.JSONDecodeError, AttributeError):
        problems.append(f"{latest_path}: missing or not JSON with snapshot_id")
    else:
        if ordered and latest != ordered[-1].name:
            problems.append(f"{latest_path}: names {latest}, but the newest snapshot is "
                            f"{ordered[-1].name}")
    _check_signatures(data_dir, ordered, problems, public_key)
    return ordered


def _snapshot_folders(snapshots_dir: Path) -> list[Path]:
    # Names starting with "." are a store's lock and interrupted commits, not snapshots.
    return sorted(p for p in snapshots_dir.iterdir() if p.is_dir() and not p.name.startswith(
        ".")) if snapshots_dir.is_dir() else []


def check_store(snapshots_dir: Path, problems: list[str]) -> list[Path]:
    """Every snapshot's files, id, row counts and CSV/JSON, and the chain; returns the chain
    oldest→newest (empty when it is broken). A site's data/snapshots or a snapshots_dir."""
    snapshots_dir = Path(snapshots_dir)
    folders = _snapshot_folders(snapshots_dir)
    if not folders:
        problems.append(f"{snapshots_dir}: no snapshots (the site must carry every snapshot)")
        return []
    manifests = {}
    for folder in folders:
        manifest = _check_snapshot(folder, problems)
        if manifest is not None:
            manifests[folder.name] = manifest
    ordered: list[Path] = []
    try:
        ordered = [snapshots_dir / name for name in order_chain(
            manifests, snapshots_dir, error=SnapshotError,
            hash_of=lambda name: sha256_hex((snapshots_dir / name / MANIFEST).read_bytes()))]
    except SnapshotError as error:
        problems.append(error.message)
    return ordered


def _same_number(a, b) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def check_figures(site_dir: Path, figures: dict, format_figure: Callable, problems: list[str]) -> int:
    """Every figure span on every page must show format_figure(key, figures[key]); returns count."""
    checked = 0
    for page in progress.track(sorted(Path(site_dir).rglob("*.html")), "verify"):
        relative = page.relative_to(site_dir)
        html = page.read_text(encoding="utf-8", errors="replace")
        for key, shown, line in figure_spans(html):
            checked += 1
            if key not in figures:
                problems.append(f"{relative}:{line}: figure {key!r} shows {shown!r} but the data "
                                "has no such figure")
                continue
            expected = format_figure(key, figures[key])
            if shown != expected:
                problems.append(f"{relative}:{line}: figure {key!r} shows {shown!r}, "
                                f"the data gives {expected!r}")
    return checked


def is_store(folder: Path) -> bool:
    """A snapshots_dir (snapshot folders, no site around them) rather than a built site."""
    folder = Path(folder)
    return not (folder / "data").is_dir() and any(
        (p / MANIFEST).is_file() for p in _snapshot_folders(folder))


def check_anchors(site_dir: Path, ordered: list[Path], problems: list[str],
                  known_heads: Sequence[anchors.KnownHead] = (),
                  tsa_certificate: Path | None = None, *, store: bool = False) -> None:
    """What pins the chain from outside: known heads (receipts, auditors' notes), RFC 3161
    tokens, and the receipt page naming the newest snapshot. A store carries no authority
    certificate, so its tokens are checked only against one given with --tsa-cert."""
    if known_heads and not ordered:
        problems.append(f"{site_dir}: no chain to find the known heads in "
                        f"({', '.join(h.snapshot_id for h in known_heads)})")
    elif known_heads:
        anchors.check_known_heads(ordered, list(known_heads), problems)
    if not store:
        timestamps.check_tokens(site_dir / "data", ordered, problems, tsa_certificate)
        receipt.check(site_dir, ordered, problems)
    elif tsa_certificate is not None:
        timestamps.check_tokens(site_dir, ordered, problems, tsa_certificate)


def run(site_dir: Path, derive: Callable, format_figure: Callable = figure_text.format_figure,
        public_key: Path | None = None, rebuild: Callable | None = None,
        known_heads: Sequence[anchors.KnownHead] = (),
        tsa_certificate: Path | None = None) -> list[str]:
    """Raise VerifyFailed listing every hash, id, chain, signature, table, page-figure and
    rebuilt-file mismatch; return notes that are not failures.

    `derive(snapshot_dirs) -> metrics dict` recomputes the figures from the data; the CLI passes
    the metrics stage's, since stages do not import each other. `public_key` is a minisign key
    obtained out of band: it checks the signatures, and the site's own key must equal it.
    `rebuild(snapshot_dirs, folder) -> built site` rebuilds the site from its snapshots (the
    CLI passes render and build); every file of the site must then equal the rebuild's. It runs
    only when the snapshots pass their checks: a rebuild of bad data would only repeat them.
    `site_dir` may also be a snapshots_dir (a store): then only the snapshots are checked.
    """
    site_dir = Path(site_dir)
    if not site_dir.is_dir():
        raise VerifyFailed(f"{site_dir} is not a folder", hint="give the built site's folder")
    problems: list[str] = []
    notes: list[str] = []
    store = is_store(site_dir)
    if store:
        ordered = check_store(site_dir, problems)
        _check_signatures(site_dir, ordered, problems, public_key, snapshots_dir=site_dir)
    else:
        ordered = check_snapshots(site_dir, problems, public_key)
    check_anchors(site_dir, ordered, problems, known_heads, tsa_certificate, store=store)
    derived = None
    if ordered:
        try:
            derived = derive(ordered)
        except Exception as error:  # noqa: BLE001 - a tampered snapshot may break derive anyhow
            problems.append(f"could not re-derive figures from {ordered[-1]}: "
                            f"{error.__class__.__name__}: {error}")
    if derived is not None:
        _compare_recorded(ordered[-1], derived, problems)
    data_ok = bool(ordered) and not problems
    if derived is not None and not store:
        check_figures(site_dir, derived.get("figures", {}), format_figure, problems)
    if rebuild is not None and not store and data_ok:
        notes += check_rebuild(site_dir, ordered, rebuild, problems)
    if problems:
        lines = [f"verify found {len(problems)} problem(s) in {site_dir}:"]
        lines += [f"  - {problem}" for problem in problems[:MAX_LISTED]]
        if len(problems) > MAX_LISTED:
            lines.append(f"  ... and {len(problems) - MAX_LISTED} more")
        if rebuild is not None and not store and not data_ok:
            lines.append("  (the pages were not rebuilt to compare: the snapshots fail the "
                         "checks above)")
        error = VerifyFailed("\n".join(lines),
                             hint="do not publish this site; rebuild it with `python -m etl "
                                  "publish`, and restore edited snapshots from a backup")
        error.problems = problems
        raise error
    return notes


def check_rebuild(site_dir: Path, ordered: list[Path], rebuild: Callable,
                  problems: list[str]) -> list[str]:
    """Every file of the site against a rebuild from its snapshots (etl/ledger/rebuild.py);
    appends the differences, returns notes on a differing build environment."""
    return rebuilding.check(site_dir, ordered, rebuild, problems)


def _compare_recorded(head: Path, derived: dict, problems: list[str]) -> None:
    """The newest snapshot's metrics.json must agree with what the data re-derives, section by
    section: its figures, and the series, lists and groups the pages' charts and tables show."""
    try:
        recorded = json.loads((head / "metrics.json").read_text(encoding="utf-8"))
        recorded_figures = recorded.get("figures", {})
    except (FileNotFoundError, json.JSONDecodeError, AttributeError):
        problems.append(f"{head / 'metrics.json'}: missing or not JSON")
        return
    figures = derived.get("figures", {})
    for key in sorted(set(recorded_figures) | set(figures)):
        if not _same_number(recorded_figures.get(key), figures.get(key)):
            problems.append(f"{head.name}/metrics.json: figure {key!r} is "
                            f"{recorded_figures.get(key)!r}, re-derived from the data it is "
                            f"{figures.get(key)!r}")
    for section in sorted(set(derived) - {"figures"}):
        # Through JSON, as metrics.json was written, so tuples and lists compare alike.
        if json.loads(json.dumps(derived[section])) != recorded.get(section):
            problems.append(f"{head.name}/metrics.json: section {section!r} differs from what "
                            "the data re-derives")

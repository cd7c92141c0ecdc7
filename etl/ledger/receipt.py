"""The publication receipt: a printable A4 page and PDF that fix a snapshot head outside the site.

The office prints it and files it with the publication's official papers (公文); the snapshot
id and manifest SHA-256 on it (and in its QR code, as a `--known-head` line) then pin the
history for any later `verify --known-head`, whatever happens to the site and its snapshots.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import jinja2
from markupsafe import Markup

from etl.ledger.manifests import MANIFEST, manifest_hash, read_manifest
from etl.ledger.timestamps import TIMESTAMP
from etl.site import words as site_words

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE = "receipt.html.j2"
PAGE = "receipt.html"
PDF_FOLDER = "data/receipts"  # under the site; one PDF, named by the snapshot id
STAFF_FOLDER = "receipts"  # under the work dir, where staff find the PDF to print


def qr_payload(snapshot_id: str, manifest_sha256: str) -> str:
    """What the QR code holds: one line `verify --known-heads` reads as it is."""
    return f"{snapshot_id} {manifest_sha256}"


def fields(snapshot_dir: Path, config, site_key: Path | None = None) -> dict:
    """Everything the receipt prints, from the snapshot folder and the config's names."""
    snapshot_dir = Path(snapshot_dir)
    manifest = read_manifest(snapshot_dir)
    as_of = dt.date.fromisoformat(manifest["as_of"])
    words = receipt_words(config.language)
    previous = manifest.get("previous") or {}
    return {
        "region": config.region, "site_title": config.title, "as_of": as_of.isoformat(),
        "as_of_text": words["date_format"].format(year=as_of.year, month=as_of.month,
                                                  day=as_of.day),
        "snapshot_id": manifest["snapshot_id"], "manifest_sha256": manifest_hash(snapshot_dir),
        "previous": previous.get("snapshot_id", ""),
        "timestamp": _token_time(snapshot_dir / TIMESTAMP),
        "signing_key": _key_line(site_key),
        # Noon UTC of the as-of date, as the build stage's SOURCE_DATE_EPOCH: rebuilds match.
        "pdf_date": f"{as_of.isoformat()}T12:00:00Z",
    }


def _token_time(token: Path) -> str:
    if not token.is_file():
        return ""
    from rfc3161_client import decode_timestamp_response

    try:
        return decode_timestamp_response(token.read_bytes()).tst_info.gen_time.isoformat()
    except ValueError:
        return ""


def _key_line(public_key: Path | None) -> str:
    """The key line of a minisign public key (its comment line is not part of the key)."""
    if public_key is None or not Path(public_key).is_file():
        return ""
    lines = [line.strip() for line in Path(public_key).read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("untrusted comment:")]
    return lines[0] if lines else ""


def receipt_words(language: str) -> dict:
    """The receipt's words: the `receipt` section of templates/text.yml."""
    return site_words.section("receipt", language)


def _qr_svg(payload: str) -> Markup:
    import segno

    # Error level M survives a smudged or folded print; the payload is ASCII (id and hex).
    svg = segno.make(payload, error="m", micro=False).svg_inline(scale=4, border=4,
                                                                 omitsize=True)
    return Markup(svg)


def html(receipt: dict, language: str, *, pdf: bool = False, pdf_href: str = "") -> str:
    """The receipt page; `pdf` adds the pinned font and fixed dates for WeasyPrint."""
    from etl.site import fonts

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    context = {"receipt": receipt, "w": receipt_words(language), "language": language,
               "pdf": pdf, "pdf_href": pdf_href, "font_stack": Markup(fonts.FONT_STACK),
               "code_fonts": Markup("ui-monospace, Menlo, Consolas, monospace"),
               "qr_svg": _qr_svg(qr_payload(receipt["snapshot_id"], receipt["manifest_sha256"]))}
    if pdf:
        # Only the pinned font, for every character: no system font can change the PDF.
        family = f'"{fonts.FONT_FAMILY}"'
        context.update(font_family=fonts.FONT_FAMILY, font_url=fonts.chart_font_path().as_uri(),
                       font_stack=Markup(family), code_fonts=Markup(family))
    return env.get_template(TEMPLATE).render(**context)


def pdf_bytes(receipt: dict, language: str) -> bytes:
    """The A4 PDF: the pinned font subset, fixed dates and identifier, so rebuilds are equal."""
    from weasyprint import HTML

    document = HTML(string=html(receipt, language, pdf=True), base_url=str(TEMPLATES))
    return document.write_pdf(pdf_identifier=receipt["snapshot_id"].encode("ascii"),
                              full_fonts=False, hinting=False, uncompressed_pdf=False)


def write(pages_dir: Path, snapshot_dir: Path, config, site_key: Path | None = None) -> Path:
    """receipt.html at the site's root and data/receipts/<snapshot_id>.pdf; returns the PDF."""
    receipt = fields(snapshot_dir, config, site_key)
    pdf_path = Path(pages_dir) / PDF_FOLDER / f"{receipt['snapshot_id']}.pdf"
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    pdf_path.write_bytes(pdf_bytes(receipt, config.language))
    (Path(pages_dir) / PAGE).write_text(
        html(receipt, config.language, pdf_href=f"{PDF_FOLDER}/{pdf_path.name}"),
        encoding="utf-8")
    return pdf_path


def keep_for_staff(site_dir: Path, work_dir: Path, snapshot_id: str) -> Path | None:
    """Copy the published receipt PDF into work_dir/receipts/ for staff to print and file."""
    source = Path(site_dir) / PDF_FOLDER / f"{snapshot_id}.pdf"
    if not source.is_file():
        return None
    target = Path(work_dir) / STAFF_FOLDER / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(source, target))


def check(site_dir: Path, ordered: list[Path], problems: list[str]) -> None:
    """A receipt page on the site must name the newest snapshot and its manifest's SHA-256."""
    page = Path(site_dir) / PAGE
    if not page.is_file() or not ordered:
        return
    text = page.read_text(encoding="utf-8", errors="replace")
    head = ordered[-1]
    if not (head / MANIFEST).is_file():
        return
    expected = (f'data-snapshot-id="{head.name}"',
                f'data-manifest-sha256="{manifest_hash(head)}"')
    if not all(part in text for part in expected):
        problems.append(f"{page}: does not name the newest snapshot {head.name} and its "
                        f"manifest SHA-256 {manifest_hash(head)}")
    if not (Path(site_dir) / PDF_FOLDER / f"{head.name}.pdf").is_file():
        problems.append(f"{Path(site_dir) / PDF_FOLDER / (head.name + '.pdf')}: missing; the "
                        f"receipt page offers it")

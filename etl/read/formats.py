"""Which reader a source needs (by its bytes first, its name second), and how a URL is shown."""

from __future__ import annotations

import codecs
import io
import posixpath
import urllib.parse
import zipfile

from etl.errors import Location, SourceError

EXTENSION_FORMATS = {"xlsx": "xlsx", "xlsm": "xlsm", "xls": "xls", "ods": "ods", "csv": "csv",
                     "tsv": "csv", "txt": "csv", "json": "json", "xml": "xml"}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
EXPORT_HINT = "export the list again as .xlsx or .csv and point the config at that file"
# A query parameter whose name contains one of these (any case) carries a credential.
SECRET_PARAMETER_PARTS = ("key", "token", "secret", "password", "passwd", "sig", "auth",
                          "credential")
MASK = "***"


def _looks_like_html(head: bytes) -> bool:
    text = head[:2048].decode("latin-1").lstrip(" \t\r\n").lower()
    if text.startswith("<?xml"):
        return "<html" in text
    return text.startswith(("<!doctype html", "<html", "<head", "<body", "<table", "<meta",
                            "<!--", "<div", "<script"))


def _refusal(data: bytes, body: bytes) -> tuple[str, str] | None:
    """Message and hint for content that is plainly not a table we read, else None."""
    if data.startswith(b"%PDF"):
        return "this is a PDF document, not a spreadsheet", EXPORT_HINT
    if _looks_like_html(body):
        return ("this looks like an HTML page, not a spreadsheet (a web page or a login screen "
                "saved under a spreadsheet name)",
                EXPORT_HINT + "; an .xls exported by a web system is often HTML: open it in "
                "Excel or WPS and save it as .xlsx")
    if b"urn:schemas-microsoft-com:office:spreadsheet" in body[:4096]:
        return ("this is an Excel 2003 XML spreadsheet, which is not supported",
                "open it in Excel or WPS and save it as .xlsx")
    if body.lstrip(b" \t\r\n").startswith(b"<"):
        return ("this is XML, which is read only by open311_xml sources",
                "set kind: open311_xml for this source, or " + EXPORT_HINT)
    return None


def _zip_format(data: bytes, where: Location) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise SourceError("the workbook is truncated or damaged (it ends before the zip "
                          "directory)", location=where,
                          hint="download or copy the file again; if it opens in Excel, save it "
                               "again as .xlsx")
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsx"
    if "mimetype" in names and "content.xml" in names:
        return "ods"
    kind = "a Word document" if "word/document.xml" in names else \
        "a zip archive, not a workbook"
    raise SourceError(f"this is {kind} ({len(names)} entries inside)", location=where,
                      hint="unpack it and point the config at the .xlsx or .csv inside, or "
                           + EXPORT_HINT)


def _looks_binary(body: bytes) -> bool:
    """Control bytes other than tab and line breaks in the first 4 KiB: not a text export."""
    head = body[:4096]
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    return control > len(head) // 100


def detect_format(data: bytes, name: str, fmt: str = "auto", *, source_name: str = "") -> str:
    """The reader to use: from the content first, checked against the name and the config."""
    where = Location(source=source_name, file=name)
    body = data
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        body = body.removeprefix(bom)
    if not body.strip(b" \t\r\n\x00"):
        raise SourceError("the file is empty", location=where, hint=EXPORT_HINT)
    extension = posixpath.splitext(urllib.parse.urlsplit(name).path)[1].lower().lstrip(".")
    expected = fmt if fmt != "auto" else EXTENSION_FORMATS.get(extension, "")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        found = _zip_format(data, where)
        if found == "xlsx" and expected == "xlsm":
            found = "xlsm"
    elif data.startswith(OLE2_MAGIC):
        found = "xls"
    elif refusal := _refusal(data, body):
        raise SourceError(refusal[0], location=where, hint=refusal[1])
    elif body.lstrip(b" \t\r\n")[:1] in (b"[", b"{") and expected in ("json", ""):
        found = "json"
    else:
        found = "csv" if expected in ("csv", "json", "") else ""
        if found == "csv" and expected == "json":
            raise SourceError("expected JSON but the file does not start with [ or {",
                              location=where, hint="check the URL or file, or set format: csv")
        if not found and _looks_binary(body):
            raise SourceError(f"named as {expected} but is not a workbook: the bytes are neither "
                              "a spreadsheet nor text, so the file is damaged or of another kind",
                              location=where, hint="export the list from the spreadsheet program "
                                                   "again, or copy the original file again")
        if not found:
            raise SourceError(f"named as {expected} but holds plain text, not a workbook",
                              location=where, hint="if it is CSV, rename it to .csv or set "
                                                   "format: csv for this source")
    if fmt != "auto":
        family = {"xlsx": "sheet", "xlsm": "sheet", "xls": "sheet", "ods": "sheet"}
        if family.get(found, found) != family.get(fmt, fmt):
            raise SourceError(f"the config says format {fmt} but the content is {found}",
                              location=where, hint=f"set format: {found} (or auto), or "
                                                   "replace the file with the right export")
    return found


def public_url(url: str) -> str:
    """A URL as it may be shown and published: no user:password@, secret query values masked.

    The query is kept, because it usually says which export was read (?format=csv&year=2026),
    but the value of every parameter whose name looks like a credential (api_key, token,
    X-Amz-Signature, auth ...) becomes "***". The fragment, never sent to a server, is dropped.
    A secret written into the path itself cannot be recognised: send it in http.headers.
    """
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    pieces = []
    for piece in parts.query.split("&") if parts.query else []:
        name, equals, _value = piece.partition("=")
        folded = urllib.parse.unquote_plus(name).casefold()
        if equals and any(part in folded for part in SECRET_PARAMETER_PARTS):
            piece = f"{name}={MASK}"
        pieces.append(piece)
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "&".join(pieces), ""))

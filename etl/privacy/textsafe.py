"""Jinja2 filters that make untrusted text display literally in Markdown-with-HTML pages.

Templates produce Markdown (with raw HTML inside) that MkDocs turns into HTML, so source text
must survive three readers: Jinja2 (a later pass must not see {{ or {%), Markdown (no
emphasis, links, headings, tables, admonitions) and HTML (no tags, attributes or scripts).
The robust answer is to write every significant ASCII punctuation character as a numeric
character reference: Markdown passes references through untouched, Jinja2 sees no braces,
and the browser shows the original character.  Newlines become <br> so a value never starts
a new Markdown block.  Use in templates:

    {{ issue.title | md_text }}        paragraphs, <div>s, headings
    {{ issue.unit | md_cell }}         Markdown table cells
    <a href="{{ url | safe_url | html_attr }}">   (check for None first; see safe_url)
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import quote

from markupsafe import Markup

# ASCII punctuation that is inert in Markdown, HTML and Jinja2, kept readable in the source.
_PLAIN_PUNCTUATION = ",;/?%"
_ENCODE = {ord(c): f"&#{ord(c)};"
           for c in "\t!\"#$&'()*+-.:<=>@[\\]^_`{|}~" if c not in _PLAIN_PUNCTUATION}
# Control characters and the invisible bidi overrides used to make text read differently
# from what it is; tab and newline are kept and handled below.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_EDGE_SPACE = re.compile(r"^\s+|\s+$|(?<=\s)\s")


def _clean(value) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", text)


def _encode_line(line: str) -> str:
    encoded = line.translate(_ENCODE)
    # Markdown strips white space (ideographic spaces too) at either end of a paragraph or cell
    # and reads four leading spaces as code; references keep such spaces exactly as they were.
    return _EDGE_SPACE.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), encoded)


def md_text(value) -> Markup:
    """Untrusted text as inline Markdown+HTML that displays exactly the original characters.

    Markup passes through unchanged, as with Jinja2's own escaping: it is already page
    markup (a figure span, or md_text's own output), and encoding it again would show tags.
    """
    if isinstance(value, Markup):
        return value
    lines = _clean(value).split("\n")
    return Markup("<br>".join(_encode_line(line) for line in lines))


def md_cell(value) -> Markup:
    """Like md_text, for a Markdown table cell: pipes and newlines cannot break the row."""
    # md_text already writes | as &#124; and newlines as <br>, so the row stays one line.
    return md_text(value)


def html_attr(value) -> Markup:
    """Untrusted text for a double- or single-quoted HTML attribute value inside Markdown.

    Unlike md_text this encodes Markup too: page markup has quotes that would end the value.
    """
    return Markup(_clean(value).translate(_ENCODE).replace("\n", "&#10;"))


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_URL_SAFE = "/:?#[]@!$&*+,;=%~-._"


def safe_url(value) -> str | None:
    """An http(s) or relative URL fit for href/src, or None for anything else.

    Browsers decode entities in attributes and drop tabs and newlines inside URLs, so
    'jav&#x61;script:' and 'java\\tscript:' are recognised as javascript: and refused.
    The result is percent-encoded outside a conservative set, so it holds no quotes, spaces,
    angle brackets, backticks or braces; still pass it through html_attr in a template.
    """
    text = _clean(value)
    for _ in range(5):  # entities inside entities: &amp;#106; -> &#106; -> j
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    text = re.sub(r"[\t\n\r]", "", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cc").strip(" \u00a0\u3000")
    if not text:
        return None
    # Some browsers read a backslash as a slash; normalise so the scheme check sees what they see.
    text = text.replace("\\", "/")
    scheme = _SCHEME.match(text)
    if scheme is not None and scheme.group(1).lower() not in ("http", "https"):
        return None
    if scheme is None and ":" in text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        # 'java script:x' or a scheme with odd characters: not relative, and not http(s).
        return None
    return quote(text, safe=_URL_SAFE)


FILTERS = {"md_text": md_text, "md_cell": md_cell, "html_attr": html_attr, "safe_url": safe_url}


def install(environment) -> None:
    """Register the filters on a Jinja2 Environment."""
    environment.filters.update(FILTERS)

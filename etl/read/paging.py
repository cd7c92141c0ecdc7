"""Read a feed that serves a page at a time (Open311, Socrata) whole, or stop: never a part of it.

Each page is one `http.fetch` (timeouts, retries, size limit and cache per page URL) and is
parsed on its own, so an error names the page's URL and its row; the pages are then joined
into one raw table whose rows are numbered on across pages, as if the feed were one export.
The joined table's sha256 is of the page bodies in order, so the same pages give the same
snapshot. A single page is returned exactly as `read_source` always returned it.

Open311 GeoReport v2 servers page with `page` and `page_size`, but many cap the page size
below what was asked and never say how many records there are; so pages are read until one
comes back empty or shorter than the longest page so far. A server that ignores `page`
sends the same page again, which is an error unless that page was shorter than page_size
(then it was the whole feed). Socrata counts its rows (`$select=count(*)`): the pull is
checked against that count, and a difference stops the publish.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import urllib.parse
from typing import Callable

from etl.errors import FetchError, Location
from etl.read import http
from etl.read.formats import public_url
from etl.read.table import RawTable

# Socrata's SODA API answers 1,000 rows when no $limit is given: a pull of exactly that many
# rows from a /resource/ endpoint without paging is almost surely cut short.
SOCRATA_DEFAULT_LIMIT = 1000
SOCRATA_PAGING_KEYS = ("$limit", "$offset", "$order", "$select")
OPEN311_KINDS = ("open311", "open311_xml")

Parse = Callable[[bytes, str, dict], RawTable]


def style(source) -> str:
    """The paging a source uses: its configured style, `auto` meaning Open311's for Open311."""
    chosen = source.paging.style
    if chosen == "auto":
        return "open311" if source.kind in OPEN311_KINDS else "none"
    return chosen


def with_query(url: str, values: dict[str, str], drop: tuple[str, ...] = ()) -> str:
    """The URL with these query parameters set (replacing any of the same name) or dropped."""
    parts = urllib.parse.urlsplit(url)
    kept = [(key, value) for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
            if key not in values and key not in drop]
    query = urllib.parse.urlencode(kept + list(values.items()), safe="$*():,")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def read(source, cache_dir, parse: Parse) -> tuple[RawTable, dict]:
    """The source's whole table and the first page's fetch meta; raises FetchError if incomplete."""
    def one(url: str) -> tuple[bytes, dict]:
        return http.fetch(dataclasses.replace(source, url=url), cache_dir=cache_dir)

    def parsed(url: str) -> tuple[bytes, dict, RawTable]:
        data, fetched = one(url)
        return data, fetched, parse(data, public_url(url), dict(fetched or {}))

    chosen = style(source)
    if chosen == "open311":
        pages = _open311_pages(source, parsed)
    elif chosen == "socrata":
        pages = _socrata_pages(source, parsed, one)
    else:
        data, fetched, table = parsed(source.url)
        _check_unpaged(source, table)
        return table, fetched
    return merge([table for _data, _fetched, table in pages],
                 [data for data, _fetched, _table in pages], public_url(source.url)), pages[0][1]


def _fail(source, message: str, hint: str) -> FetchError:
    return FetchError(message, location=Location(source=source.name, file=public_url(source.url)),
                      hint=hint)


def _open311_pages(source, parsed) -> list:
    size, most = source.paging.page_size, source.paging.max_pages
    pages: list = []
    longest = 0
    for number in range(1, most + 1):
        data, fetched, table = parsed(with_query(source.url, {"page": str(number),
                                                             "page_size": str(size)}))
        count = len(table.rows)
        if pages and hashlib.sha256(data).digest() == hashlib.sha256(pages[-1][0]).digest():
            if longest != size:  # it ignores paging and sent everything at once
                return pages
            raise _fail(source, f"page {number} of the Open311 feed is the same as page "
                        f"{number - 1}: the server ignores the `page` parameter, so only its "
                        f"first {longest} requests could be read",
                        "ask the publisher whether the feed pages differently, or narrow the "
                        "request (start_date/end_date in the url) until one page holds it all")
        if count == 0:
            return pages or [(data, fetched, table)]
        pages.append((data, fetched, table))
        if count < longest:
            return pages
        longest = max(longest, count)
    raise _fail(source, f"the Open311 feed still had full pages after paging.max_pages "
                f"({most}) pages of {longest} requests; the rest was not read",
                "raise paging.max_pages (or paging.page_size) for this source, or narrow the "
                "request in the url")


def _socrata_count(source, one) -> int:
    url = with_query(source.url, {"$select": "count(*)"}, drop=SOCRATA_PAGING_KEYS)
    data, _fetched = one(url)
    text = data.decode("utf-8-sig", errors="replace").strip()
    value = None
    if text.startswith("["):
        import json
        try:
            rows = json.loads(text)
            value = next(iter(rows[0].values()))
        except (ValueError, IndexError, AttributeError, StopIteration):
            value = None
    else:
        lines = [line.strip().strip('"') for line in text.splitlines() if line.strip()]
        value = lines[-1] if len(lines) == 2 else None
    try:
        return int(str(value))
    except ValueError:
        raise _fail(source, f"the server did not report its row count at {public_url(url)} "
                    f"(answer {text[:60]!r}), so a cut-short pull could not be noticed",
                    "check that the url is a Socrata /resource/ endpoint, or set paging.style "
                    "for this source to the paging its server uses")


def _socrata_pages(source, parsed, one) -> list:
    size, most = source.paging.page_size, source.paging.max_pages
    expected = _socrata_count(source, one)
    needed = max(1, math.ceil(expected / size))
    if needed > most:
        raise _fail(source, f"the server reports {expected} rows: {needed} pages of {size}, "
                    f"more than paging.max_pages ({most})",
                    "raise paging.max_pages or paging.page_size for this source")
    order = {} if "$order" in source.url else {"$order": ":id"}  # pages need a stable order
    pages = []
    for number in range(most):
        page = parsed(with_query(source.url, {**order, "$limit": str(size),
                                              "$offset": str(number * size)}))
        pages.append(page)
        if len(page[2].rows) < size:
            break
    received = sum(len(table.rows) for _data, _fetched, table in pages)
    if received != expected:
        raise _fail(source, f"the pull is incomplete: the server reports {expected} rows but "
                    f"{received} arrived in {len(pages)} page(s) of up to {size}",
                    "publish again (the data may have changed while it was read); if it "
                    "happens again, check the url's filters and paging.page_size")
    return pages


def _check_unpaged(source, table: RawTable) -> None:
    parts = urllib.parse.urlsplit(source.url)
    socrata = "/resource/" in parts.path and "$limit" not in parts.query
    if socrata and len(table.rows) == SOCRATA_DEFAULT_LIMIT:
        raise _fail(source, f"exactly {SOCRATA_DEFAULT_LIMIT} rows arrived from a Socrata "
                    "endpoint read without paging: that is its default page, so the export "
                    "is most likely cut short",
                    "set paging: {style: socrata} for this source, so every page is read and "
                    "checked against the server's row count")


def merge(tables: list[RawTable], bodies: list[bytes], name: str) -> RawTable:
    """One raw table of the pages in order, rows numbered on across them."""
    if len(tables) == 1:
        return tables[0]
    first = tables[0]
    same = all(table.headers == first.headers for table in tables)
    headers = first.headers if same else list(dict.fromkeys(
        header for table in tables for header in table.headers))
    rows, offset = [], 0
    for table in tables:
        positions = None if same else [table.headers.index(h) if h in table.headers else None
                                       for h in headers]
        for number, cells in table.rows:
            values = list(cells) if positions is None else \
                [cells[p] if p is not None and p < len(cells) else None for p in positions]
            rows.append((number + offset, values))
        if table.rows:
            offset += table.rows[-1][0] - table.header_row
    joined = b"".join(bodies)
    meta = {**first.meta, "sha256": hashlib.sha256(joined).hexdigest(), "bytes": len(joined),
            "pages": len(tables)}
    if "records" in meta:
        meta["records"] = len(rows)
    return RawTable(source=first.source, file=name, sheet=first.sheet, headers=headers,
                    rows=rows, meta=meta, header_row=first.header_row)

"""Paged feeds (Open311 page/page_size, Socrata $limit/$offset) read whole from a loopback server."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from etl.config import HttpOptions, Paging, Source, load_config
from etl.errors import FetchError
from etl.read import paging
from etl.read.sources import read_source


def open311_records(count: int) -> list[dict]:
    return [{"service_request_id": str(1000 + n), "status": "open" if n % 3 else "closed",
             "service_name": "Pothole", "description": f"pothole {n}",
             "agency_responsible": "Public Works",
             "requested_datetime": "2024-03-01T09:15:00-05:00",
             "updated_datetime": "2024-03-02T09:15:00-05:00"} for n in range(count)]


def socrata_csv(rows: list[int]) -> bytes:
    lines = ['"unique_key","created_date","agency","complaint_type","descriptor","status"']
    lines += [f'"{key}","2024-01-05T09:15:00.000","DSNY","Dirty Condition","Trash","Closed"'
              for key in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


class PagingServer:
    """Answers GET by a function of (path, query); logs every request's path and query."""

    def __init__(self, answer):
        self.requests: list[tuple[str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                server.requests.append((parts.path, query))
                content_type, body = answer(parts.path, query)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def serve(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    started = []

    def start(answer) -> PagingServer:
        started.append(PagingServer(answer))
        return started[-1]

    yield start
    for server in started:
        server.httpd.shutdown()
        server.httpd.server_close()


def open311_answer(records: list[dict], *, cap: int | None = None, honour_page: bool = True,
                   honour_size: bool = True):
    def answer(_path, query):
        size = int(query.get("page_size", 1000)) if honour_size else len(records)
        size = min(size, cap) if cap else size
        page = int(query.get("page", 1)) if honour_page else 1
        body = records[(page - 1) * size: page * size]
        return "application/json", json.dumps(body).encode("utf-8")
    return answer


def socrata_answer(total: int, *, reported: int | None = None):
    def answer(_path, query):
        if query.get("$select") == "count(*)":
            return "text/csv", f'"count"\n"{total if reported is None else reported}"\n'.encode()
        limit, offset = int(query.get("$limit", 1000)), int(query.get("$offset", 0))
        return "text/csv", socrata_csv(list(range(offset, min(total, offset + limit))))
    return answer


def source(url: str, kind: str = "open311", **page) -> Source:
    return Source(name="feed", kind=kind, url=url, paging=Paging(**page),
                  http=HttpOptions(timeout_seconds=2, retries=0, backoff_seconds=0))


def parse_open311(data, name, fetched):
    from etl.read import adapters
    return adapters.to_raw_table("open311", data, name=name, source_name="feed")


def parse_csv311(data, name, fetched):
    from etl.read import adapters
    return adapters.to_raw_table("csv311", data, name=name, source_name="feed")


def ids(table) -> list[str]:
    position = table.headers.index("issue_id")
    return [cells[position] for _number, cells in table.rows]


# --- Open311 ---------------------------------------------------------------------------------

def test_open311_pages_are_followed_until_a_short_page(serve, tmp_path):
    records = open311_records(25)
    server = serve(open311_answer(records))
    table, _meta = paging.read(source(server.url("/requests.json"), page_size=10), tmp_path,
                               parse_open311)
    assert ids(table) == [r["service_request_id"] for r in records]
    assert [number for number, _ in table.rows] == list(range(1, 26))  # numbered across pages
    assert [(q["page"], q["page_size"]) for _p, q in server.requests] == [
        ("1", "10"), ("2", "10"), ("3", "10")]
    assert table.meta["pages"] == 3 and table.meta["records"] == 25


def test_open311_server_capping_the_page_size_is_still_read_whole(serve, tmp_path):
    records = open311_records(25)
    server = serve(open311_answer(records, cap=7))  # asked for 10, sends 7 a page
    table, _meta = paging.read(source(server.url("/requests.json"), page_size=10), tmp_path,
                               parse_open311)
    assert len(table.rows) == 25 and len(set(ids(table))) == 25
    assert len(server.requests) == 4  # 7, 7, 7, 4


def test_open311_exact_multiple_ends_on_an_empty_page(serve, tmp_path):
    server = serve(open311_answer(open311_records(20)))
    table, _meta = paging.read(source(server.url("/requests.json"), page_size=10), tmp_path,
                               parse_open311)
    assert len(table.rows) == 20 and len(server.requests) == 3


def test_open311_server_without_paging_sends_everything_once(serve, tmp_path):
    server = serve(open311_answer(open311_records(25), honour_page=False, honour_size=False))
    table, _meta = paging.read(source(server.url("/requests.json"), page_size=10), tmp_path,
                               parse_open311)
    assert len(table.rows) == 25 and len(server.requests) == 2


def test_open311_server_ignoring_page_is_an_error_not_a_part(serve, tmp_path):
    server = serve(open311_answer(open311_records(25), honour_page=False))
    with pytest.raises(FetchError, match=r"ignores the `page` parameter.*first 10 requests"):
        paging.read(source(server.url("/requests.json"), page_size=10), tmp_path, parse_open311)


def test_open311_more_pages_than_max_pages_is_an_error(serve, tmp_path):
    server = serve(open311_answer(open311_records(25)))
    with pytest.raises(FetchError, match=r"max_pages \(2\)") as caught:
        paging.read(source(server.url("/requests.json"), page_size=10, max_pages=2), tmp_path,
                    parse_open311)
    assert "raise paging.max_pages" in caught.value.render()
    assert len(server.requests) == 2


def test_paging_style_none_asks_once(serve, tmp_path):
    server = serve(open311_answer(open311_records(25)))
    table, _meta = paging.read(source(server.url("/requests.json"), style="none"), tmp_path,
                               parse_open311)
    assert len(table.rows) == 25 and server.requests == [("/requests.json", {})]


# --- Socrata ---------------------------------------------------------------------------------

def test_socrata_pages_with_limit_and_offset_and_checks_the_count(serve, tmp_path):
    server = serve(socrata_answer(2500))
    url = server.url("/resource/erm2-nwe9.csv") + "?$where=agency='DSNY'"
    table, _meta = paging.read(source(url, "csv311", style="socrata", page_size=1000),
                               tmp_path, parse_csv311)
    assert ids(table) == [str(n) for n in range(2500)]
    # CSV rows are numbered as in one export: header row 1, then 2 .. 2501.
    assert [number for number, _ in table.rows] == list(range(2, 2502))
    count, *pages = [query for _path, query in server.requests]
    assert count == {"$where": "agency='DSNY'", "$select": "count(*)"}
    assert [(q["$limit"], q["$offset"], q["$order"], q["$where"]) for q in pages] == [
        ("1000", "0", ":id", "agency='DSNY'"), ("1000", "1000", ":id", "agency='DSNY'"),
        ("1000", "2000", ":id", "agency='DSNY'")]


def test_socrata_pull_short_of_the_reported_count_is_an_error(serve, tmp_path):
    server = serve(socrata_answer(2500, reported=2600))
    with pytest.raises(FetchError, match="server reports 2600 rows but 2500 arrived"):
        paging.read(source(server.url("/resource/x.csv"), "csv311", style="socrata"),
                    tmp_path, parse_csv311)


def test_socrata_count_beyond_max_pages_stops_before_downloading(serve, tmp_path):
    server = serve(socrata_answer(5000))
    with pytest.raises(FetchError, match=r"5000 rows: 5 pages of 1000, more than "
                                         r"paging.max_pages \(4\)"):
        paging.read(source(server.url("/resource/x.csv"), "csv311", style="socrata",
                           max_pages=4), tmp_path, parse_csv311)
    assert len(server.requests) == 1


def test_socrata_without_a_count_is_an_error(serve, tmp_path):
    server = serve(lambda _path, _query: ("text/csv", socrata_csv([1, 2])))
    with pytest.raises(FetchError, match="did not report its row count"):
        paging.read(source(server.url("/resource/x.csv"), "csv311", style="socrata"),
                    tmp_path, parse_csv311)


def test_unpaged_socrata_pull_of_its_default_page_is_an_error(serve, tmp_path):
    server = serve(socrata_answer(5000))  # no $limit: the server's default 1,000 rows
    with pytest.raises(FetchError, match="default page") as caught:
        paging.read(source(server.url("/resource/x.csv"), "csv311"), tmp_path, parse_csv311)
    assert "paging: {style: socrata}" in caught.value.render()


# --- through the config and read_source -------------------------------------------------------

def test_paging_options_from_the_config_reach_read_source(serve, tmp_path):
    records = open311_records(12)
    for record in records[:5]:
        del record["agency_responsible"]
    server = serve(open311_answer(records))
    config_path = tmp_path / "gongshi.yml"
    config_path.write_text(yaml.safe_dump({
        "as_of": "2026-11-20",
        "sources": [{"name": "riverton", "kind": "open311", "url": server.url("/requests.json"),
                     "paging": {"page_size": 5, "max_pages": 10},
                     "unit_fallback": "service_name",
                     "http": {"retries": 0}}]}), encoding="utf-8")
    config = load_config(config_path)
    (table,) = read_source(config.sources[0], config)
    assert len(table.rows) == 12 and table.file == server.url("/requests.json")
    units = [cells[table.headers.index("unit")] for _n, cells in table.rows]
    assert units == ["Pothole"] * 5 + ["Public Works"] * 7
    assert len(server.requests) == 3  # 5, 5, 2

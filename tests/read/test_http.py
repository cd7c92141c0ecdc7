"""etl.read.http.fetch against a scripted HTTP server on 127.0.0.1 (loopback only, no internet)."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from etl.read import http
from etl.read import sources
from etl.config import HttpOptions, Source
from etl.errors import FetchError

CSV_BODY = "issue_id,description,status\n1,路灯不亮,closed\n2,井盖缺失,open\n".encode("utf-8")
META_KEYS = {"url", "status", "etag", "last_modified", "content_type", "encoding", "sha256",
             "bytes", "from_cache"}


@dataclass
class Reply:
    """One scripted answer; length None announces len(body), -1 announces nothing."""

    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    length: int | None = None


class FakeServer:
    """Serves scripted replies per path, in order (the last one repeats), and logs requests."""

    def __init__(self):
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                replies = fake.routes.get(self.path) or [Reply(404, b"not found")]
                reply = replies.pop(0) if len(replies) > 1 else replies[0]
                time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.length != -1 and reply.status != 304:
                        length = len(reply.body) if reply.length is None else reply.length
                        self.send_header("Content-Length", str(length))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test); nothing to do

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def count(self, path: str) -> int:
        return sum(1 for requested, _ in self.requests if requested == path)


@pytest.fixture
def server(monkeypatch):
    # A proxy from the environment would send loopback requests elsewhere.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    fake = FakeServer()
    fake.thread.start()
    yield fake
    fake.httpd.shutdown()
    fake.httpd.server_close()


def make_source(url: str, **options) -> Source:
    settings = dict(timeout_seconds=2.0, retries=2, backoff_seconds=0.01, max_bytes=1_000_000)
    settings.update(options)
    encoding = settings.pop("encoding", "auto")
    return Source(name="issues", kind="http", url=url, format="csv", encoding=encoding,
                  http=HttpOptions(**settings))


def csv_reply(**headers) -> Reply:
    return Reply(200, CSV_BODY, {"Content-Type": "text/csv; charset=utf-8", **headers})


class Sleeps(list):
    """Records the waits fetch asks for without waiting them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def cache_files(cache_dir: Path) -> dict[str, bytes]:
    if not cache_dir.exists():
        return {}
    return {path.name: path.read_bytes() for path in sorted(cache_dir.iterdir())}


# --- success and the conditional cache -------------------------------------------------------

def test_etag_then_304_is_served_from_cache(server, tmp_path):
    server.routes["/issues.csv"] = [
        csv_reply(ETag='"v1"', **{"Last-Modified": "Wed, 06 Mar 2024 08:00:00 GMT"}),
        Reply(304),
    ]
    source = make_source(server.url("/issues.csv"))

    body, meta = http.fetch(source, tmp_path)
    assert body == CSV_BODY
    assert set(meta) == META_KEYS
    assert meta["status"] == 200 and meta["from_cache"] is False
    assert meta["etag"] == '"v1"'
    assert meta["encoding"] == "utf-8"
    assert meta["bytes"] == len(CSV_BODY)
    assert re.fullmatch(r"[0-9a-f]{64}", meta["sha256"])

    again, meta2 = http.fetch(source, tmp_path)
    assert again == CSV_BODY
    assert meta2["status"] == 304 and meta2["from_cache"] is True
    assert meta2["sha256"] == meta["sha256"] and meta2["encoding"] == "utf-8"
    first, second = (headers for _, headers in server.requests)
    assert "if-none-match" not in first
    assert second["if-none-match"] == '"v1"'
    assert second["if-modified-since"] == "Wed, 06 Mar 2024 08:00:00 GMT"


def test_cache_file_names_are_hashes_never_the_url(server, tmp_path):
    server.routes["/exports/issues.csv"] = [csv_reply(ETag='"v1"')]
    http.fetch(make_source(server.url("/exports/issues.csv")), tmp_path)
    names = list(cache_files(tmp_path))
    assert names, "a complete response is cached"
    assert all(re.fullmatch(r"[0-9a-f]{64}\.(body|json)", name) for name in names)


def test_damaged_cache_is_not_revalidated(server, tmp_path):
    server.routes["/issues.csv"] = [csv_reply(ETag='"v1"')]
    source = make_source(server.url("/issues.csv"))
    http.fetch(source, tmp_path)
    body_file = next(tmp_path.glob("*.body"))
    body_file.write_bytes(b"half a bo")  # as if a write had been interrupted

    body, meta = http.fetch(source, tmp_path)
    assert "if-none-match" not in server.requests[-1][1]
    assert body == CSV_BODY and meta["from_cache"] is False


def test_304_without_a_cached_copy_fails(server, tmp_path):
    server.routes["/issues.csv"] = [Reply(304)]
    with pytest.raises(FetchError, match="304 Not Modified"):
        http.fetch(make_source(server.url("/issues.csv")), tmp_path)


def test_configured_headers_are_sent(server, tmp_path):
    server.routes["/issues.csv"] = [csv_reply()]
    source = make_source(server.url("/issues.csv"), headers={"X-Api-Key": "k-123"})
    http.fetch(source, tmp_path)
    sent = server.requests[0][1]
    assert sent["x-api-key"] == "k-123"
    assert sent["user-agent"].startswith("gongshi/")



def test_redirect_is_followed_without_private_headers(server, tmp_path):
    server.routes["/old.csv"] = [Reply(302, b"", {"Location": server.url("/issues.csv")})]
    server.routes["/issues.csv"] = [csv_reply()]
    body, _ = http.fetch(make_source(server.url("/old.csv")), tmp_path)
    assert body == CSV_BODY


def test_redirect_with_private_headers_is_refused(server, tmp_path):
    server.routes["/old.csv"] = [Reply(302, b"", {"Location": "http://127.0.0.2:9/elsewhere.csv"})]
    source = make_source(server.url("/old.csv"), headers={"X-Api-Key": "k-123"})
    with pytest.raises(FetchError, match="redirects to http://127.0.0.2:9/elsewhere.csv") as caught:
        http.fetch(source, tmp_path)
    assert "put the final URL in the config" in caught.value.render()
    assert server.count("/old.csv") == 1

# --- retries -----------------------------------------------------------------------------

def test_500_twice_then_200_is_retried_with_exponential_backoff(server, tmp_path):
    server.routes["/issues.csv"] = [Reply(500, b"oops"), Reply(502, b"oops"), csv_reply()]
    sleeps = Sleeps()
    body, meta = http.fetch(make_source(server.url("/issues.csv"), retries=2), tmp_path,
                            sleep=sleeps)
    assert body == CSV_BODY and meta["status"] == 200
    assert server.count("/issues.csv") == 3
    assert sleeps == pytest.approx([0.01, 0.02])


def test_500_every_time_gives_up_after_the_retries(server, tmp_path):
    server.routes["/issues.csv"] = [Reply(500, b"oops")]
    url = server.url("/issues.csv")
    with pytest.raises(FetchError) as caught:
        http.fetch(make_source(url, retries=1), tmp_path)
    assert server.count("/issues.csv") == 2
    message = str(caught.value)
    assert url in message and "after 2 attempt(s)" in message and "HTTP 500" in message
    assert "what to do:" in message
    assert cache_files(tmp_path) == {}


def test_404_is_not_retried_and_says_what_to_do(server, tmp_path):
    url = server.url("/missing.csv")
    with pytest.raises(FetchError) as caught:
        http.fetch(make_source(url, retries=3), tmp_path)
    assert server.count("/missing.csv") == 1
    message = str(caught.value)
    assert f"{url} answered HTTP 404" in message
    assert "not retried" in message and "check the url" in message


def test_403_hint_points_at_http_headers(server, tmp_path):
    server.routes["/issues.csv"] = [Reply(403, b"forbidden")]
    with pytest.raises(FetchError, match="http.headers"):
        http.fetch(make_source(server.url("/issues.csv")), tmp_path)
    assert server.count("/issues.csv") == 1


def test_timeout_fails_after_retries(server, tmp_path):
    server.routes["/slow.csv"] = [Reply(200, CSV_BODY, {"Content-Type": "text/csv"}, delay=0.6)]
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        http.fetch(make_source(server.url("/slow.csv"), timeout_seconds=0.2, retries=1),
                   tmp_path)
    assert time.monotonic() - started < 1.5  # two 0.2 s waits, not two 0.6 s answers
    assert server.count("/slow.csv") == 2
    assert "no answer within 0.2s" in str(caught.value)


def test_retry_after_is_honoured(server, tmp_path):
    server.routes["/issues.csv"] = [Reply(503, b"busy", {"Retry-After": "3"}), csv_reply()]
    sleeps = Sleeps()
    body, _ = http.fetch(make_source(server.url("/issues.csv"), backoff_seconds=0.001),
                         tmp_path, sleep=sleeps)
    assert body == CSV_BODY
    assert sleeps == [3.0]


def test_retry_after_is_capped(server, tmp_path, monkeypatch):
    monkeypatch.setattr(http, "RETRY_AFTER_CAP_SECONDS", 0.05)
    server.routes["/issues.csv"] = [Reply(429, b"slow down", {"Retry-After": "3600"}),
                                    csv_reply()]
    started = time.monotonic()
    body, _ = http.fetch(make_source(server.url("/issues.csv"), backoff_seconds=0.001),
                         tmp_path)
    assert body == CSV_BODY
    assert server.count("/issues.csv") == 2
    assert 0.05 <= time.monotonic() - started < 2


def test_retry_after_accepts_an_http_date():
    now = dt.datetime(2024, 3, 6, 8, 0, 0, tzinfo=dt.timezone.utc)
    assert http.retry_after_seconds("Wed, 06 Mar 2024 08:00:30 GMT", now=now) == 30
    assert http.retry_after_seconds("Wed, 06 Mar 2024 07:00:00 GMT", now=now) == 0
    assert http.retry_after_seconds("7") == 7
    assert http.retry_after_seconds("soon") is None
    assert http.retry_after_seconds(None) is None


# --- size, truncation, content type, encoding ---------------------------------------------

def test_body_over_max_bytes_is_stopped_while_streaming(server, tmp_path):
    server.routes["/big.csv"] = [Reply(200, b"a,b\n" * 2000, {"Content-Type": "text/csv"},
                                       length=-1)]
    with pytest.raises(FetchError) as caught:
        http.fetch(make_source(server.url("/big.csv"), max_bytes=1000), tmp_path)
    assert "larger than http.max_bytes (1000 bytes)" in str(caught.value)
    assert "more than 1000 bytes arrived" in str(caught.value)
    assert server.count("/big.csv") == 1  # too big is not a passing failure
    assert cache_files(tmp_path) == {}


def test_announced_length_over_max_bytes_is_refused_before_reading(server, tmp_path):
    server.routes["/big.csv"] = [Reply(200, b"a,b\n" * 2000, {"Content-Type": "text/csv"})]
    with pytest.raises(FetchError, match="announces 8000 bytes"):
        http.fetch(make_source(server.url("/big.csv"), max_bytes=1000), tmp_path)
    assert server.count("/big.csv") == 1


def test_truncated_body_fails_and_caches_nothing(server, tmp_path):
    server.routes["/cut.csv"] = [Reply(200, CSV_BODY[:20], {"Content-Type": "text/csv"},
                                       length=len(CSV_BODY))]
    with pytest.raises(FetchError, match="truncated"):
        http.fetch(make_source(server.url("/cut.csv"), retries=1), tmp_path)
    assert server.count("/cut.csv") == 2  # a cut connection may pass, so it is retried
    assert cache_files(tmp_path) == {}


def test_failed_pull_leaves_the_previous_cache_untouched(server, tmp_path):
    server.routes["/issues.csv"] = [csv_reply(ETag='"v1"'),
                                    Reply(200, b"issue_id,desc", {"Content-Type": "text/csv"},
                                          length=500)]
    source = make_source(server.url("/issues.csv"), retries=0)
    http.fetch(source, tmp_path)
    before = cache_files(tmp_path)
    with pytest.raises(FetchError):
        http.fetch(source, tmp_path)
    assert cache_files(tmp_path) == before
    assert all(not name.startswith(".tmp-") for name in before)


def test_html_page_for_a_csv_source_is_refused(server, tmp_path):
    page = b"<!DOCTYPE html><html><body>Please log in</body></html>"
    server.routes["/issues.csv"] = [Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})]
    with pytest.raises(FetchError) as caught:
        http.fetch(make_source(server.url("/issues.csv")), tmp_path)
    message = str(caught.value)
    assert "sent an HTML page (text/html; charset=utf-8)" in message
    assert "open the URL in a browser" in message
    assert server.count("/issues.csv") == 1
    assert cache_files(tmp_path) == {}


def test_html_page_labelled_text_plain_is_sniffed(server, tmp_path):
    page = b"\n  <html><head><title>Error</title></head></html>"
    server.routes["/issues.csv"] = [Reply(200, page, {"Content-Type": "text/plain"})]
    with pytest.raises(FetchError, match="sent an HTML page"):
        http.fetch(make_source(server.url("/issues.csv")), tmp_path)


def test_content_types_allow_list(server, tmp_path):
    server.routes["/issues.csv"] = [Reply(200, b"[]", {"Content-Type": "application/json"})]
    url = server.url("/issues.csv")
    with pytest.raises(FetchError, match=r"not in http.content_types \(text/csv\)"):
        http.fetch(make_source(url, content_types=["text/csv"]), tmp_path)
    body, _ = http.fetch(make_source(url, content_types=["text/csv", "application/*"]),
                         tmp_path)
    assert body == b"[]"


def test_charset_meta_lets_sources_read_a_generic_csv(server, tmp_path):
    data = "序号,问题描述,整改进展\n1,路灯不亮,已完成\n".encode("gbk")
    server.routes["/gbk.csv"] = [Reply(200, data, {"Content-Type": "text/csv; charset=GBK"})]
    url = server.url("/gbk.csv")
    body, meta = http.fetch(make_source(url), tmp_path)
    assert body == data and meta["encoding"] == "gbk"
    table = sources.read_bytes(body, name=url, source_name="issues", fmt="csv",
                               encoding=meta["encoding"])
    assert table.headers == ["序号", "问题描述", "整改进展"]
    assert table.rows[0][1] == ["1", "路灯不亮", "已完成"]


def test_read_source_uses_the_declared_charset(server, tmp_path, config):
    # Big5 bytes also decode as GB18030, into the wrong characters: the header must decide.
    data = "序號,問題描述,整改進展\n1,路燈不亮,已完成\n".encode("big5")
    server.routes["/big5.csv"] = [Reply(200, data, {"Content-Type": "text/csv; charset=Big5"})]
    source = make_source(server.url("/big5.csv"))
    (table,) = sources.read_source(source, config)
    assert table.rows[0][1] == ["1", "路燈不亮", "已完成"]


def test_generic_json_without_charset(server, tmp_path):
    data = '[{"issue_id": "1", "status": "open"}]'.encode("utf-8")
    server.routes["/issues.json"] = [Reply(200, data, {"Content-Type": "application/json"})]
    body, meta = http.fetch(make_source(server.url("/issues.json")), tmp_path)
    assert body == data
    assert meta["encoding"] is None and meta["content_type"] == "application/json"


def test_declared_charset_that_does_not_fit_the_bytes(server, tmp_path):
    data = "序号,问题描述\n1,路灯不亮\n".encode("gbk")
    server.routes["/liar.csv"] = [Reply(200, data, {"Content-Type": "text/csv; charset=utf-8"})]
    url = server.url("/liar.csv")
    with pytest.raises(FetchError, match="declares charset 'utf-8' but byte 0 is not valid"):
        http.fetch(make_source(url), tmp_path)
    # An encoding fixed in the config wins over the server's claim.
    body, _ = http.fetch(make_source(url, encoding="gb18030"), tmp_path)
    assert body == data


def test_unknown_charset_is_refused(server, tmp_path):
    server.routes["/odd.csv"] = [Reply(200, CSV_BODY, {"Content-Type": "text/csv; charset=x-nope"})]
    with pytest.raises(FetchError, match="unknown charset 'x-nope'"):
        http.fetch(make_source(server.url("/odd.csv")), tmp_path)


def test_revalidated_unchanged_source_gives_identical_sources_json(server, write_config):
    # 200 the first time, 304 after: the snapshot id hashes sources.json, so a rerun of an
    # unchanged source must not change a byte of it.
    import hashlib
    import json

    from etl import extract
    from etl.config import load_config
    data = "序号,问题描述,责任单位,整改进展\n1,路灯不亮,县住建局,已完成\n".encode("utf-8")
    server.routes["/issues.csv"] = [
        Reply(200, data, {"Content-Type": "text/csv; charset=utf-8", "ETag": '"v1"',
                          "Last-Modified": "Wed, 06 Mar 2024 08:00:00 GMT"}),
        Reply(304, b"", {"ETag": '"v1"'}),
    ]
    config = load_config(write_config(sources=[
        {"name": "issues", "kind": "http", "url": server.url("/issues.csv"),
         "http": {"retries": 0, "timeout_seconds": 2}}]))
    first = (extract.run(config) / "sources.json").read_bytes()
    second = (extract.run(config) / "sources.json").read_bytes()
    assert server.count("/issues.csv") == 2
    assert server.requests[1][1]["if-none-match"] == '"v1"'  # so the answer was the 304
    assert second == first
    [entry] = json.loads(first)
    assert entry["fetched"] == {"etag": '"v1"', "last_modified": "Wed, 06 Mar 2024 08:00:00 GMT"}
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_errors_do_not_print_credentials_of_the_url(server, tmp_path):
    server.routes["/gone.csv"] = [Reply(404, b"not found")]
    url = server.url("/gone.csv?year=2026&api_key=K3Y").replace("http://", "http://me:pa55@")
    with pytest.raises(FetchError) as caught:
        http.fetch(make_source(url), tmp_path)
    text = str(caught.value)
    assert "/gone.csv?year=2026&api_key=*** answered HTTP 404" in text
    assert "K3Y" not in text and "pa55" not in text
    # A connection failure quotes the path and query on their own.
    dead = "http://127.0.0.1:9/x.csv?token=T0K"
    with pytest.raises(FetchError) as caught:
        http.fetch(make_source(dead, retries=0), tmp_path)
    assert "gave up on http://127.0.0.1:9/x.csv?token=***" in str(caught.value)
    assert "with url: /x.csv?token=***" in str(caught.value)
    assert "T0K" not in str(caught.value)

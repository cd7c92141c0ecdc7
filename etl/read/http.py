"""Fetch one HTTP source with timeouts, bounded retries, a size limit and a conditional cache."""

from __future__ import annotations

import codecs
import datetime as dt
import email.utils
import hashlib
import json
import os
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Callable

import requests

from etl import __version__
from etl.config import Source
from etl.errors import FetchError, Location
from etl.read.formats import public_url

# A server may ask for minutes of quiet; a publish run should not hang that long, so the
# wait is capped and the next attempt simply tries again.
RETRY_AFTER_CAP_SECONDS = 60.0
CHUNK_BYTES = 64 * 1024
# Only the start of a body is sniffed for HTML: an error page announces itself at once.
SNIFF_BYTES = 512
USER_AGENT = f"gongshi/{__version__}"

HTML_TYPES = ("text/html", "application/xhtml+xml")


class _Retryable(Exception):
    """One attempt failed in a way that may pass: connection, timeout, 429 or 5xx."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def fetch(source: Source, cache_dir: Path, *, session: requests.Session | None = None,
          sleep: Callable[[float], None] = time.sleep) -> tuple[bytes, dict]:
    """Download source.url completely or raise FetchError; reuse the cached body on 304.

    The cache entry is replaced only after a complete response that passed every check, so
    a failed pull leaves the previous entry as it was and returns nothing partial.
    """
    options = source.http
    cache = _Cache(Path(cache_dir), source.url)
    cached = cache.load()
    own_session = session is None
    session = session or requests.Session()
    attempts = max(0, options.retries) + 1
    last_reason = ""
    try:
        for attempt in range(attempts):
            try:
                return _attempt(source, session, cache, cached)
            except _Retryable as failure:
                last_reason = failure.reason
                if attempt + 1 >= attempts:
                    break
                delay = options.backoff_seconds * (2 ** attempt)
                if failure.retry_after is not None:
                    delay = max(delay, min(failure.retry_after, RETRY_AFTER_CAP_SECONDS))
                sleep(delay)
    finally:
        if own_session:
            session.close()
    raise _error(source, f"gave up on {source.url} after {attempts} attempt(s): {last_reason}",
                 "check that the server is up and the URL opens in a browser; try again "
                 "later, or raise http.retries / http.timeout_seconds in the config")


def _error(source: Source, message: str, hint: str) -> FetchError:
    return FetchError(_scrub(message, source.url), location=Location(source=source.name),
                      hint=hint)


def _scrub(text: str, url: str) -> str:
    """The message without the URL's credentials, which error logs must not carry either.

    requests quotes the path and query on their own ("Max retries exceeded with url: /x?key=..."),
    so those are replaced as well as the whole URL.
    """
    shown = public_url(url)
    text = text.replace(url, shown)
    raw, public = urllib.parse.urlsplit(url), urllib.parse.urlsplit(shown)
    if raw.query and raw.query != public.query:
        text = text.replace(f"{raw.path}?{raw.query}", f"{public.path}?{public.query}")
    return text


def _attempt(source: Source, session: requests.Session, cache: "_Cache",
             cached: dict | None) -> tuple[bytes, dict]:
    options = source.http
    url = source.url
    headers = {"User-Agent": USER_AGENT}
    headers.update(options.headers)
    if cached is not None:
        # Validators only go out when the cached body is intact, so a 304 always has a body.
        if cached.get("etag"):
            headers["If-None-Match"] = cached["etag"]
        if cached.get("last_modified"):
            headers["If-Modified-Since"] = cached["last_modified"]
    timeout = options.timeout_seconds
    try:
        # A source's own headers often carry an API key; they must not follow a redirect to
        # another host, so such a source is fetched from its final address only.
        follow = not options.headers
        with session.get(url, headers=headers, timeout=(timeout, timeout), stream=True,
                         allow_redirects=follow) as response:
            if response.is_redirect:
                raise _error(source, f"{url} redirects to {response.headers.get('Location')}",
                             "this source sends its own http.headers, which are not sent on to "
                             "another address; put the final URL in the config")
            return _handle(source, response, cache, cached)
    except requests.exceptions.SSLError as exc:
        # A certificate problem will not pass by waiting; retrying only hides it.
        raise _error(source, f"TLS check failed for {url}: {exc}",
                     "fix the server's certificate or use the right https URL; "
                     "certificate checks are never switched off") from exc
    except requests.exceptions.Timeout as exc:
        raise _Retryable(f"no answer within {timeout:g}s ({type(exc).__name__})") from exc
    except requests.exceptions.ChunkedEncodingError as exc:
        raise _Retryable(f"the body was cut short (truncated): {exc}") from exc
    except requests.exceptions.ContentDecodingError as exc:
        raise _Retryable(f"the compressed body could not be decoded: {exc}") from exc
    except requests.exceptions.ConnectionError as exc:
        text = str(exc)
        if "timed out" in text.lower():
            raise _Retryable(f"no answer within {timeout:g}s while reading the body") from exc
        raise _Retryable(f"connection failed: {text}") from exc
    except requests.exceptions.RequestException as exc:
        # Bad URL, bad header value, redirect loop: the request itself is wrong.
        raise _error(source, f"cannot request {url}: {exc}",
                     "check the url and http.headers of this source in the config") from exc


def _handle(source: Source, response: requests.Response, cache: "_Cache",
            cached: dict | None) -> tuple[bytes, dict]:
    url = source.url
    status = response.status_code
    if status == 304:
        if cached is None:
            raise _error(source, f"{url} answered 304 Not Modified to a request that had no "
                         "cached copy", "delete the source's cache files and run again")
        meta = {key: cached.get(key) for key in
                ("etag", "last_modified", "content_type", "encoding", "sha256", "bytes")}
        meta.update(url=url, status=304, from_cache=True)
        # A 304 may carry fresher validators; keep the old ones when it does not.
        meta["etag"] = response.headers.get("ETag") or meta["etag"]
        meta["last_modified"] = response.headers.get("Last-Modified") or meta["last_modified"]
        return cached["body"], meta
    if status == 429 or status >= 500:
        raise _Retryable(f"HTTP {status} {response.reason or ''}".strip(),
                         retry_after_seconds(response.headers.get("Retry-After")))
    if status != 200:
        raise _error(source, f"{url} answered HTTP {status} {response.reason or ''}".rstrip()
                     + " (not retried: the request itself was refused or is wrong)",
                     _hint_for_status(status))

    content_type = response.headers.get("Content-Type", "")
    media_type, charset = parse_content_type(content_type)
    _check_media_type(source, media_type, content_type)
    _check_declared_length(source, response)
    body = _read_limited(source, response)
    _check_complete(source, response, body)
    _check_not_html(source, body, media_type)
    encoding = _check_encoding(source, body, charset)

    digest = hashlib.sha256(body).hexdigest()
    meta = {
        "url": url, "status": status,
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
        "content_type": content_type or None,
        "encoding": encoding,
        "sha256": digest, "bytes": len(body), "from_cache": False,
    }
    cache.store(body, meta)
    return body, meta


def _hint_for_status(status: int) -> str:
    if status in (401, 403):
        return ("the server refused access; if it needs a key or token, put it under "
                "http.headers of this source in the config")
    if status == 404:
        return "the URL does not exist (any more); check the url of this source in the config"
    if 300 <= status < 400:
        return "the server redirected somewhere unusable; put the final URL in the config"
    return "open the URL in a browser to see what the server says, then fix the config"


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def parse_content_type(header: str) -> tuple[str, str | None]:
    """Media type (lower case) and the charset parameter, if any, of a Content-Type header."""
    parts = [part.strip() for part in header.split(";")]
    media_type = parts[0].lower()
    charset = None
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip('"').strip("'")
    return media_type, charset


def _check_media_type(source: Source, media_type: str, header: str) -> None:
    allowed = [item.strip().lower() for item in source.http.content_types if item.strip()]
    if allowed:
        if not any(_media_matches(media_type, pattern) for pattern in allowed):
            raise _error(source, f"{source.url} sent Content-Type {header or '(none)'!r}, "
                         f"which is not in http.content_types ({', '.join(allowed)})",
                         "check that the URL points at the data export; if the server "
                         "changed its type on purpose, add it to http.content_types")
        return
    if media_type in HTML_TYPES:
        raise _html_error(source, header)


def _media_matches(media_type: str, pattern: str) -> bool:
    if pattern.endswith("/*"):
        return media_type.startswith(pattern[:-1])
    return media_type == pattern


def _html_allowed(source: Source) -> bool:
    return any(_media_matches(html, item.strip().lower())
               for item in source.http.content_types for html in HTML_TYPES)


def _html_error(source: Source, what: str) -> FetchError:
    return _error(source, f"{source.url} sent an HTML page ({what}) where {source.kind} data "
                  "was expected; servers often answer a login, maintenance or error page "
                  "with status 200",
                  "open the URL in a browser to see the page, then fix the URL or the "
                  "access key; list text/html in http.content_types only if HTML is the data")


def _check_not_html(source: Source, body: bytes, media_type: str) -> None:
    # Some servers label their error page text/plain or application/octet-stream.
    if _html_allowed(source) or media_type in HTML_TYPES:
        return
    start = body[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html")):
        raise _html_error(source, f"the body starts with {body[:15].decode('latin-1')!r}")


def _check_declared_length(source: Source, response: requests.Response) -> None:
    declared = _content_length(response)
    if declared is not None and declared > source.http.max_bytes:
        raise _too_big(source, f"it announces {declared} bytes")


def _too_big(source: Source, detail: str) -> FetchError:
    return _error(source, f"{source.url} is larger than http.max_bytes "
                  f"({source.http.max_bytes} bytes): {detail}; the download was stopped",
                  "check that the URL is the intended export; if it really is this large, "
                  "raise http.max_bytes for this source in the config")


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _read_limited(source: Source, response: requests.Response) -> bytes:
    limit = source.http.max_bytes
    chunks: list[bytes] = []
    total = 0
    # Counted after decompression, so a small gzip bomb cannot grow past the limit either.
    for chunk in response.iter_content(CHUNK_BYTES):
        total += len(chunk)
        if total > limit:
            raise _too_big(source, f"more than {limit} bytes arrived")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_complete(source: Source, response: requests.Response, body: bytes) -> None:
    declared = _content_length(response)
    # With Content-Encoding the header counts compressed bytes; urllib3 checks those itself.
    if declared is None or response.headers.get("Content-Encoding", "identity") != "identity":
        return
    if len(body) != declared:
        raise _Retryable(f"the body was cut short (truncated): {len(body)} of {declared} "
                         "announced bytes arrived")


def _check_encoding(source: Source, body: bytes, charset: str | None) -> str | None:
    """The declared charset, normalised; checked against the bytes unless the config fixes one."""
    if charset is None:
        return None
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        if source.encoding != "auto":
            return charset
        raise _error(source, f"{source.url} declares an unknown charset {charset!r}",
                     "set encoding for this source in the config (for example utf-8 or "
                     "gb18030)")
    if source.encoding == "auto":
        try:
            body.decode(name)
        except UnicodeDecodeError as exc:
            raise _error(source, f"{source.url} declares charset {charset!r} but byte "
                         f"{exc.start} is not valid {name}",
                         "set encoding for this source in the config to the real one "
                         "(Chinese exports are often gb18030)") from exc
    return name


class _Cache:
    """Last good body and its validators for one URL; file names are a hash of the URL."""

    def __init__(self, directory: Path, url: str):
        self.directory = directory
        self.url = url
        key = hashlib.sha256(url.encode("utf-8")).hexdigest()
        self.body_path = directory / f"{key}.body"
        self.meta_path = directory / f"{key}.json"

    def load(self) -> dict | None:
        """The cached entry with its body, or None when absent, foreign or damaged."""
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            body = self.body_path.read_bytes()
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("url") != self.url:
            return None
        # Body and meta are replaced one after the other; a mismatch means an interrupted
        # write, and revalidating against it could serve the wrong bytes on a 304.
        if hashlib.sha256(body).hexdigest() != meta.get("sha256"):
            return None
        meta["body"] = body
        return meta

    def store(self, body: bytes, meta: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {key: meta[key] for key in ("url", "etag", "last_modified", "content_type",
                                             "encoding", "sha256", "bytes")}
        _write_atomic(self.body_path, body)
        _write_atomic(self.meta_path,
                      json.dumps(record, ensure_ascii=False, sort_keys=True).encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

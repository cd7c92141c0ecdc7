"""Browser test helpers: find chromium, build or find the site, serve it under a sub-path, watch pages."""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("GONGSHI_CHROMIUM", "/usr/bin/chromium"))
# No first-run, sync or update traffic of the browser's own: any request we see is the page's.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SUB_PATH = "/some/sub/path/"
# mkdocs-material's own scripts and styles: cached after the first page, outside the page budget.
THEME_ASSETS = ("assets/javascripts/", "assets/stylesheets/")


def build_site(folder: Path) -> Path:
    """Publish the demo campaign into folder/site from a copy of site_data, leaving the real one alone.

    Snapshots are not copied (the real ones may come from other code versions); the earlier
    exports are published first, as `make seed-history` does, so history pages have data.
    """
    data = folder / "site_data"
    shutil.copytree(ROOT / "site_data", data, ignore=shutil.ignore_patterns("snapshots", "site", "build"))
    config = data / "gongshi.yml"
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s*)work_dir:.*$", r"\1work_dir: ../build", text)
    text = re.sub(r"(?m)^(\s*)site_dir:.*$", r"\1site_dir: ../site", text)
    config.write_text(text, encoding="utf-8")

    def etl(*arguments: str) -> None:
        done = subprocess.run([sys.executable, "-m", "etl", *arguments], cwd=ROOT,
                              capture_output=True, text=True, timeout=900)
        if done.returncode:
            raise RuntimeError(f"python -m etl {' '.join(arguments)} failed:\n{done.stdout}{done.stderr}")

    if not any((data / "sources").glob("*")):
        etl("synth", "--out", str(data / "sources"), "--history-out", str(data / "history"))
    for export in sorted(p for p in (data / "history").glob("*") if p.is_dir()):
        etl("publish", "--config", str(config), "--snapshot-only", "--sources-from", str(export),
            "--as-of", export.name)
    etl("publish", "--config", str(config))
    return folder / "site"


def site_pages(site: Path, issue_sample: int = 20) -> list[str]:
    """Every HTML page except issue pages, plus an even sample of those (there are up to 256).

    404.html is left out: MkDocs links its assets from the host root ("/assets/..."), because a
    host shows it at any depth; under a sub-path it needs site_url set to the real address.
    """
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if p.relative_to(site).as_posix() != "404.html")
    issues = [p for p in pages if p.startswith("issues/")]
    others = [p for p in pages if not p.startswith("issues/")]
    step = max(1, len(issues) // issue_sample) if issues else 1
    return others + issues[::step][:issue_sample]


def latest_issues(site: Path) -> list[dict]:
    """Issue rows of the newest snapshot the site carries."""
    latest = json.loads((site / "data" / "latest.json").read_text(encoding="utf-8"))["snapshot_id"]
    return json.loads((site / "data" / "snapshots" / latest / "issues.json").read_text(encoding="utf-8"))


def issue_page(site: Path, issue_id: str) -> str:
    """Site-relative address of an issue's own page (etl.site.pages.issue_href)."""
    from etl.site import pages
    relative = pages.issue_href(issue_id)
    if not (site / relative).exists():
        raise AssertionError(f"no issue page for {issue_id} at {site / relative}")
    return relative


def bucket_link(issue_id: str) -> str:
    """The old permalink, issues/<bucket>/index.html#issue-<id>, that must still reach the issue."""
    from etl.site import pages
    return pages.bucket_href(issue_id)


def unit_page(site: Path) -> str:
    return sorted(p.relative_to(site).as_posix() for p in (site / "units").glob("*/index.html"))[0]


class _SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site only under SUB_PATH, so a link that climbs to the host root gets a 404."""

    def translate_path(self, path: str) -> str:
        clean = urllib.parse.urlsplit(path).path
        if not clean.startswith(SUB_PATH):
            return str(Path(self.directory) / "__outside_sub_path__" / "missing")
        return super().translate_path("/" + clean[len(SUB_PATH):])

    def send_error(self, code, message=None, explain=None) -> None:
        # As a static host does: a missing address inside the site gets the site's 404.html.
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *arguments) -> None:
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A browser that moves on closes its connections mid-file; that is not a site fault.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site: Path):
    """Yield the base URL http://127.0.0.1:<port>/some/sub/path/ serving `site`."""
    handler = functools.partial(_SubPathHandler, directory=str(site))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{SUB_PATH}"
    finally:
        server.shutdown()
        server.server_close()


class Watcher:
    """Records everything that makes a page fail: console errors, script errors, failed or foreign requests."""

    def __init__(self, context, page, allowed_prefix: str) -> None:
        self.allowed_prefix = allowed_prefix
        self.problems: list[str] = []
        self.urls: list[str] = []
        self.current = ""
        # Requests elsewhere are aborted, so a test never depends on (or leaks to) the network.
        context.route(lambda url: not self._allowed(url), self._refuse)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self._add(f"script error: {error}"))
        page.on("request", self._request)
        page.on("requestfailed", self._failed)
        page.on("response", lambda response: response.status >= 400 and self._add(
            f"HTTP {response.status}: {response.url}"))

    def _allowed(self, url: str) -> bool:
        return url.startswith(self.allowed_prefix) or url.startswith(("data:", "blob:", "about:"))

    def _add(self, problem: str) -> None:
        self.problems.append(f"{self.current}: {problem}")

    def _console(self, message) -> None:
        if message.type == "error":
            self._add(f"console error: {message.text} {message.location}")

    def _request(self, request) -> None:
        self.urls.append(request.url)
        if not self._allowed(request.url):
            self._add(f"request outside the site: {request.url}")

    def _failed(self, request) -> None:
        # ERR_ABORTED is the browser cancelling a load (a favicon) because the test moved on.
        if request.failure != "net::ERR_ABORTED":
            self._add(f"request failed: {request.url} ({request.failure})")

    def _refuse(self, route) -> None:
        route.abort()

    def visit(self, page, url: str, wait_until: str = "load") -> None:
        self.current = url
        page.goto(url, wait_until=wait_until)


AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_BLOCKING = ("serious", "critical")


def axe_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as loaded, one line each."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: run `npm ci` in tests/browser (make test-browser does)")
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("""() => axe.run(document, {resultTypes: ["violations"]})""")
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(" ".join(node["target"]) for node in v["nodes"][:4])
            for v in results["violations"] if v["impact"] in AXE_BLOCKING]


def transferred(site: Path, base: str, urls: list[str]) -> dict:
    """Bytes the pages' own requests moved (files served as is) and what gzip would make of them."""
    raw = compressed = theme = 0
    files = []
    for url in dict.fromkeys(urls):
        if not url.startswith(base):
            continue
        relative = urllib.parse.unquote(urllib.parse.urlsplit(url).path)[len(urllib.parse.urlsplit(base).path):]
        path = site / (relative or "index.html")
        if not path.is_file():
            continue
        size = path.stat().st_size
        if relative.startswith(THEME_ASSETS):
            theme += size
            continue
        raw += size
        compressed += len(gzip.compress(path.read_bytes(), mtime=0))
        files.append((relative, size))
    return {"bytes": raw, "gzipped_bytes": compressed, "theme_bytes": theme, "files": sorted(files)}

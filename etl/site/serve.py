"""Serve a built site on this computer only (127.0.0.1), so staff can click through a preview."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from etl.errors import EtlError

# Loopback only: a preview is not published yet, and must not be reachable from the network.
HOST = "127.0.0.1"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the standard library's name)
        pass  # one line per request would bury the summary staff are reading


def start(folder: Path, port: int = 8000) -> ThreadingHTTPServer:
    """A server for folder on 127.0.0.1:port (0: any free port), answering in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(Path(folder)))
    try:
        server = ThreadingHTTPServer((HOST, port), handler)
    except OSError as error:
        raise EtlError(f"cannot serve the preview on {HOST}:{port}: {error.strerror or error}",
                       hint="give another port with --port, or stop what is using this one")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


def serve_until_interrupted(folder: Path, port: int, announce=print) -> None:
    """Serve folder until Ctrl+C, after announcing its address."""
    server = start(folder, port)
    announce(url(server))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()

"""Benchmark, federation case: cold and re-federation of many synthetic counties over loopback.

Run through `bench/run.py --federation` (the last step of `make bench`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The federation case: counties of FEDERATION_ISSUES issues each, served from loopback.
FEDERATION_MEMBERS, FEDERATION_ISSUES, FEDERATION_CHANGED = 100, 10000, 5
FEDERATION_GOALS = {"cold": 300.0, "refederation": 30.0}
SERVER_SECONDS = 3600  # the loopback server stops by itself after this, whatever happens


def _member_worker(args: tuple) -> tuple[int, str, str | None]:
    """Publish member `index` (and its changed second snapshot); runs in a pool process."""
    from etl.demo import members

    root, index, changed = args
    root = Path(root)
    base = root / "campaign" / "work"
    frames, columns = members.read_frames(base / "tables")
    as_of = dt.date.fromisoformat(json.loads((base / "as_of.json").read_text())["as_of"])
    name = f"县{index:03d}"
    member = root / f"member-{index:03d}"
    shutil.rmtree(member, ignore_errors=True)
    first = dict(frames, issues=members.vary(frames["issues"], name, reopen=(index % 20) / 100))
    v1 = members.publish(member, name, as_of, first, columns, base).name
    v2 = None
    if changed:
        later = as_of + dt.timedelta(days=7)
        second = dict(first, issues=members.vary(first["issues"], name + "/2", finish=0.2,
                                                 finished_on=later))
        v2 = members.publish(member, name, later, second, columns, base).name
        members.set_latest(member / "site", v1)
    shutil.rmtree(member / "work")
    return index, v1, v2


def federation_members(cache: Path, count: int, issues: int, changed: int) -> dict:
    """The member sites, made once and kept under `cache` (bench/results/ by default)."""
    import multiprocessing
    from etl.config import load_config
    from etl.demo import members, synth
    from run import FEEDBACK_PER_ISSUE, write_config  # the stage benchmark's demo config

    root = cache / f"federation-{count}x{issues}"
    done = root / "members.json"
    if done.is_file():
        made = json.loads(done.read_text(encoding="utf-8"))
        if made.get("changed") == changed:
            return made
    shutil.rmtree(root, ignore_errors=True)
    campaign = root / "campaign"
    synth.generate(campaign / "sources", issues=issues, feedback=round(issues * FEEDBACK_PER_ISSUE))
    config = load_config(write_config(campaign, campaign / "sources"))
    config = config.replace(work_dir=campaign / "work")
    members.base_tables(config)
    (campaign / "work" / "as_of.json").write_text(json.dumps({"as_of": config.as_of.isoformat()}))
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        made = pool.map(_member_worker, [(str(root), i, i < changed) for i in range(count)])
    result = {"root": str(root), "as_of": config.as_of.isoformat(), "changed": changed,
              "members": [{"index": i, "v1": v1, "v2": v2} for i, v1, v2 in made]}
    done.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def _serve(root: str, port_queue, seconds: float) -> None:
    """A loopback file server with ETags (If-None-Match -> 304) that stops by itself."""
    import http.server
    import threading
    import urllib.parse

    base = Path(root).resolve()
    counts = {"200": 0, "304": 0, "404": 0, "bytes": 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: thousands of requests
            pass

        def _count(self, key: str, sent: int = 0) -> None:
            with lock:
                counts[key] += 1
                counts["bytes"] += sent

        def do_GET(self):
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if path == "/__stats":
                with lock:
                    body = json.dumps(counts).encode()
                    counts.update({"200": 0, "304": 0, "404": 0, "bytes": 0})
                return self._send(200, body, "application/json")
            target = (base / path.lstrip("/")).resolve()
            if base not in target.parents or not target.is_file():
                self._count("404")
                return self._send(404, b"not found", "text/plain")
            stat = target.stat()
            etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
            if self.headers.get("If-None-Match") == etag:
                self._count("304")
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = target.read_bytes()
            self._count("200", len(body))
            kind = "text/csv" if target.suffix == ".csv" else "application/json" \
                if target.suffix == ".json" else "application/octet-stream"
            self._send(200, body, kind, etag)

        def _send(self, status: int, body: bytes, kind: str, etag: str | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # A client closing its keep-alive connection is no server error.
            if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Timer(seconds, server.shutdown).start()
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _stats(port: int) -> dict:
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/__stats", timeout=10) as response:
        return json.loads(response.read())


def _federate(config: Path, as_of: str) -> dict:
    """One `python -m etl federate` in a fresh interpreter: wall and CPU seconds, its lines."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "etl", "federate", "--config", str(config),
                           "--as-of", as_of], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = done.stdout.splitlines()
    return {"seconds": seconds, "exit": done.returncode,
            "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "verified": sum(line.startswith("verified") for line in lines),
            "unchanged": sum(line.startswith("unchanged") for line in lines),
            "failed": [line for line in lines if line.startswith(("unreachable", "REJECTED"))],
            "stderr": done.stderr.strip()[-1500:]}


def measure_federation(count: int, issues: int, changed: int, cache: Path) -> dict:
    """Cold federation of `count` members, then a re-federation after `changed` published again."""
    import multiprocessing
    import yaml
    from etl.demo import members as member_sites

    started = time.perf_counter()
    made = federation_members(cache, count, issues, changed)
    result = {"members": count, "issues": issues, "changed": changed,
              "generate": time.perf_counter() - started, "load_before": os.getloadavg()[0]}
    root = Path(made["root"])
    for entry in made["members"]:
        member_sites.set_latest(root / f"member-{entry['index']:03d}" / "site", entry["v1"])
    context = multiprocessing.get_context("spawn")
    ports = context.Queue()
    server = context.Process(target=_serve, args=(str(root), ports, SERVER_SECONDS), daemon=True)
    server.start()
    base = Path(tempfile.mkdtemp(prefix="gongshi-bench-federation-"))
    try:
        port = ports.get(timeout=60)
        config = base / "province.yml"
        config.write_text(yaml.safe_dump({
            "title": "示例省整改公示汇总", "region": "示例省",
            "members": [{"name": f"县{e['index']:03d}",
                         "url": f"http://127.0.0.1:{port}/member-{e['index']:03d}/site/"}
                        for e in made["members"]],
            "paths": {"work_dir": "work", "site_dir": "site", "snapshots_dir": "snapshots"},
        }, allow_unicode=True), encoding="utf-8")
        first = dt.date.fromisoformat(made["as_of"]) + dt.timedelta(days=7)
        result["cold"] = _federate(config, first.isoformat())
        result["cold"]["requests"] = _stats(port)
        for entry in made["members"]:
            if entry["v2"]:
                member_sites.set_latest(root / f"member-{entry['index']:03d}" / "site", entry["v2"])
        result["refederation"] = _federate(config, (first + dt.timedelta(days=1)).isoformat())
        result["refederation"]["requests"] = _stats(port)
    finally:
        server.terminate()
        server.join(10)
        shutil.rmtree(base, ignore_errors=True)
    result["load_after"] = os.getloadavg()[0]
    return result


def federation_report(result: dict) -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [f"# Gongshi federation benchmark {dt.date.today().isoformat()}", "",
             f"Python {platform.python_version()}, {cores} cores usable. {result['members']} "
             f"synthetic counties of {result['issues']:,} issues each "
             f"({result['members'] * result['issues']:,} issues), served over loopback by a "
             "file server with ETags; each run is `python -m etl federate` in a fresh process "
             "(pull, verify every chain, re-derive every member's figures, record, build). "
             f"The re-federation follows a new publish by {result['changed']} members. "
             f"Member generation (cached): {result['generate']:.0f} s. 1-min load average "
             f"{result['load_before']:.1f} → {result['load_after']:.1f}.", "",
             "| run | seconds | CPU s | goal s | members pulled and verified | unchanged (304) "
             "| HTTP 200 | HTTP 304 | MB sent |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in ("cold", "refederation"):
        run = result.get(name)
        if not run:
            continue
        requests = run["requests"]
        lines.append(f"| {name} | {run['seconds']:.1f} | {run['cpu']:.1f} | "
                     f"{FEDERATION_GOALS[name]:.0f} | {run['verified']} | {run['unchanged']} | "
                     f"{requests['200']} | {requests['304']} | {requests['bytes'] / 1e6:.0f} |")
    lines.append("")
    for name in ("cold", "refederation"):
        run = result.get(name) or {}
        if run.get("exit"):
            lines += [f"- {name} exited {run['exit']}: {run['stderr']}", ""]
        for line in run.get("failed", [])[:5]:
            lines += [f"- {name}: {line}"]
    return "\n".join(lines) + "\n"

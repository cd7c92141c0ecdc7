"""Scheduled publishing: the wrapper a timer or cron runs, the unit files, the CI templates."""

from __future__ import annotations

import configparser
import datetime as dt
import fcntl
import json
import os
import shlex
import subprocess
import urllib.parse
from pathlib import Path

import yaml

from etl.config import load_config
from etl.demo import synth
from etl.site import serve

ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = ROOT / "site_data" / "schedule"
WRAPPER = SCHEDULE / "publish-scheduled.sh"
CI_TEMPLATES = ROOT / "site_data" / "ci"


def run_wrapper(config: Path, state: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([str(WRAPPER), str(config)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "GONGSHI_STATE_DIR": str(state),
                                            "CI": "1", **env})


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


def test_wrapper_publishes_an_http_source_and_logs(tmp_path):
    """The weekly case: sources on a web server, `make publish` through the wrapper."""
    exports = tmp_path / "exports"
    synth.generate(exports, issues=30, feedback=60, as_of=dt.date(2026, 11, 20))
    server = serve.start(exports, port=0)
    try:
        data = yaml.safe_load((SCHEDULE / "weekly-http.yml").read_text(encoding="utf-8"))
        for source in data["sources"]:
            name = Path(urllib.parse.urlparse(source["url"]).path).name
            assert (exports / urllib.parse.unquote(name)).is_file(), name
            source["url"] = serve.url(server) + name
        data["as_of"] = "2026-11-20"
        data["paths"] = {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"}
        config = tmp_path / "weekly.yml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        state = tmp_path / "state"
        done = run_wrapper(config, state)
        log = (state / "publish.log").read_text(encoding="utf-8")
        assert done.returncode == 0, log[-3000:]
        assert done.stdout == "" and done.stderr == ""  # everything goes to the log
        assert "etl publish --config" in log and "exit 0" in log
        for stage in ("extract", "build", "scan", "verify"):
            assert f"\n{stage} " in log, stage
        summary = json.loads((state / "summary.json").read_text(encoding="utf-8"))
        assert summary["outcome"] == "published" and summary["issues"]["added"] == 30
        assert (tmp_path / "site" / "index.html").is_file()

        # A source that is gone: the publish stops, and the scheduler sees its exit code.
        (exports / urllib.parse.unquote(data["sources"][1]["url"].rsplit("/", 1)[1])).unlink()
        failed = run_wrapper(config, state)
        summary = json.loads((state / "summary.json").read_text(encoding="utf-8"))
        assert summary["outcome"] == "failed"
        assert failed.returncode == summary["exit_code"] == 2
        assert (state / "publish.log").read_text(encoding="utf-8").rstrip().endswith("exit 2")
    finally:
        server.shutdown()
        server.server_close()
    assert load_config(config).sources[0].kind == "http"


def test_wrapper_returns_the_publish_exit_code_not_makes(tmp_path):
    """make turns every failure into 2; a verify failure (1) must reach the scheduler as 1."""
    fake_make = tmp_path / "make"
    fake_make.write_text("#!/bin/sh\n"
                         "for arg; do case $arg in PUBLISH_FLAGS=*) out=${arg#*--summary };; esac; done\n"
                         "printf '{\\n \"exit_code\": 1,\\n \"outcome\": \"failed\"\\n}\\n' > \"$out\"\n"
                         "exit 2\n")
    fake_make.chmod(0o755)
    config = tmp_path / "gongshi.yml"
    config.write_text("title: x\n", encoding="utf-8")
    done = run_wrapper(config, tmp_path / "state", MAKE=str(fake_make))
    assert done.returncode == 1


def test_wrapper_skips_while_another_publish_holds_the_lock(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    marker = tmp_path / "ran"
    fake_make = tmp_path / "make"
    fake_make.write_text(f"#!/bin/sh\ntouch {shlex.quote(str(marker))}\n")
    fake_make.chmod(0o755)
    config = tmp_path / "gongshi.yml"
    config.write_text("title: x\n", encoding="utf-8")
    with open(state / "publish.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        skipped = run_wrapper(config, state, MAKE=str(fake_make))
    assert skipped.returncode == 75 and not marker.exists()
    assert "skipped" in (state / "publish.log").read_text(encoding="utf-8")
    assert run_wrapper(config, state, MAKE=str(fake_make)).returncode == 0 and marker.exists()


def test_systemd_units_run_the_wrapper_and_treat_a_skip_as_success():
    service = unit(SCHEDULE / "gongshi-publish.service")
    command = shlex.split(service["Service"]["ExecStart"])
    assert Path(command[0]).name == WRAPPER.name and len(command) == 2
    assert service["Service"]["Type"] == "oneshot"
    assert "75" in service["Service"]["SuccessExitStatus"].split()
    timer = unit(SCHEDULE / "gongshi-publish.timer")
    assert timer["Timer"]["Unit"] == "gongshi-publish.service"
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"


def test_crontab_example_runs_the_wrapper_and_mails_only_failures():
    lines = [line for line in (SCHEDULE / "crontab.example").read_text().splitlines()
             if line.strip() and not line.startswith("#") and "=" not in line.split()[0]]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    assert len(fields[:5]) == 5 and fields[5].split()[0].endswith(WRAPPER.name)
    assert "75" in fields[5] and "%" not in fields[5]  # cron would cut the line at a bare %


def _commands(text: str) -> list[str]:
    return [line for line in text.splitlines() if "make publish" in line]


def test_gitlab_template_publishes_and_keeps_the_site():
    data = yaml.safe_load((CI_TEMPLATES / "gitlab-ci.yml").read_text(encoding="utf-8"))
    job = data["publish"]
    script = "\n".join(job["script"])
    assert _commands(script) and "--summary" in _commands(script)[0]
    assert "make verify" in script and job["resource_group"]
    assert "site/" in job["artifacts"]["paths"]
    assert any(rule["if"].endswith('"schedule"') for rule in job["rules"])


def test_github_template_publishes_and_uploads_the_site():
    data = yaml.safe_load((CI_TEMPLATES / "github-actions.yml").read_text(encoding="utf-8"))
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["schedule"][0]["cron"] and "workflow_dispatch" in triggers
    assert data["concurrency"]["cancel-in-progress"] is False
    steps = data["jobs"]["publish"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert _commands(runs) and "make verify" in runs
    uploads = [step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact")]
    assert any("site/" in step["with"]["path"] for step in uploads)

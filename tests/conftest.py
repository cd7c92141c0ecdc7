"""Shared fixtures (a throwaway config in the test's tmp folder) and the CI rule: no skip passes unseen."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from etl.config import load_config

pytest_plugins = ["pytester"]  # tests/test_ci_skips.py runs pytest on tiny test files

# CI runners set CI=true and .ci/run sets CI=1; these values (or no CI at all) mean a local run.
NOT_CI = ("", "0", "false", "no", "off")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in NOT_CI


def _fail_skip_in_ci(report) -> None:
    """In CI a skip is a failure: a test that never ran looks green (node or minisign missing,
    a page not built, ...). Locally it stays a skip, listed with its reason by `-rs`.

    Tests left out on purpose by `-m` are deselected, not skipped, so they never get here;
    xfail is left alone (it is a failure expected in writing, not a test that did not run).
    """
    if not report.skipped or hasattr(report, "wasxfail") or not in_ci():
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (f"{reason}\nCI is set (CI={os.environ['CI']}), so this skip is a failure: the test "
                       "did not run. Install what it needs (`make system-deps`) or fix the cause.")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    _fail_skip_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield  # a module-level pytest.skip or importorskip skips the whole file
    _fail_skip_in_ci(report)
    return report

BASE_CONFIG = {
    "title": "测试县整改公示",
    "region": "测试县",
    "language": "zh",
    "as_of": "2026-11-20",
    "satisfaction_threshold": 80,
    "sources": [
        {"name": "issues", "table": "issues", "kind": "file", "path": "sources/issues.csv"},
        {"name": "feedback", "table": "feedback", "kind": "file", "path": "sources/feedback.csv"},
    ],
    "paths": {"work_dir": "build", "site_dir": "site", "snapshots_dir": "snapshots"},
}


@pytest.fixture
def write_config(tmp_path):
    """Write a config (BASE_CONFIG updated with overrides) into tmp_path; return its path."""

    def write(**overrides) -> Path:
        data = {**BASE_CONFIG, **overrides}
        path = tmp_path / "gongshi.yml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        (tmp_path / "sources").mkdir(exist_ok=True)
        return path

    return write


@pytest.fixture
def config(write_config):
    """A loaded config in a tmp folder; its sources folder exists but is empty."""
    return load_config(write_config())

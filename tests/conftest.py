"""Shared fixtures: a throwaway config pointing every path into the test's tmp folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from etl.config import load_config

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

"""Build stage: MkDocs turns work_dir/docs into the static site at work_dir/stage/site, then
etl/site/finish.py writes the issue pages from their shell and tidies the result."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from pathlib import Path

from markupsafe import escape

from etl.staff import progress
from etl.errors import BuildError
from etl.site import finish


class _Collect(logging.Handler):
    """Keeps MkDocs' warnings so a failed strict build can say exactly what was wrong."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def source_date_epoch(as_of: dt.date) -> str:
    """Noon UTC of the as-of date: sitemap dates and gzip headers then depend on the data alone."""
    return str(int(dt.datetime(as_of.year, as_of.month, as_of.day, 12,
                               tzinfo=dt.timezone.utc).timestamp()))


def run(config) -> Path:
    """Build work_dir/docs/mkdocs.yml strictly into work_dir/stage/site; raise BuildError on warnings."""
    from mkdocs.commands import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    config_file = config.work_dir / "docs" / "mkdocs.yml"
    site = config.work_dir / "stage" / "site"
    if not config_file.exists():
        raise BuildError(f"{config_file} is missing", hint="run the render stage first")
    if site.exists():
        shutil.rmtree(site)
    collector = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collector)
    previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = source_date_epoch(config.as_of)
    try:
        mkdocs_config = load_config(config_file=str(config_file), site_dir=str(site), strict=True)
        # material prints the site name raw in the header and nav (its environment does not
        # autoescape); as Markup it arrives escaped there, and `| e` leaves it as it is.
        mkdocs_config["site_name"] = escape(mkdocs_config["site_name"])
        pages = sum(1 for _ in config_file.parent.rglob("*.md"))
        with progress.log_counter("mkdocs.commands.build", "Building page", "build", pages):
            mkdocs_build.build(mkdocs_config)
    except (Abort, ConfigurationError, OSError) as error:
        details = "".join(f"\n  - {m}" for m in collector.messages[:30])
        raise BuildError(f"MkDocs build failed: {error}{details}",
                         hint="fix the page or template named above and run render again") from error
    finally:
        logger.removeHandler(collector)
        if previous_epoch is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous_epoch
    # Issue pages from their shell, the 404 page, sitemap, pruned theme files (etl/site/finish.py).
    finish.run(config, config_file.parent, site)
    return site

"""Progress bars only on a terminal; elsewhere the items pass through and one timed line per stage."""

from __future__ import annotations

import io
import logging
import re

from etl.staff import progress


def test_off_outside_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv(progress.SWITCH, raising=False)
    monkeypatch.setenv("CI", "1")
    assert not progress.enabled()
    assert list(progress.track(iter(range(5)), "read")) == [0, 1, 2, 3, 4]
    with progress.counter("build", 3) as bar:
        bar.advance()
    assert capsys.readouterr() == ("", "")


def test_bars_on_a_terminal_leave_the_items_alone(monkeypatch):
    monkeypatch.setenv(progress.SWITCH, "1")
    terminal = io.StringIO()
    monkeypatch.setattr("sys.stderr", terminal)
    items = list(range(50))
    seen = []
    for item in progress.track(items, "render"):
        seen.append((item, progress._live.tasks[-1].completed, progress._live.tasks[-1].total))
    assert [item for item, _, _ in seen] == items
    assert seen[-1][1:] == (49, 50)  # the bar counts what was consumed, out of the whole
    logger = logging.getLogger("gongshi-test-progress")
    with progress.log_counter(logger.name, "Building page", "build", 2):
        logger.debug("Building page a.md")
        logger.debug("Reading: a.md")  # a library's other lines do not count
        logger.debug("Building page b.md")
        assert progress._live.tasks[-1].completed == 2
    assert progress._live is None  # the last bar closed the display
    assert logger.level == logging.NOTSET  # the library's logging is left as it was


def test_stage_logs_one_line_with_its_time(monkeypatch):
    monkeypatch.setenv(progress.SWITCH, "0")
    lines = []
    with progress.stage("scan", lines.append, "no personal data found"):
        pass
    assert len(lines) == 1 and re.fullmatch(r"scan\s+\d+\.\d\ds  no personal data found", lines[0])

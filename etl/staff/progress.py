"""Progress of the long steps: bars on a terminal's stderr, and one timed line per stage otherwise.

Stages keep their `run(config)` signature: they call `track(items, label)` (or `counter`)
here, which yields the items unchanged and only draws a bar when stderr is a terminal and
this is not CI. In CI and in log files the CLI's own line per stage, with its time, is all
that appears, so logs stay one line per stage.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterable, Iterator

# Set GONGSHI_PROGRESS=0 to turn bars off on a terminal, =1 to force them (tests).
SWITCH = "GONGSHI_PROGRESS"

_live = None  # the one rich Progress drawn while any bar is open
_open = 0


def enabled() -> bool:
    """Bars only for a person at a terminal: never in CI, never into a pipe or a log file."""
    setting = os.environ.get(SWITCH, "")
    if setting in ("0", "1"):
        return setting == "1"
    if os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    return sys.stderr.isatty()


@contextlib.contextmanager
def _progress():
    """The shared rich Progress on stderr, started by the outermost bar and stopped after it."""
    global _live, _open
    if _live is None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                                   TextColumn, TimeElapsedColumn, TimeRemainingColumn)
        _live = Progress(SpinnerColumn(), TextColumn("{task.description:<12}"), BarColumn(),
                         MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                         console=Console(stderr=True), transient=True,
                         # the log lines on stdout print above the bars on a terminal, and
                         # stay on stdout when it is a pipe
                         redirect_stdout=sys.stdout.isatty(), redirect_stderr=False)
        _live.start()
    _open += 1
    try:
        yield _live
    finally:
        _open -= 1
        if _open == 0:
            _live.stop()
            _live = None


class _Counter:
    """advance(n) on an open bar; a no-op when no bar is drawn."""

    def __init__(self, progress=None, task=None):
        self._progress, self._task = progress, task

    def advance(self, amount: float = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, amount)

    def total(self, total: float | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, total=total)


@contextlib.contextmanager
def counter(label: str, total: float | None = None) -> Iterator[_Counter]:
    """A bar advanced by hand (bytes read, pages built); total None shows a spinner only."""
    if not enabled():
        yield _Counter()
        return
    with _progress() as progress:
        task = progress.add_task(label, total=total)
        try:
            yield _Counter(progress, task)
        finally:
            progress.remove_task(task)


def track(items: Iterable, label: str, total: int | None = None) -> Iterator:
    """The items, unchanged, with a bar while they are consumed."""
    if not enabled():
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    with counter(label, total) as bar:
        for item in items:
            yield item
            bar.advance()


class _CountRecords(logging.Handler):
    def __init__(self, prefix: str, bar: _Counter):
        super().__init__(logging.DEBUG)
        self.prefix, self.bar = prefix, bar

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith(self.prefix):
            self.bar.advance()


@contextlib.contextmanager
def log_counter(logger_name: str, prefix: str, label: str, total: int | None):
    """A bar advanced by a library's own debug lines (MkDocs logs "Building page ..." per page)."""
    if not enabled():
        yield
        return
    logger = logging.getLogger(logger_name)
    with counter(label, total) as bar:
        handler, level = _CountRecords(prefix, bar), logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)


@contextlib.contextmanager
def stage(name: str, log=None, detail: str = ""):
    """Time one stage: a spinner on a terminal; `log` gets one line with the time at its end.

    Yields a dict the caller may fill with "detail" (the text after the time) before the end.
    """
    started = time.perf_counter()
    line = {"detail": detail}
    with counter(name):
        yield line
    if log is not None:
        text = f"{name:<10} {time.perf_counter() - started:6.2f}s"
        log(f"{text}  {line['detail']}" if line["detail"] else text)

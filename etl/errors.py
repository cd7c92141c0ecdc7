"""One exception tree for every stage; each error says where and what to do next."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where a value came from: source name, file, sheet, 1-based row, column header."""

    source: str = ""
    file: str = ""
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def describe(self) -> str:
        parts = []
        if self.file:
            parts.append(f"file {self.file}")
        if self.sheet:
            parts.append(f"sheet {self.sheet}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        if self.source and not self.file:
            parts.append(f"source {self.source}")
        return ", ".join(parts)


class EtlError(Exception):
    """Base of every error the pipeline raises on purpose; exit code 2 from the CLI."""

    exit_code = 2

    def __init__(self, message: str, *, location: Location | None = None, hint: str = ""):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        text = self.message
        if self.location is not None and self.location.describe():
            text = f"{self.location.describe()}: {text}"
        if self.hint:
            text = f"{text}\n  what to do: {self.hint}"
        return text


class ConfigError(EtlError):
    """The YAML config is missing, unreadable or fails its schema; lists every problem."""

    def __init__(self, problems: list[str], *, path: str = ""):
        self.problems = list(problems)
        head = f"config {path} has {len(problems)} problem(s):" if path else "config problems:"
        super().__init__(head + "".join(f"\n  - {p}" for p in problems),
                         hint="fix the keys named above and run again")


class SourceError(EtlError):
    """A source file or URL cannot be read: missing, wrong format, wrong encoding, truncated."""


class FetchError(SourceError):
    """An HTTP source failed after its retries; nothing from it is published."""


@dataclass
class Problem:
    """One validation finding, tied to the cell it is about."""

    level: str  # "error" or "warning"
    code: str
    message: str
    location: Location = field(default_factory=Location)
    value: str = ""

    def describe(self) -> str:
        where = self.location.describe()
        value = f" (value {self.value!r})" if self.value != "" else ""
        return f"{where}: {self.message}{value}" if where else f"{self.message}{value}"


class ValidationFailed(EtlError):
    """Validation found errors; the publish stops and the report lists them all.

    The terminal shows them grouped by kind (code, file and column): one line per kind with
    its count and message, then the first rows of that kind, so 203 errors read as the few
    fixes they are. `words` are the `messages` of the site's language (templates/text.yml).
    """

    ROWS_SHOWN = 8

    def __init__(self, problems: list[Problem], report_path: str = "", *,
                 words: dict | None = None, annotated=()):
        self.problems = problems
        self.words = {**_ENGLISH_FRAME, **(words or {})}
        errors = [p for p in problems if p.level == "error"]
        self.groups = group_problems(errors)
        lines = [self.words["validation_heading"].format(errors=len(errors),
                                                         kinds=len(self.groups))]
        for group in self.groups:
            lines.append("  - " + self.words["validation_group"].format(
                count=len(group), message=group[0].message))
            lines.append(f"    {self._where(group)}")
        hint = self.words["validation_hint"]
        if report_path:
            hint += self.words["where_join"] + self.words["validation_report"].format(
                path=report_path, annotated=", ".join(annotated) or "-")
        super().__init__("\n".join(lines), hint=hint)

    def _where(self, group: list[Problem]) -> str:
        first = group[0].location
        parts = [self.words[f"where_{part}"].format(name=getattr(first, part))
                 for part in ("file", "sheet", "column") if getattr(first, part)]
        if first.source and not first.file:
            parts.append(self.words["where_source"].format(name=first.source))
        place = self.words["where_join"].join(parts)
        rows = [p for p in group if p.location.row is not None]
        shown = rows[: self.ROWS_SHOWN]
        listed = ", ".join(str(p.location.row) + (f" ({p.value!r})" if p.value != "" else "")
                           for p in shown)
        text = self.words["validation_rows"].format(rows=listed) if shown else ""
        if len(rows) > len(shown):
            text += self.words["validation_more_rows"].format(more=len(rows) - len(shown))
        return ": ".join(part for part in (place, text) if part)  # the colon reads in both


# The frame of the grouped error list when no site language is given (a test, a library call).
_ENGLISH_FRAME = {
    "validation_heading": "validation found {errors} error(s) of {kinds} kind(s):",
    "validation_group": "{count} × {message}",
    "validation_rows": "rows {rows}",
    "validation_more_rows": " and {more} more",
    "validation_hint": "correct each kind of problem above in the source and publish again",
    "validation_report": "the full list and rejected rows are in {path}; a copy of the "
                         "workbook with the bad cells marked: {annotated}",
    "where_file": "file {name}", "where_sheet": "sheet {name}", "where_column": "column {name}",
    "where_source": "source {name}", "where_join": ", ",
}


def group_problems(problems: list[Problem]) -> list[list[Problem]]:
    """Problems grouped by kind (code, source file, column), groups in order of first sight."""
    groups: dict[tuple, list[Problem]] = {}
    for problem in problems:
        loc = problem.location
        groups.setdefault((problem.code, loc.source, loc.file, loc.sheet, loc.column),
                          []).append(problem)
    return list(groups.values())


class UnsafePath(EtlError):
    """An id or name from a source would be unsafe or ambiguous as a file name."""


class LeakFound(EtlError):
    """The final scan of the built site found personal data; nothing is published."""


class SnapshotError(EtlError):
    """A snapshot would overwrite a different one, or the chain of snapshots is broken."""


class DiffError(EtlError):
    """Two snapshots cannot be compared: duplicate keys or a broken chain."""


class MetricsShapeError(EtlError):
    """metrics.json lacks a section or a figure that a page or check reads."""


class VerifyFailed(EtlError):
    """A hash, the chain or a figure on a page does not match the data."""

    exit_code = 1


class BuildError(EtlError):
    """MkDocs or chart rendering failed."""

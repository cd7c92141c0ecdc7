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
    """Validation found errors; the publish stops and the report lists them all."""

    def __init__(self, problems: list[Problem], report_path: str = ""):
        self.problems = problems
        errors = [p for p in problems if p.level == "error"]
        shown = errors[:20]
        lines = [f"validation found {len(errors)} error(s):"]
        lines += [f"  - {p.describe()}" for p in shown]
        if len(errors) > len(shown):
            lines.append(f"  ... and {len(errors) - len(shown)} more")
        hint = "correct the source rows named above and publish again"
        if report_path:
            hint += f"; the full list and rejected rows are in {report_path}"
        super().__init__("\n".join(lines), hint=hint)


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

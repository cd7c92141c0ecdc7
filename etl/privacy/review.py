"""What redaction needs from the validated rows, and what it leaves for staff to review.

- Names known to be personal: every name in a complainant or contact cell
  (schema.NEVER_PUBLISHED) of any validated table.  Those columns are never published, but
  the people in them wrote in, so their names are hidden wherever published text repeats them.
- The review file (work dir transform/redactions.csv): one line per hidden piece (table, row
  id, field, kind, a masked excerpt), UTF-8 with BOM for Excel and WPS.  It is for staff only:
  it sits outside tables/, which is all that snapshot and render read, and the leak scan would
  stop a publish that copied it anyway (it holds the complainants' surnames and ids' shapes).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from etl import schema
from etl.ledger.tables import defuse
from etl.privacy.names import HONORIFICS, MASKS, NameRules
from etl.privacy.redact import Match, mask
from etl.site import words

REVIEW_FILE = Path("transform") / "redactions.csv"
# Cells that name nobody: what forms write when the person stayed anonymous.
NOT_NAMES = frozenset("""匿名 无 無 不详 不詳 保密 未知 略 暂无 暫無 网友 網友 群众 群眾 本人 市民 村民
    居民 业主 業主 先生 女士 来电 來電 来信 來信 未留 未留名 无名 無名 anonymous anon n/a na none
    unknown withheld""".split())
# Columns whose values are public names of units and places, never of a complainant.
PLACE_FIELDS = ("unit", "area", "category", "channel")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·•]+")
_LATIN_NAME = re.compile(r"[A-Z][a-zA-Z'\-]+(?: [A-Z]\.)?(?: [A-Z][a-zA-Z'\-]+)+")
EXCERPT_CONTEXT = 12


def _read_cells(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["cells"] for line in handle if line.strip()]


def names_in_cell(value) -> set[str]:
    """The names a complainant or contact cell holds: '张三、李四', '王女士 13800138000'."""
    if not isinstance(value, str):
        return set()
    found = set()
    for run in _CJK_RUN.findall(value):
        run = run.strip("·•")
        if any(run.endswith(mask) for mask in MASKS):
            continue  # 张某: the masked-name rule hides it wherever it appears
        for honorific in HONORIFICS:
            if run.endswith(honorific) and len(run) > len(honorific) + 1:
                found.add(run[:-len(honorific)])
        found.add(run)
    found.update(_LATIN_NAME.findall(value))
    return {name for name in found if len(name) >= 2 and name.casefold() not in NOT_NAMES}


@dataclass(frozen=True)
class KnownNames:
    """Names from the never-published columns, and those left out because a place holds them."""

    personal: frozenset[str]
    inside_place_names: frozenset[str]
    officials: frozenset[str]


def collect_names(validate_dir: Path) -> KnownNames:
    """Read the validated rows (before anything drops their private columns) for names."""
    rows = {table: _read_cells(validate_dir / f"{table}.jsonl") for table in schema.TABLES}
    personal: set[str] = set()
    places: set[str] = set()
    officials: set[str] = set()
    for table, cells_list in rows.items():
        for cells in cells_list:
            for name in schema.NEVER_PUBLISHED:
                personal |= names_in_cell(cells.get(name))
            places.update(str(cells[f]) for f in PLACE_FIELDS if cells.get(f))
            officials |= names_in_cell(cells.get("owner"))
    inside = {name for name in personal if any(name in place for place in places)}
    return KnownNames(frozenset(personal - inside), frozenset(inside), frozenset(officials))


def name_rules(config, known: KnownNames) -> NameRules:
    """Names to hide and to keep: officials in 责任人 are kept when the config publishes it."""
    keep = set(config.privacy.keep_names)
    if "owner" in config.published_fields.get("issues", ()):
        keep |= known.officials
    return NameRules(known=known.personal, keep=frozenset(keep), cues=config.privacy.name_cues)


def names_to_scan(config) -> frozenset[str]:
    """The personal names the leak scan looks for in the built site: those redaction hides."""
    return name_rules(config, collect_names(config.work_dir / "validate")).known


def summary(work_dir: Path) -> str:
    """One line for the publish log: redactions per kind and where staff can review them."""
    report = json.loads((work_dir / "tables" / "report.json").read_text(encoding="utf-8"))
    kinds = report.get("redactions") or {}
    listed = ", ".join(f"{kind} {count}" for kind, count in kinds.items()) or "nothing"
    return (f"{'redacted':<10} {listed}; review each in {work_dir / REVIEW_FILE} "
            "(staff only, never published)")


@dataclass(frozen=True)
class Redaction:
    """One hidden piece, as the review file lists it."""

    table: str
    row_id: str
    field: str
    kind: str
    excerpt: str


def masked_excerpts(found: list[tuple[Match, str]]) -> list[tuple[Match, str]]:
    """Each hit with a short excerpt of its text in which every hit of that text is masked."""
    result = []
    for text in dict.fromkeys(source for _, source in found):
        matches = [match for match, source in found if source is text or source == text]
        pieces, position, spans = [], 0, []
        for match in matches:
            pieces.append(text[position:match.start])
            start = sum(map(len, pieces))
            pieces.append(f"«{mask(match.text, match.kind)}»")
            spans.append((start, start + len(pieces[-1])))
            position = match.end
        pieces.append(text[position:])
        masked = "".join(pieces)
        for match, (start, end) in zip(matches, spans):
            left = max(0, start - EXCERPT_CONTEXT)
            right = min(len(masked), end + EXCERPT_CONTEXT)
            excerpt = ("…" if left else "") + masked[left:right] + ("…" if right < len(masked) else "")
            result.append((match, " ".join(excerpt.split())))
    return result


def review_rows(table: str, row_id: str, field: str,
                found: list[tuple[Match, str]]) -> list[Redaction]:
    return [Redaction(table, str(row_id), field, match.kind, excerpt)
            for match, excerpt in masked_excerpts(found)]


def counts(redactions: Iterable[Redaction]) -> dict[str, int]:
    """Redactions per kind, most first, then by kind, for the report and the publish summary."""
    counted = Counter(redaction.kind for redaction in redactions)
    return dict(sorted(counted.items(), key=lambda item: (-item[1], item[0])))


def write_review(redactions: list[Redaction], path: Path, language: str = "zh") -> Path:
    """The staff review file: UTF-8 with BOM, '\\n' endings, formula triggers defused."""
    output = io.StringIO()
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(words.words(language)["review_header"])
    ordered = sorted(redactions, key=lambda r: (r.table, schema.id_order(r.row_id), r.field))
    for redaction in ordered:
        writer.writerow([defuse(value) for value in (redaction.table, redaction.row_id,
                                                      redaction.field, redaction.kind,
                                                      redaction.excerpt)])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" + output.getvalue()).encode("utf-8"))
    return path

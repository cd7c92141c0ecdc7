"""Precision and recall of name redaction on tests/cases/privacy/names_labelled.txt.

`.venv/bin/python tests/privacy/name_metrics.py` prints them; tests/privacy/test_names.py
asserts minimums.  A labelled name counts as found when every character of it is hidden; a
hidden span counts as right when it overlaps a labelled name.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from etl.privacy.names import NameRules, find_names

LABELLED = ROOT / "tests" / "cases" / "privacy" / "names_labelled.txt"
_MARK = re.compile(r"【([^】]+)】")


@dataclass(frozen=True)
class Scores:
    sentences: int
    names: int
    found: int
    hidden: int
    right: int
    misses: tuple[str, ...]
    wrong: tuple[str, ...]

    @property
    def precision(self) -> float:
        return self.right / self.hidden if self.hidden else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.names if self.names else 1.0


def parse(text: str) -> tuple[NameRules, list[tuple[str, list[tuple[int, int]]]]]:
    """The rules the set's header declares, and each sentence with its labelled spans."""
    known: list[str] = []
    keep: list[str] = []
    sentences = []
    for line in text.splitlines():
        if line.startswith("known:"):
            known = line.split(":", 1)[1].split()
        elif line.startswith("keep:"):
            keep = line.split(":", 1)[1].split()
        elif line.strip():
            plain, spans, position = [], [], 0
            for match in _MARK.finditer(line):
                plain.append(line[position:match.start()])
                start = sum(map(len, plain))
                plain.append(match.group(1))
                spans.append((start, start + len(match.group(1))))
                position = match.end()
            plain.append(line[position:])
            sentences.append(("".join(plain), spans))
    return NameRules(known=frozenset(known), keep=frozenset(keep)), sentences


def score(path: Path = LABELLED) -> Scores:
    rules, sentences = parse(path.read_text(encoding="utf-8"))
    names = found = hidden = right = 0
    misses, wrong = [], []
    for sentence, gold in sentences:
        predicted = find_names(sentence, rules)
        covered = {i for start, end in predicted for i in range(start, end)}
        for start, end in gold:
            names += 1
            if all(i in covered for i in range(start, end)):
                found += 1
            else:
                misses.append(f"{sentence}  [{sentence[start:end]}]")
        for start, end in predicted:
            hidden += 1
            if any(start < g_end and g_start < end for g_start, g_end in gold):
                right += 1
            else:
                wrong.append(f"{sentence}  [{sentence[start:end]}]")
    return Scores(len(sentences), names, found, hidden, right, tuple(misses), tuple(wrong))


if __name__ == "__main__":
    result = score()
    print(f"{result.sentences} sentences, {result.names} labelled names, {result.hidden} hidden spans")
    print(f"precision {result.precision:.3f} ({result.right}/{result.hidden})")
    print(f"recall    {result.recall:.3f} ({result.found}/{result.names})")
    for line in result.misses:
        print("  missed:", line)
    for line in result.wrong:
        print("  wrong: ", line)

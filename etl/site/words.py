"""Every word the site shows, in every language, read from the one file that holds them.

templates/text.yml has a block per language in `etl.config.LANGUAGES`; templates read the
block as `t.<key>`, and Python reads its nested sections here: `figure_labels`, `group_labels`,
`definitions`, `status_labels`, `field_titles` and `chart`.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from etl.config import LANGUAGES
from etl.errors import BuildError

TEXT_FILE = Path(__file__).resolve().parents[2] / "templates" / "text.yml"


@functools.lru_cache(maxsize=None)
def _all() -> dict:
    return yaml.safe_load(TEXT_FILE.read_text(encoding="utf-8"))


def words(language: str) -> dict:
    """The site's words in one language; a language text.yml lacks is an error, never Chinese."""
    data = _all()
    if language not in LANGUAGES or language not in data:
        raise BuildError(f"{TEXT_FILE} has no words for language {language!r} (it has "
                         f"{', '.join(sorted(data))})",
                         hint=f"set `language` to one of {', '.join(LANGUAGES)}, "
                              f"or add a {language}: block to {TEXT_FILE.name}")
    return data[language]


def section(name: str, language: str) -> dict[str, str]:
    """One nested section of a language's words (figure_labels, status_labels, chart, ...)."""
    return words(language)[name]


def status_labels(language: str = "zh") -> dict[str, str]:
    """Canonical status -> the word the site shows for it, in the site's language."""
    return section("status_labels", language)


def field_title(name: str, language: str = "zh", table: str = "issues") -> str:
    """The heading of a canonical field of `table` in the site's language (the same name can
    read differently in each table: issue_id is 问题编号 for an issue, 归入问题编号 for an opinion)."""
    return section("field_titles", language)[table][name]


def chart_text(language: str = "zh") -> dict[str, str]:
    """The words charts print (axis titles, legend entries), in the site's language."""
    return section("chart", language)

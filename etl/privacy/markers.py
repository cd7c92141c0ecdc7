"""The words that stand in for hidden personal data, in each site language (templates/text.yml)."""

from __future__ import annotations

from etl.site import words

# Markers hold no digits, no at sign and no surname followed by a given name, so redacting a
# redacted text finds nothing new.  Several kinds share a marker: a reader need not know
# whether a phone number was a Hong Kong or a Taiwan one.
KINDS = tuple(words.section("redaction_markers", "zh"))


def markers(language: str = "zh") -> dict[str, str]:
    """Kind -> marker in the site language (`redaction_markers` in templates/text.yml)."""
    return words.section("redaction_markers", language)

"""How every figure is named, defined in plain Chinese (or English), and printed on a page."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from etl.config import LANGUAGES
from etl.site import words

# An empty unit/area/category/channel is grouped under this name, so group totals still add up.
MISSING_GROUP = "未填写"
NO_VALUE = "—"

# The home page shows these, in this order.
HEADLINE_KEYS = (
    "feedback.total", "issues.total", "issues.done", "rate.completion", "rate.on_time",
    "issues.overdue", "days.median_to_rectify", "rate.reply", "rate.satisfaction", "issues.rework",
)

# Figures every group (unit, area, category, channel) carries; channels add CHANNEL_EXTRA_KEYS.
GROUP_KEYS = (
    "total", "open", "in_progress", "done", "long_term", "rework", "explained", "not_adopted",
    "merged", "transferred", "overdue", "rate.completion", "rate.on_time",
)
CHANNEL_EXTRA_KEYS = ("feedback.total", "feedback.replied", "rate.reply")
GROUP_KINDS = ("unit", "area", "category", "channel")

# Labels and definitions live with every other word in templates/text.yml (etl/site/words.py).
LABELS = words.section("figure_labels", "zh")
LABELS_EN = words.section("figure_labels", "en")
GROUP_LABELS = words.section("group_labels", "zh")
GROUP_LABELS_EN = words.section("group_labels", "en")
DEFINITIONS = words.section("definitions", "zh")
DEFINITIONS_EN = words.section("definitions", "en")


def group_label(key: str, language: str = "zh") -> str:
    """Short label of a group figure key (done, rate.completion) in the site's language."""
    return words.section("group_labels", language).get(key, key)


def definitions(language: str = "zh") -> dict[str, str]:
    """Every figure and concept definition, in the methodology page's order."""
    return words.section("definitions", language)


def round_half_up(value: float | int | Decimal, places: int = 1) -> Decimal:
    """Round like a person does (2.25 -> 2.3), on the number's shortest decimal spelling."""
    number = value if isinstance(value, Decimal) else Decimal(repr(value))
    return number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def kind(key: str) -> str:
    """The kind of a figure from its key alone: rate, mean, days, claim or count.

    The rule, in order: a key with a "rate" part is a rate (rate.reply, unit.u-1a2b3c4d.rate.on_time);
    a key ending in "mean" is a mean score; a key with a "days" part is a number of days;
    a key starting with "claim" is a claim number (in the claim's own units); anything else counts items.
    """
    parts = key.split(".")
    if parts[0] == "claim":
        return "claim"
    if "rate" in parts:
        return "rate"
    if parts[-1] == "mean":
        return "mean"
    if "days" in parts:
        return "days"
    return "count"


def _plain(value: float | int) -> str:
    """A count with thousands separators, or a number with one decimal when it is not whole."""
    rounded = round_half_up(value, 1)
    if rounded == rounded.to_integral_value():
        rounded = rounded.quantize(Decimal(1)) + 0  # "+ 0" turns -0 into 0
    return format(rounded, ",f")


def format_figure(key: str, value: float | int | None, language: str = "zh") -> str:
    """The text a page shows for a figure: "62.5%", "1,234", "37.5", "85.3" or "—".

    Rates print as percentages with one decimal (half-up); counts, days and claim numbers print
    whole when whole (with thousands separators) and with one decimal otherwise; mean scores
    always print one decimal. Chinese and English pages print numbers the same way.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    if value is None or value != value:  # NaN never reaches a page as a number
        return NO_VALUE
    figure_kind = kind(key)
    if figure_kind == "rate":
        return f"{round_half_up(Decimal(repr(float(value))) * 100, 1):f}%"
    if figure_kind == "mean":
        return f"{round_half_up(value, 1):f}"
    return _plain(value)


def label(key: str, language: str = "zh") -> str:
    """Short label of a figure key, group keys included (unit.<slug>.done -> 已整改 / Rectified)."""
    labels = words.section("figure_labels", language)
    if key in labels:
        return labels[key]
    parts = key.split(".")
    if parts[0] in GROUP_KINDS and len(parts) > 2:
        return group_label(".".join(parts[2:]), language)
    return key

"""How every figure is named, defined in plain Chinese (or English), and printed on a page."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# An empty unit/area/category/channel is grouped under this name, so group totals still add up.
MISSING_GROUP = "未填写"
NO_VALUE = "—"
LANGUAGES = ("zh", "en")

# The home page shows these, in this order.
HEADLINE_KEYS = (
    "feedback.total", "issues.total", "issues.done", "rate.completion", "rate.on_time",
    "issues.overdue", "days.median_to_rectify", "rate.reply", "rate.satisfaction", "issues.rework",
)

# Figures every group (unit, area, category, channel) carries; channels add CHANNEL_EXTRA_KEYS.
GROUP_KEYS = (
    "total", "open", "in_progress", "done", "long_term", "rework", "overdue",
    "rate.completion", "rate.on_time",
)
CHANNEL_EXTRA_KEYS = ("feedback.total", "feedback.replied", "rate.reply")
GROUP_KINDS = ("unit", "area", "category", "channel")

LABELS: dict[str, str] = {
    "feedback.total": "征求意见建议",
    "feedback.replied": "已答复意见",
    "rate.reply": "答复率",
    "issues.total": "梳理问题",
    "issues.open": "未启动",
    "issues.in_progress": "整改中",
    "issues.done": "已整改",
    "issues.long_term": "长期坚持",
    "issues.rework": "返工",
    "issues.rectified": "已整改到位",
    "rate.completion": "整改完成率",
    "rate.on_time": "按期完成率",
    "rate.on_time_current": "按现行时限完成率",
    "issues.done_on_time": "按期完成",
    "issues.done_with_deadline": "有时限的已完成问题",
    "issues.deadline_extended": "时限被延后",
    "issues.overdue": "逾期未完成",
    "issues.overdue_first_deadline": "按首次时限逾期",
    "days.median_to_rectify": "整改用时中位数（天）",
    "satisfaction.scored": "已测评满意度",
    "satisfaction.satisfied": "测评满意",
    "rate.satisfaction": "满意率",
    "satisfaction.mean": "平均满意度",
    "deadline.overdue": "已过时限",
    "deadline.within_10": "10天内到期",
    "deadline.within_20": "11至20天到期",
    "deadline.later": "20天后到期",
    "deadline.none": "无具体时限",
    "issues.stale": "长期无进展",
}

GROUP_LABELS: dict[str, str] = {
    "total": "问题数", "open": "未启动", "in_progress": "整改中", "done": "已整改",
    "long_term": "长期坚持", "rework": "返工", "overdue": "逾期", "rate.completion": "完成率",
    "rate.on_time": "按期完成率", "feedback.total": "意见数", "feedback.replied": "已答复",
    "rate.reply": "答复率",
}

LABELS_EN: dict[str, str] = {
    "feedback.total": "Opinions received",
    "feedback.replied": "Opinions replied to",
    "rate.reply": "Reply rate",
    "issues.total": "Issues identified",
    "issues.open": "Not started",
    "issues.in_progress": "In progress",
    "issues.done": "Rectified",
    "issues.long_term": "Ongoing",
    "issues.rework": "Rework",
    "issues.rectified": "Rectified in full",
    "rate.completion": "Completion rate",
    "rate.on_time": "On-time rate",
    "rate.on_time_current": "On-time rate by current deadline",
    "issues.done_on_time": "Completed on time",
    "issues.done_with_deadline": "Completed issues with a deadline",
    "issues.deadline_extended": "Deadline extended",
    "issues.overdue": "Overdue",
    "issues.overdue_first_deadline": "Overdue by first deadline",
    "days.median_to_rectify": "Median days to rectify",
    "satisfaction.scored": "Satisfaction scored",
    "satisfaction.satisfied": "Scored satisfied",
    "rate.satisfaction": "Satisfaction rate",
    "satisfaction.mean": "Mean satisfaction score",
    "deadline.overdue": "Past deadline",
    "deadline.within_10": "Due within 10 days",
    "deadline.within_20": "Due in 11 to 20 days",
    "deadline.later": "Due after 20 days",
    "deadline.none": "No set deadline",
    "issues.stale": "No progress for a long time",
}

GROUP_LABELS_EN: dict[str, str] = {
    "total": "Issues", "open": "Not started", "in_progress": "In progress", "done": "Rectified",
    "long_term": "Ongoing", "rework": "Rework", "overdue": "Overdue", "rate.completion": "Completion rate",
    "rate.on_time": "On-time rate", "feedback.total": "Opinions", "feedback.replied": "Replied",
    "rate.reply": "Reply rate",
}

# Keys are figure keys, plus the concept keys groups, funnel, series.burnup, series.snapshots
# and claims, which the methodology page explains in the same list.
DEFINITIONS: dict[str, str] = {
    "as_of": "统计截止日期即本次公示日期，所有“逾期”“到期”“长期无进展”均以此日期计算；同样的数据在同一截止日期重新生成，结果完全相同。",
    "feedback.total": "意见建议台账中的意见条数，每条意见计一次，不论是否归入某个问题。",
    "feedback.replied": "台账中标记为已答复的意见条数；未填写是否答复的按未答复计。如果整个台账都没有“是否答复”一栏的内容（例如该栏未公开），不计算，显示为“—”。",
    "rate.reply": "答复率 = 已答复意见 ÷ 意见总数。没有意见时不计算，显示为“—”。",
    "issues.total": "问题整改清单中的问题条数。一个问题可能归并了多条意见，也可能来自台账以外的渠道，所以问题数与意见数之间没有固定的大小关系。",
    "issues.open": "整改状态为未启动的问题数。",
    "issues.in_progress": "整改状态为整改中（含序时推进）的问题数。",
    "issues.done": "整改状态为已完成的问题数。满意度测评低于门槛分的问题不计入，而计入返工。",
    "issues.long_term": "整改状态为长期坚持的问题数。这类问题没有完成日期，不计入逾期。",
    "issues.rework": "返工问题数：状态为返工的问题，包括标为已完成但满意度测评低于门槛分的问题。",
    "issues.rectified": "已整改到位的问题数，与“已整改”相同，用于“意见—问题—整改”漏斗的最后一级。",
    "rate.completion": "整改完成率 = 已完成问题 ÷ 问题总数。长期坚持、返工和整改中的问题都算未完成。",
    "rate.on_time": "按期完成率 = 在首次公布的整改时限当天或之前完成的问题 ÷ 有首次时限的已完成问题。首次时限取该问题在历次公示快照中最早出现的时限，没有历史快照时取现行时限；因此悄悄延后的时限仍按原时限计。已完成但未填完成时间的问题无法证明按期，计为未按期；如果整张清单都没有完成时间（例如该栏未公开），不计算，显示为“—”。",
    "rate.on_time_current": "按现行时限完成率：与按期完成率算法相同，但以当前清单中的时限为准，用于对照时限延后的影响。",
    "issues.done_on_time": "在首次时限当天或之前完成的问题数，即按期完成率的分子。",
    "issues.done_with_deadline": "有首次时限的已完成问题数，即按期完成率的分母。",
    "issues.deadline_extended": "时限被延后的问题数：现行时限晚于首次公布的时限，或者公布过时限而现在没有具体日期（改为“长期坚持”等说明，或留空）。去掉时限后该问题不再计入逾期，是最彻底的延后。变更页面列出的时限延后按同一规则判断。",
    "issues.overdue": "逾期未完成：状态不是已完成或长期坚持，且现行整改时限早于统计截止日期的问题数（返工问题也计入）。",
    "issues.overdue_first_deadline": "按首次时限逾期：状态不是已完成或长期坚持，且首次公布的时限早于统计截止日期的问题数；时限被延后的问题在这里仍算逾期。",
    "days.median_to_rectify": "整改用时中位数：已完成且同时填写了梳理日期和完成时间的问题，从梳理日期到完成时间的天数的中位数；个数为偶数时取中间两个数的平均。",
    "satisfaction.scored": "填写了满意度测评分数的问题数。",
    "satisfaction.satisfied": "满意度测评分数不低于门槛分（默认80分）的问题数。",
    "rate.satisfaction": "满意率 = 测评分数不低于门槛分的问题 ÷ 已测评问题。",
    "satisfaction.mean": "已测评问题满意度分数的算术平均，保留一位小数。",
    "deadline.overdue": "未完成（不含长期坚持）且现行时限已过的问题数，与“逾期未完成”相同。",
    "deadline.within_10": "未完成（不含长期坚持）且现行时限在今后0至10天内的问题数。",
    "deadline.within_20": "未完成（不含长期坚持）且现行时限在今后11至20天内的问题数。",
    "deadline.later": "未完成（不含长期坚持）且现行时限在20天以后的问题数。",
    "deadline.none": "未完成（不含长期坚持）且没有具体时限日期的问题数。以上五项相加等于未完成（不含长期坚持）的问题数。",
    "issues.stale": "长期无进展：状态为未启动、整改中或返工，且在历次公示快照中状态连续不变已满设定周数（默认8周）的问题数。没有足够的历史快照时，不判定为长期无进展。",
    "groups": "按责任单位、区域、问题类别和来源渠道分组统计；未填写的归入“未填写”组，因此各组问题数相加等于问题总数。来源渠道分组另含该渠道的意见数、已答复数和答复率。",
    "funnel": "意见—问题—整改漏斗：征求意见建议条数、梳理问题数、已整改问题数。",
    "series.burnup": "累计曲线：从最早的梳理日期起，每月末（最后一点为统计截止日期）累计梳理的问题数和累计完成的问题数，按各问题的梳理日期和完成时间计算；缺少相应日期的问题不计入曲线。",
    "series.snapshots": "历次公示时各状态的问题数，取自每次公示的数据快照，本次公示列在最后；最近一次快照如与本次同一天且各问题状态和时限完全相同，即本次公示的重复运行，不重复列出。",
    "claims": "官方报告中引用的数字与逐条数据核对。比率类数字按百分数填写，与计算结果四舍五入到0.1个百分点后比较；天数和平均分四舍五入到一位小数后比较；条数须完全相同。不一致的如实显示。",
}

DEFINITIONS_EN: dict[str, str] = {
    "as_of": "The data cut-off date is the date of this publication; every overdue, due and no-progress count is reckoned from it. The same data with the same cut-off date always gives exactly the same results.",
    "feedback.total": "The number of opinions in the opinion register; each opinion counts once, whether or not it was merged into an issue.",
    "feedback.replied": "The number of opinions the register marks as replied to; an opinion with the reply column empty counts as not replied to. If the whole register has nothing in that column (for example because it is not published), the figure is not computed and shows as “—”.",
    "rate.reply": "Reply rate = opinions replied to ÷ all opinions. With no opinions it is not computed and shows as “—”.",
    "issues.total": "The number of issues in the rectification list. One issue may merge several opinions or come from outside the register, so there is no fixed relation between the number of issues and the number of opinions.",
    "issues.open": "The number of issues whose status is not started.",
    "issues.in_progress": "The number of issues whose status is in progress (including those advancing on schedule).",
    "issues.done": "The number of issues whose status is completed. An issue whose satisfaction score is below the threshold is not counted here but as rework.",
    "issues.long_term": "The number of issues whose status is ongoing. These issues have no completion date and are never counted as overdue.",
    "issues.rework": "The number of rework issues: issues with status rework, including issues marked completed whose satisfaction score is below the threshold.",
    "issues.rectified": "The number of issues rectified in full; the same as rectified, used as the last step of the opinions, issues, rectification funnel.",
    "rate.completion": "Completion rate = completed issues ÷ all issues. Ongoing, rework and in-progress issues all count as not completed.",
    "rate.on_time": "On-time rate = issues completed on or before their first published deadline ÷ completed issues with a first deadline. The first deadline is the earliest deadline the issue had in any published snapshot, or the current deadline when there are no earlier snapshots, so a quietly extended deadline still counts by the original one. A completed issue without a completion date cannot be shown to be on time and counts as late; if the whole list has no completion dates (for example because that column is not published), the figure is not computed and shows as “—”.",
    "rate.on_time_current": "On-time rate by current deadline: computed like the on-time rate, but against the deadlines in the current list, to show the effect of extended deadlines.",
    "issues.done_on_time": "The number of issues completed on or before their first deadline: the numerator of the on-time rate.",
    "issues.done_with_deadline": "The number of completed issues with a first deadline: the denominator of the on-time rate.",
    "issues.deadline_extended": "The number of issues whose deadline was extended: the current deadline is later than the first published one, or a deadline was published and the issue now has no date (replaced by a note such as “ongoing”, or left blank). Without a date the issue can never be overdue, so dropping it is the most extreme extension. The changes page lists deadline extensions by the same rule.",
    "issues.overdue": "Overdue: the number of issues whose status is neither completed nor ongoing and whose current deadline is before the cut-off date (rework issues included).",
    "issues.overdue_first_deadline": "Overdue by first deadline: the number of issues whose status is neither completed nor ongoing and whose first published deadline is before the cut-off date; issues with an extended deadline still count as overdue here.",
    "days.median_to_rectify": "Median days to rectify: over completed issues with both an identification date and a completion date, the median number of days from one to the other; with an even count, the mean of the middle two.",
    "satisfaction.scored": "The number of issues with a satisfaction score.",
    "satisfaction.satisfied": "The number of issues whose satisfaction score is at least the threshold (80 by default).",
    "rate.satisfaction": "Satisfaction rate = issues scored at least the threshold ÷ issues scored.",
    "satisfaction.mean": "The arithmetic mean of the satisfaction scores of scored issues, to one decimal place.",
    "deadline.overdue": "The number of issues not completed (ongoing ones excluded) whose current deadline has passed; the same as overdue.",
    "deadline.within_10": "The number of issues not completed (ongoing ones excluded) whose current deadline is 0 to 10 days away.",
    "deadline.within_20": "The number of issues not completed (ongoing ones excluded) whose current deadline is 11 to 20 days away.",
    "deadline.later": "The number of issues not completed (ongoing ones excluded) whose current deadline is more than 20 days away.",
    "deadline.none": "The number of issues not completed (ongoing ones excluded) without a set deadline date. These five figures add up to the number of issues not completed (ongoing ones excluded).",
    "issues.stale": "No progress for a long time: the number of issues whose status is not started, in progress or rework and has stayed the same across published snapshots for at least the set number of weeks (8 by default). Without enough earlier snapshots no issue is judged stale.",
    # The empty group keeps its data name on every page, so the definition names it as it appears.
    "groups": f"Figures by responsible unit, area, issue category and source channel; issues with the field empty are grouped under “{MISSING_GROUP}” (not filled in), so group totals add up to the total number of issues. Source channel groups also carry the opinions, replies and reply rate of the channel.",
    "funnel": "The opinions, issues, rectification funnel: opinions received, issues identified, issues rectified.",
    "series.burnup": "Cumulative lines: from the earliest identification date, at the end of each month (the last point is the cut-off date), the cumulative number of issues identified and of issues completed, by each issue's identification and completion dates; issues missing the date in question are left out of the line.",
    "series.snapshots": "The number of issues in each status at each publication, taken from each publication's data snapshot, this publication last; the most recent snapshot, when it is on the same day as this one with exactly the same statuses and deadlines, is a rerun of this publication and is not listed twice.",
    "claims": "Figures quoted in official reports checked against the item-by-item data. Rates are entered as percentages and compared with the computed value rounded to 0.1 percentage points; days and mean scores are compared rounded to one decimal place; counts must match exactly. Mismatches are shown as they are.",
}

WORDS = {"zh": (LABELS, GROUP_LABELS, DEFINITIONS), "en": (LABELS_EN, GROUP_LABELS_EN, DEFINITIONS_EN)}


def _words(language: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    if language not in WORDS:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    return WORDS[language]


def group_label(key: str, language: str = "zh") -> str:
    """Short label of a group figure key (done, rate.completion) in the site's language."""
    return _words(language)[1].get(key, key)


def definitions(language: str = "zh") -> dict[str, str]:
    """Every figure and concept definition, in the methodology page's order."""
    return _words(language)[2]


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
    labels = _words(language)[0]
    if key in labels:
        return labels[key]
    parts = key.split(".")
    if parts[0] in GROUP_KINDS and len(parts) > 2:
        return group_label(".".join(parts[2:]), language)
    return key

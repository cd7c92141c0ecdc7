"""Find person names in free text: after cue words, in masked or honorific forms, and names
known to be personal because a complainant or contact column holds them.

Decisions (issue 11):
- Three signals, each enough alone: a cue word (举报人, 村民, 联系人 ...) followed by a common
  surname and a given name; a surname with a mask or honorific (张某, 王某某, 李女士, 赵师傅);
  a name that a complainant or contact cell of any source table holds, wherever it appears.
  jieba's part-of-speech tag nr is a second signal only: it settles how long a name after a
  cue is ("张三反映" against "王小明称"), never finds a name by itself.
- The dictionary guards the cue rule against words that start with a surname: after 群众,
  "满意度", "常见病", "安全感", "文化" are words, not names.  A surname and the next character
  that make a dictionary word (not a name) of some frequency are not a name.
- A known name is matched wherever it appears, even inside a longer word: over-hiding a
  word costs less than publishing a complainant.  Names that are part of a published unit,
  area, category or channel name are left out of the known names (etl.privacy.review), so
  "李家集镇" is not cut when someone called 李家 wrote in.
- Names to keep (public officials, config privacy.keep_names and, when the config publishes
  it, the 责任人 column) are never hidden by any rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from etl.site import search

# Common surnames: about the first 270 by frequency, simplified and traditional.  Surnames
# that are also everyday characters (文, 常, 安, 于, 向) are in, and the dictionary checks
# below keep them honest; rarer ones that are mostly everyday characters (修, 由, 信) are out.
SINGLE_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦"
    "俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房"
    "滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟"
    "应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐"
    "冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼"
    "張劉陳楊黃趙吳孫馬郭羅鄭謝許韓馮鄧蕭葉蘇呂盧蔣賈譚陸鍾鄒龔顧錢湯閻廖潘戴鐘範姚熊陶邱"
    "魯嚴賴龍賀薛雷萬")
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤 南宫 西门 "
    "百里 呼延 轩辕 申屠 澹台 太史 公羊 歐陽 司馬 諸葛 長孫".split())
# Cue words: the person named right after them wrote in, complained or is the party concerned.
CUES = ("举报人", "反映人", "投诉人", "来信人", "来电人", "来访人", "信访人", "联系人", "当事人",
        "申请人", "求助人", "诉求人", "报案人", "受害人", "群众", "村民", "居民", "业主", "市民",
        "住户", "租户", "户主", "患者", "家属", "本人", "姓名", "我叫", "名叫", "署名",
        "舉報人", "反映人", "投訴人", "來信人", "來電人", "聯繫人", "聯絡人", "當事人", "申請人",
        "村民", "居民", "業主", "市民", "住戶", "戶主")
MASKS = ("某某", "某", "ＸＸ", "XX", "xx", "××", "＊＊", "**")
HONORIFICS = ("先生", "女士", "小姐", "师傅", "師傅", "阿姨", "大爷", "大爺", "大妈", "大媽",
              "大娘", "大姐", "大哥", "老师", "老師")
# A character right after a cue and a surname that shows the surname is not a name: "群众向
# 有关部门" (向 is a surname), "居民多次反映".  Also ends a given name: "张三反映".
STOP_CHARACTERS = frozenset(
    "反称说讲等的地得在于向到来去是也都和与及跟同要请被把对为将已曾再又就还不没有们多提希表认找打"
    "上里外内"
    "拨致写给从因所该此其之今昨近处门楼户带称家并均等即也或但而则使让叫由以等、，。；：！？（）"
    "“”‘’《》〈〉【】[]()\"' ,.;:!?的了着过吗呢吧啊")
# After 某: the mask is "some" ("某些", "于某日", "向某单位"), not a name.
NOT_AFTER_MASK = frozenset("些日月年天项个种处地时类部单公村镇乡县市区街一次位企店厂校院局委所样方")
_WORD_FREQUENCY_FLOOR = 50  # a surname + character word this common is a word, unless a name
_NAME_WORD_FLOOR = 1000  # ... and a "name" this common (文明, tagged nr) is a word all the same
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")

_EN_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx)\.? ?[A-Z][a-zA-Z'\-]+(?: [A-Z][a-zA-Z'\-]+)?")
_EN_CUE = re.compile(r"\b(?:[Cc]omplainant|[Cc]aller|[Rr]esident|[Tt]enant|[Hh]omeowner|"
                     r"[Cc]ontact(?: [Pp]erson)?|[Rr]eporting [Pp]arty|[Nn]ame)"
                     r"(?: ?: ?| named | is named | name is | name: )"
                     r"(?P<name>[A-Z][a-zA-Z'\-]+(?: [A-Z]\.)?(?: [A-Z][a-zA-Z'\-]+){0,2})")


@dataclass(frozen=True)
class NameRules:
    """What the name finder knows: names known to be personal, names to keep, extra cue words."""

    known: frozenset[str] = frozenset()
    keep: frozenset[str] = frozenset()
    cues: tuple[str, ...] = ()
    _lengths: tuple[int, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        known = frozenset(name for name in self.known if len(name) >= 2 and name not in self.keep)
        object.__setattr__(self, "known", known)
        object.__setattr__(self, "_lengths", tuple(sorted({len(n) for n in known}, reverse=True)))


DEFAULT_RULES = NameRules()

_jieba = None


def _dictionary():
    """jieba's word frequencies, tag table and tagger, from the one loaded jieba."""
    global _jieba
    if _jieba is None:
        import jieba.posseg as posseg
        frequencies = search.segmenter().dt.FREQ
        _jieba = (frequencies, posseg.dt.word_tag_tab, posseg)
    return _jieba


def _is_word(word: str) -> bool:
    """Whether jieba's dictionary has `word` as an everyday word rather than a name."""
    frequencies, tags, _ = _dictionary()
    frequency = frequencies.get(word) or 0
    tag = tags.get(word, "")
    if tag.startswith("nr"):
        return frequency >= _NAME_WORD_FLOOR
    return frequency >= _WORD_FREQUENCY_FLOOR


def _surname_at(text: str, position: int) -> int:
    """Length of the surname starting at `position` (2 for 欧阳), or 0."""
    if text[position:position + 2] in COMPOUND_SURNAMES:
        return 2
    return 1 if position < len(text) and text[position] in SINGLE_SURNAMES else 0


def _is_cjk(character: str) -> bool:
    return bool(_CJK.match(character))


def _mask_or_honorific(text: str, end: int) -> int:
    """End of a mask or honorific starting at `end` ("某某", "女士"), or `end` itself."""
    for mask in MASKS:
        if text.startswith(mask, end):
            after = text[end + len(mask):end + len(mask) + 1]
            if mask.startswith("某") and after in NOT_AFTER_MASK:
                return end
            return end + len(mask)
    for honorific in HONORIFICS:
        if text.startswith(honorific, end):
            return end + len(honorific)
    return end


def _given_name_end(text: str, start: int, surname: int) -> int:
    """End of the name after a cue whose surname starts at `start`, or `start` if none."""
    first = start + surname
    after = _mask_or_honorific(text, first)
    if after > first:
        return after
    if first >= len(text) or not _is_cjk(text[first]) or text[first] in STOP_CHARACTERS:
        return start
    if _is_word(text[start:first + 1]):
        return start
    # A given name of two characters unless the second one cannot be part of a name or
    # starts a word ("张三反映", "李伟家门口": 家门) ...
    end = first + 1
    second, pair = text[end:end + 1], text[end:end + 2]
    if second and _is_cjk(second) and second not in STOP_CHARACTERS \
            and not (len(pair) == 2 and _is_word(pair)):
        end += 1
    # ... jieba's tag says when it is not a name at all, or a longer one ("王建国家门口").
    _, _, posseg = _dictionary()
    pieces = [(piece.word, piece.flag) for piece in posseg.cut(text[start:start + surname + 4])]
    if surname == 1 and len(pieces) > 1 and pieces[0][0] == text[start] \
            and pieces[0][1][:1] in "pc" and len(pieces[1][0]) >= 2:
        return start  # "群众向有关部门": a preposition before a word, not a surname
    if surname == 1 and pieces and pieces[0][1].startswith("nr") and len(pieces[0][0]) == 3:
        end = max(end, start + 3)
    return _mask_or_honorific(text, end)


def _after_cues(text: str, rules: NameRules):
    cues = CUES + tuple(rules.cues)
    for cue in dict.fromkeys(cues):
        position = text.find(cue)
        while position != -1:
            start = position + len(cue)
            while start < len(text) and text[start] in ":： 　为是叫系":
                start += 1
            while start < len(text):
                surname = _surname_at(text, start)
                end = _given_name_end(text, start, surname) if surname else start
                if end == start:
                    break
                yield start, end
                # "村民张三、李四反映": the names listed after one cue.
                if end < len(text) and text[end] in "、和及与":
                    start = end + 1
                    continue
                break
            position = text.find(cue, position + 1)


def _masked_and_honorific(text: str):
    for token in MASKS + HONORIFICS:
        position = text.find(token)
        while position != -1:
            found = _name_before(text, position, token)
            if found is not None:
                yield found
            position = text.find(token, position + len(token))


def _name_before(text: str, position: int, token: str) -> tuple[int, int] | None:
    end = position + len(token)
    if token.startswith("某") and text[end:end + 1] in NOT_AFTER_MASK:
        return None
    # "王建国先生": a full name before the honorific, when jieba tags it a name.
    if not token.startswith("某"):
        for length in (3, 2):
            start = position - length
            if start >= 0 and _surname_at(text, start) and all(map(_is_cjk, text[start:position])):
                _, _, posseg = _dictionary()
                pieces = list(posseg.cut(text[start:position]))
                if len(pieces) == 1 and pieces[0].flag.startswith("nr"):
                    return start, end
    for surname in (2, 1):
        start = position - surname
        if start >= 0 and _surname_at(text, start) == surname:
            break
    else:
        return None
    # "首先生产", "优先生成": the surname and the honorific's first character are one word;
    # "维修师傅": the surname is the end of a word.
    if token[0] in "先女小" and _is_word(text[position - 1:position + 1]):
        return None
    if start > 0 and _is_word(text[start - 1:start + 1]):
        return None
    return start, end


_SURNAME_ALONE = re.compile("(?<!百)姓(?P<surname>" + "|".join(sorted(COMPOUND_SURNAMES)) + "|["
                            + "".join(sorted(SINGLE_SURNAMES)) + "])(?=的|，|,|。|、|先生|女士|名|\\s)")


def _surname_alone(text: str):
    """'一位姓王的村民': the surname is all that is said, and it is still the person's."""
    for match in _SURNAME_ALONE.finditer(text):
        yield match.start("surname"), match.end("surname")


def _known(text: str, rules: NameRules):
    if not rules._lengths:
        return
    for position in range(len(text)):
        for length in rules._lengths:
            if text[position:position + length] in rules.known:
                yield position, position + length
                break


def _english(text: str):
    for match in _EN_HONORIFIC.finditer(text):
        yield match.start(), match.end()
    for match in _EN_CUE.finditer(text):
        yield match.start("name"), match.end("name")


def _kept(text: str, start: int, end: int, keep: frozenset[str]) -> bool:
    """Whether the hit overlaps an occurrence of a name to keep."""
    for name in keep:
        position = text.find(name, max(0, start - len(name) + 1))
        if position != -1 and position < end:
            return True
    return False


def find_names(text: str, rules: NameRules = DEFAULT_RULES) -> list[tuple[int, int]]:
    """Spans of person names in `text`, in order, never overlapping."""
    if not text:
        return []
    spans = list(_known(text, rules))
    if any(_is_cjk(character) for character in text):
        spans += _after_cues(text, rules)
        spans += _masked_and_honorific(text)
        if "姓" in text:
            spans += _surname_alone(text)
    if "M" in text or any(cue in text.lower() for cue in ("complainant", "caller", "resident",
                                                          "tenant", "homeowner", "contact",
                                                          "reporting", "name")):
        spans += _english(text)
    spans.sort(key=lambda span: (span[0], -span[1]))
    found: list[tuple[int, int]] = []
    for start, end in spans:
        if found and start < found[-1][1]:
            if end > found[-1][1]:
                found[-1] = (found[-1][0], end)  # overlapping hits of two rules: hide both
            continue
        if rules.keep and _kept(text, start, end, rules.keep):
            continue
        found.append((start, end))
    return found

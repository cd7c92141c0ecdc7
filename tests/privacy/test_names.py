"""Person names in free text: cue words, masked and honorific forms, names known from the
complainant columns; jieba only as a second signal; officials kept; measured on a labelled set."""

import pytest

from etl.privacy.names import NameRules, find_names
from etl.privacy.redact import redact_text
from tests.privacy import name_metrics


def hidden(text, rules=NameRules()):
    return [text[start:end] for start, end in find_names(text, rules)]


@pytest.mark.parametrize("text,names", [
    ("举报人张三反映道路破损", ["张三"]),
    ("举报人张三…", ["张三"]),
    ("群众王小明称家门口积水", ["王小明"]),
    ("村民李四家门口垃圾成堆", ["李四"]),
    ("村民张建国家门口", ["张建国"]),  # 国家 is a word; jieba's nr keeps the whole name
    ("业主赵秀英投诉", ["赵秀英"]),
    ("反映人：周杰，电话已登记", ["周杰"]),
    ("村民张三、李四反映", ["张三", "李四"]),
    ("当事人孙立新对结果无异议", ["孙立新"]),
    ("居民欧阳明月反映", ["欧阳明月"]),
    ("联系人刘建国先生", ["刘建国先生"]),
    ("王建国先生来电", ["王建国先生"]),
    ("张某", ["张某"]), ("王某某", ["王某某"]), ("李女士", ["李女士"]), ("刘先生", ["刘先生"]),
    ("赵师傅", ["赵师傅"]),
])
def test_names_after_cues_and_in_masked_or_honorific_forms(text, names):
    assert hidden(text) == names


@pytest.mark.parametrize("text", [
    "群众满意度提升", "群众常见病在乡镇就能看", "群众向有关部门反映", "居民多次反映", "群众安全感增强",
    "首先生产", "优先生成报表", "向某单位反映", "于某日到场", "维修师傅上门", "业主委员会",
])
def test_words_that_start_with_a_surname_are_not_names(text):
    assert hidden(text) == []


def test_jieba_alone_never_hides_a_name():
    # jieba tags 王小明 nr here, but no cue, mask, honorific or complainant entry says so.
    import jieba.posseg
    assert [p.flag for p in jieba.posseg.cut("王小明家门口积水") if p.word == "王小明"] == ["nr"]
    assert hidden("王小明家门口积水") == []


def test_a_complainant_is_hidden_wherever_the_text_names_them():
    rules = NameRules(known=frozenset({"陈静怡"}))
    assert hidden("已向陈静怡反馈，陈静怡表示满意", rules) == ["陈静怡", "陈静怡"]
    assert redact_text("陈静怡家门口", names=rules) == "[姓名已隐去]家门口"
    assert redact_text("陈静怡家门口", "en", names=rules) == "[name removed]家门口"


def test_names_to_keep_win_over_every_rule():
    rules = NameRules(known=frozenset({"李明"}), keep=frozenset({"李明", "张建国"}))
    assert hidden("联系人李明，责任人张建国，举报人张三", rules) == ["张三"]
    assert hidden("局长张建国先生", rules) == []


def test_extra_cue_words():
    assert hidden("网格员孙丽巡查发现") == []
    assert hidden("网格员孙丽巡查发现", NameRules(cues=("网格员",))) == ["孙丽"]


def test_english_names_after_cues_and_honorifics():
    assert hidden("Mr. Smith called; Complainant: Mary Jones; Ms Lee") == [
        "Mr. Smith", "Mary Jones", "Ms Lee"]
    assert hidden("The caller stated Tenant Harassment at Resident Services") == []


def test_redaction_of_names_is_a_fixed_point():
    once = redact_text("举报人张三、李四反映，王某某和刘先生到场，13800138000万先生")
    assert redact_text(once) == once
    assert "张三" not in once and "王某某" not in once and "万先生" not in once


def test_precision_and_recall_on_the_labelled_set():
    scores = name_metrics.score()
    print(f"names: precision {scores.precision:.3f}, recall {scores.recall:.3f} "
          f"on {scores.sentences} sentences")
    assert scores.sentences >= 300
    assert scores.names >= 200 and scores.hidden >= 150
    # Measured at issue 11: precision 0.995, recall 0.916 (the misses are names with no cue,
    # no honorific and no complainant entry, which no rule here is meant to find).
    assert scores.precision >= 0.97
    assert scores.recall >= 0.88

"""Names collected from the never-published columns, the officials kept, and the review file."""

import csv
import io
import json

from etl import transform
from etl.privacy import review
from tests.test_transform import issue, write_validated


def test_names_in_complainant_and_contact_cells():
    assert review.names_in_cell("张三、李四") == {"张三", "李四"}
    assert review.names_in_cell("王建国先生 13800138000") == {"王建国先生", "王建国"}
    assert review.names_in_cell("John Smith, 212-555-0143") == {"John Smith"}
    assert review.names_in_cell("匿名") == set() and review.names_in_cell("张某") == set()
    assert review.names_in_cell(13800138000) == set()


def test_transform_hides_complainants_in_text_and_keeps_published_officials(write_config):
    from etl.config import load_config
    fields = ["issue_id", "description", "unit", "area", "owner", "status"]
    config = load_config(write_config(publish={"fields": {"issues": fields}}, language="en"))
    write_validated(config, [
        issue("A", description="陈静怡反映路灯不亮，责任人李建军已到场", owner="李建军"),
        issue("B", description="李家集镇的问题，联系人李建军", area="李家集镇", owner="李建军"),
    ], [
        {"feedback_id": "F1", "channel": "短信", "issue_id": "A", "complainant": "陈静怡"},
        {"feedback_id": "F2", "channel": "短信", "issue_id": "B", "complainant": "李家",
         "contact": "李建军 13900139000"},
    ])
    out = transform.run(config)
    raw = (out / "issues.csv").read_text(encoding="utf-8-sig")
    # The complainant goes; the official in the published 责任人 column stays, even after a cue
    # and even though a contact cell names him; 李家 is left alone inside the place 李家集镇.
    assert "陈静怡" not in raw and "[name removed]反映" in raw
    assert raw.count("李建军") == 4 and "李家集镇" in raw
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["redactions"] == {"name": 1}
    assert report["names_known"] == {"personal": 1, "inside_place_names": 1}  # 李建军 is kept
    rows = list(csv.reader(io.StringIO(
        (config.work_dir / review.REVIEW_FILE).read_text(encoding="utf-8-sig"))))
    assert rows == [["table", "row id", "field", "kind", "masked excerpt"],
                    ["issues", "A", "description", "name", "«陈**»反映路灯不亮，责任人李建…"]]


def test_officials_are_hidden_like_anyone_when_the_owner_column_is_private(config):
    write_validated(config, [issue("A", description="联系人李建军", owner="李建军")])
    out = transform.run(config)
    assert "李建军" not in (out / "issues.csv").read_text(encoding="utf-8-sig")


def test_keep_names_from_the_config(write_config):
    from etl.config import load_config
    config = load_config(write_config(privacy={"keep_names": ["张建国"], "name_cues": ["网格员"]}))
    write_validated(config, [issue("A", description="联系人张建国，网格员孙丽")])
    out = transform.run(config)
    raw = (out / "issues.csv").read_text(encoding="utf-8-sig")
    assert "张建国" in raw and "孙丽" not in raw


def test_masked_excerpts_never_show_other_hits_of_the_same_text():
    from etl.privacy.redact import redact_with_matches
    _, found = redact_with_matches("举报人张三，电话13800138000，邮箱zs@example.com")
    excerpts = [excerpt for _, excerpt in review.masked_excerpts(found)]
    assert len(excerpts) == 3
    for excerpt in excerpts:
        assert "张三" not in excerpt and "13800138000" not in excerpt and "zs@" not in excerpt

"""Search index: jieba tokens, id lookup, deterministic shards, size budget, Python/JS agreement."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from etl.site import pages
from etl.privacy import safepath
from etl.site import search
from etl.demo import synth

ROOT = Path(__file__).resolve().parents[2]
SEARCH_JS = ROOT / "content" / "assets" / "search.js"
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed: run `make system-deps` (Debian's nodejs)")

PHRASES = (
    "群众反映 办事窗口 服务态度差 推诿扯皮 公款吃喝 超标准配备公务用车 文山会海 督查检查考核过多过频 "
    "农村道路破损 自来水水质浑浊 路灯长期不亮 垃圾清运不及时 污水直排河道 学校周边交通拥堵 医保报销手续繁琐 "
    "低保评定不公开 村务公开不及时 征地补偿款发放滞后 棚户区改造进度缓慢 小区物业管理混乱 农民工工资拖欠 "
    "扶贫项目资金使用不规范 集体资产管理不规范 便民服务中心 不动产登记 营商环境 执法不规范 乱收费 乱罚款 "
    "占道经营 噪音扰民 供暖温度不达标 燃气管道老化 河道清淤 秸秆焚烧 养老服务 幼儿园入园难 看病难 停车难"
).split()
UNITS = ["县住建局", "县交通运输局", "县水利局", "县教育局", "县卫健委", "县民政局", "县市场监管局"] + [
    f"{name}镇人民政府" for name in "城关 东关 西河 南山 北岭 清水 白马 柳林".split()]
AREAS = ["城关镇", "东关镇", "西河乡", "南山镇", "北岭乡", "清水镇", "开发区", "城东街道"]
STATUSES = ["open", "in_progress", "done", "long_term", "rework"]


def synthetic_issues(count: int, seed: int = 7) -> list[dict]:
    """Plausible issue rows; the same seed gives the same rows."""
    rng = random.Random(seed)
    rows = []
    for number in range(1, count + 1):
        area = rng.choice(AREAS)
        rows.append({
            "issue_id": f"QH-2026-{number:05d}",
            "title": "".join(rng.sample(PHRASES, 2)),
            "description": "，".join(rng.sample(PHRASES, rng.randint(3, 6)))
                           + f"，涉及{area}{rng.randint(1, 30)}个村（社区）。",
            "measures": "建立台账，" + "，".join(rng.sample(PHRASES, 2)) + "，限期整改。",
            "unit": rng.choice(UNITS), "area": area, "status": rng.choice(STATUSES),
            "category": rng.choice(["形式主义", "官僚主义", "民生服务"]), "deadline": "2026-12-31",
        })
    return rows


def campaign_issues(count: int) -> list[dict]:
    """The demo generator's issues: its wording is richer than synthetic_issues'."""
    return [{"issue_id": item.issue_id, "description": item.description, "category": item.category,
             "area": item.area, "unit": item.unit, "channel": item.channel, "measures": item.measures,
             "target": item.target, "status": "done" if item.completed else "in_progress"}
            for item in synth.make_campaign(count, 0).issues]


KNOWN = {"issue_id": "QH-2026-0012", "title": "干部违规收受礼品礼金",
         "description": "群众反映某站所工作人员在办事过程中违规收受礼品礼金。",
         "unit": "县纪委监委", "area": "城关镇", "category": "享乐主义", "status": "in_progress"}


def small_set() -> list[dict]:
    return synthetic_issues(200) + [KNOWN]


def run_node_search(index_dir: Path, queries: list[str]) -> list[dict]:
    """Run search.js in node against a written index: the query code the browser runs."""
    program = """
const fs = require("fs"), path = require("path");
global.window = global;
require(process.argv[1]);
const folder = path.join(process.argv[2], "search");
for (const name of fs.readdirSync(folder).sort()) require(path.join(folder, name));
(async () => {
  const out = [];
  for (const query of JSON.parse(process.argv[3])) {
    const result = await gongshiSearch.search(query);
    out.push({query, numbers: result.numbers, complete: result.complete, terms: result.terms});
  }
  console.log(JSON.stringify(out));
})();
"""
    completed = subprocess.run([NODE, "-e", program, str(SEARCH_JS), str(index_dir), json.dumps(queries)],
                               capture_output=True, text=True, timeout=60, check=True)
    return json.loads(completed.stdout)


def document_ids(index_dir: Path) -> list[str]:
    """Doc number -> issue id, read back from the docs-XX.js files."""
    return [document["issue_id"] for document in search.read_index(index_dir)[2]]


def test_chinese_tokens_include_the_words_of_the_text():
    found = search.tokens("违规收受礼品礼金")
    assert {"违规", "收受", "礼品", "礼金"} <= found


def test_lone_characters_are_pruned_but_every_bigram_is_kept():
    found = search.tokens("我们进行了认真的整改，县的路灯")
    assert not {"了", "的", "我们进行"} & found
    assert {"县", "路灯", "灯", "行了", "整改"} <= found
    # However jieba splits the text, every two adjacent characters are there for a query.
    assert {"路灯", "灯不", "不亮", "夜间", "间路"} <= search.tokens("夜间路灯不亮")


def test_domain_dictionary_finds_names_inside_running_text():
    issues = [{"issue_id": "A-1", "unit": "县市场监督管理局", "area": "城关镇", "category": "菜市场管理"}]
    dictionary = search.domain_dictionary(issues)
    found = search.tokens("东关菜市场管理混乱，城关镇居民反映", dictionary)
    assert {"菜市场管理", "城关镇"} <= found
    assert "菜市场管理" not in search.tokens("东关菜市场管理混乱")


def test_ascii_words_are_lowercased_and_fullwidth_folded():
    assert {"wifi", "12345"} <= search.tokens("ＷｉＦｉ信号差，拨打12345热线")


def test_id_tokens_hold_the_whole_id_and_its_parts():
    assert {"qh-2026-0012", "qh", "2026", "0012"} <= search.id_tokens("QH-2026-0012")


def test_issue_tokens_hold_unit_and_area_names_whole():
    found = search.issue_tokens(KNOWN)
    assert {"县纪委监委", "城关镇", "礼品"} <= found


def test_hash_is_fnv1a_over_utf8():
    assert search.fnv1a("") == 0x811C9DC5
    assert search.fnv1a("a") == 0xE40C292C  # published FNV-1a test vector


def test_default_page_url_is_the_permalink_every_page_uses(tmp_path):
    url = pages.issue_href("QH-2026-0012")
    assert url == f"issues/{safepath.bucket('QH-2026-0012')}/QH-2026-0012.html"
    search.write_index([KNOWN], tmp_path)
    assert search.read_index(tmp_path)[2][0]["url"] == url
    # Own pages cost no entry in meta: the bucket stands in the record, the name is the id's.
    assert search.read_index(tmp_path)[0]["pages"] == []


def test_output_is_deterministic_and_independent_of_row_order(tmp_path):
    rows = small_set()
    first, _ = search.build_index(rows, page_url=pages.issue_href)
    second, _ = search.build_index(list(reversed(rows)), page_url=pages.issue_href)
    assert first == second
    search.write_index(rows, tmp_path / "a")
    search.write_index(rows, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a" / "search").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b" / "search").iterdir())
    for name in names:
        assert (tmp_path / "a" / "search" / name).read_bytes() == (tmp_path / "b" / "search" / name).read_bytes()


def test_rewrite_removes_stale_shards(tmp_path):
    search.write_index(synthetic_issues(3000), tmp_path)
    many = len(list((tmp_path / "search").iterdir()))
    stats = search.write_index(small_set(), tmp_path)
    assert len(list((tmp_path / "search").iterdir())) == stats["files"] < many


def test_documents_carry_the_permalink_given(tmp_path):
    search.write_index(small_set(), tmp_path, page_url=lambda issue_id: f"x/{issue_id[-1]}.html#a{issue_id}")
    _, _, documents = search.read_index(tmp_path)
    assert {"issue_id": "QH-2026-0012", "url": "x/2.html#aQH-2026-0012", "unit": "县纪委监委",
            "status": "in_progress", "snippet": "干部违规收受礼品礼金"} in documents
    search.write_index(small_set(), tmp_path)
    meta, vocabulary, documents = search.read_index(tmp_path)
    assert {d["url"] for d in documents} == {pages.issue_href(i["issue_id"]) for i in small_set()}
    assert meta["pages"] == []
    number = [d["issue_id"] for d in documents].index("QH-2026-0012")
    assert number in vocabulary["礼金"] and number in vocabulary["0012"]


@needs_node
def test_python_and_javascript_hashes_agree():
    samples = ["违规", "礼品", "qh-2026-0012", "0012", "县住建局", "𠀀字", "é", "a", ""]
    program = ("global.window = global; require(process.argv[1]);"
               "console.log(JSON.stringify(JSON.parse(process.argv[2]).map(gongshiSearch.hash)))")
    output = subprocess.run([NODE, "-e", program, str(SEARCH_JS), json.dumps(samples)],
                            capture_output=True, text=True, check=True).stdout
    assert json.loads(output) == [search.fnv1a(s) for s in samples]


@needs_node
def test_javascript_spells_each_issue_page_as_python_names_it():
    ids = ["QH-2026-0012", "问题-7", "a.b_c", "𠀀字1", "Ab-9"]
    program = ("global.window = global; require(process.argv[1]);"
               "var pairs = JSON.parse(process.argv[2]);"
               "console.log(JSON.stringify(pairs.map(function (p) { return gongshiSearch.issuePage(p[0], p[1]); })))")
    pairs = [[safepath.bucket(i), i] for i in ids]
    output = subprocess.run([NODE, "-e", program, str(SEARCH_JS), json.dumps(pairs)],
                            capture_output=True, text=True, check=True).stdout
    assert json.loads(output) == [pages.issue_file(i) for i in ids]


@needs_node
def test_chinese_query_finds_the_issue_without_jieba_in_the_browser(tmp_path):
    search.write_index(small_set(), tmp_path)
    ids = document_ids(tmp_path)
    results = run_node_search(tmp_path, ["违规收受礼品", "收受礼品的", "QH-2026-0012", "qh-2026-0012", "0012",
                                         "县纪委监委", "火星探测"])
    by_query = {r["query"]: r for r in results}
    for query in ("违规收受礼品", "收受礼品的", "QH-2026-0012", "qh-2026-0012", "0012", "县纪委监委"):
        result = by_query[query]
        assert result["complete"] >= 1, query
        assert ids[result["numbers"][0]] == "QH-2026-0012", query
    assert by_query["违规收受礼品"]["terms"] == ["违规收受礼品"] or \
        by_query["违规收受礼品"]["terms"] == ["违规", "规收", "收受", "受礼", "礼品"]
    assert by_query["火星探测"]["complete"] == 0


LAMP = {"issue_id": "QH-2026-0777", "title": "夜间路灯不亮", "description": "新华路一带夜间路灯不亮，群众出行不便",
        "unit": "县城市管理局", "area": "城关镇", "category": "城乡建设", "status": "open"}
MARKET = {"issue_id": "QH-2026-0778", "title": "菜市街占道经营", "description": "市场监管不到位",
          "unit": "县市场监督管理局", "area": "城关镇", "category": "市场监管", "status": "open"}


@needs_node
def test_opinion_ids_find_the_issue_they_were_gathered_into(tmp_path):
    search.write_index(small_set(), tmp_path, opinions={"QH-2026-0012": ["YJ-2026-00042"]})
    ids = document_ids(tmp_path)
    result, = run_node_search(tmp_path, ["yj-2026-00042"])
    assert result["complete"] == 1 and ids[result["numbers"][0]] == "QH-2026-0012"


@needs_node
def test_every_complete_hit_holds_the_query(tmp_path):
    """The queries the demo missed: each full match contains the query, and the lamp issue,
    whose words jieba splits otherwise, is found by any part of them."""
    rows = synthetic_issues(300) + [LAMP, MARKET]
    search.write_index(rows, tmp_path)
    ids = document_ids(tmp_path)
    texts = {r["issue_id"]: search.normalise(" ".join(str(r.get(f) or "") for f in (
        *search.TEXT_FIELDS, *search.NAME_FIELDS))) + " " + search.normalise(r["issue_id"])
             for r in rows}
    queries = ["路灯", "灯", "不亮", "路灯不亮", "菜市场", "市场监管", "城市管理", "qh-2026-0777"]
    for result in run_node_search(tmp_path, queries):
        hits = [ids[n] for n in result["numbers"][: result["complete"]]]
        assert all(result["query"] in texts[hit] for hit in hits), (result["query"], hits)
        if result["query"] != "菜市场":
            assert "QH-2026-0777" in hits or result["query"] in ("市场监管",), result
    market = next(r for r in run_node_search(tmp_path, ["菜市场"]))
    assert market["complete"] == 0  # 菜市 and 市场, apart, are no 菜市场


@needs_node
def test_words_that_are_javascript_object_keys_are_found(tmp_path):
    # search.js keeps words in maps; a plain {} already answers to constructor, toString ...
    words = ["constructor", "tostring", "valueof", "hasownproperty", "proto"]
    rows = [dict(KNOWN, issue_id=f"JS-{n}", title=f"{word} 问题", description="")
            for n, word in enumerate(words)]
    search.write_index(synthetic_issues(50) + rows, tmp_path)
    ids = document_ids(tmp_path)
    results = run_node_search(tmp_path, [*words, "isprototypeof", "__proto__"])
    for word, result in zip(words, results):
        assert result["complete"] == 1 and ids[result["numbers"][0]] == f"JS-{words.index(word)}", result
    # Not in any issue: no result, and no error from an inherited property.
    assert results[len(words)]["numbers"] == [] and results[len(words)]["complete"] == 0
    assert [ids[n] for n in results[-1]["numbers"][:results[-1]["complete"]]] == ["JS-4"]


@needs_node
def test_hostile_text_stays_data(tmp_path):
    row = dict(KNOWN, issue_id="X-1", title='</script><img src=x onerror=alert(1)>\u2028"\\')
    search.write_index([row], tmp_path)
    for path in (tmp_path / "search").glob("*.js"):
        subprocess.run([NODE, "--check", str(path)], check=True)
        assert "\u2028" not in path.read_text(encoding="utf-8")
    assert search.read_index(tmp_path)[2][0]["snippet"] == '</script><img src=x onerror=alert(1)> "\\'


@pytest.fixture(scope="module")
def index_10k(tmp_path_factory):
    folder = tmp_path_factory.mktemp("index10k")
    # With the opinions too, 1.43 an issue as in the report the goal comes from.
    campaign = synth.make_campaign(10_000, 14_340, seed=1)
    opinions: dict[str, list[str]] = {}
    for opinion in campaign.feedback:
        opinions.setdefault(opinion.issue_id, []).append(opinion.feedback_id)
    return folder, search.write_index(campaign_issues(10_000), folder, opinions=opinions)


@pytest.mark.slow
def test_ten_thousand_issues_index_within_one_megabyte_gzipped(index_10k):
    _, stats = index_10k
    print(f"\n10k issues: {stats}")
    assert stats["documents"] == 10_000
    assert stats["gzipped_bytes"] <= 1_000_000


@pytest.mark.slow
def test_shard_files_stay_small(index_10k):
    folder, stats = index_10k
    sizes = {p.name: p.stat().st_size for p in (folder / "search").iterdir()}
    assert len(sizes) == stats["files"]
    assert max(sizes.values()) <= 64 * 1024, max(sizes.items(), key=lambda item: item[1])
    assert stats["shards"] >= 10


def test_status_words_follow_the_language(tmp_path):
    search.write_index(small_set(), tmp_path / "zh")
    search.write_index(small_set(), tmp_path / "en", language="en")
    assert search.read_index(tmp_path / "zh")[0]["statuses"]["done"] == "已完成"
    assert search.read_index(tmp_path / "en")[0]["statuses"]["done"] == "Completed"


def test_english_search_page_gives_every_word_the_script_shows():
    script = SEARCH_JS.read_text(encoding="utf-8")
    block = re.search(r"var WORDS = \{(.*?)\};", script, re.S).group(1)
    keys = re.findall(r"^\s*(\w+):", block, re.M)
    page = (ROOT / "content" / "en" / "search.md").read_text(encoding="utf-8")
    given = {re.sub(r"-(\w)", lambda m: m.group(1).upper(), name)
             for name in re.findall(r'\sdata-([a-z-]+)="', page)}
    assert keys and set(keys) == given
    assert not re.search(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]", page)

"""Chinese full-text search index for the static site: jieba tokens, hash-sharded into small JS files."""

from __future__ import annotations

import gzip
import json
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from etl.site import pages
from etl.site import words

# Folder under the docs/site root that holds the index; search.js looks for it next to assets/.
INDEX_FOLDER = "search"
# A shard file aims at this many bytes: small enough for a phone on a slow link, large
# enough that a 10k-issue site stays at a few dozen files.
TARGET_SHARD_BYTES = 24 * 1024
# Document records are fetched only for the results shown, up to one file per result: smaller.
TARGET_DOCS_BYTES = 12 * 1024
MAX_SHARDS = 4096
# The browser segments queries without jieba, by looking up every substring of length 1..4;
# longer Chinese tokens could never be matched, so they are not stored (names excepted).
MAX_CJK_TOKEN = 4
MAX_NAME_TOKEN = 16
MAX_ASCII_TOKEN = 32
# A token in more than this share of the issues (and at least COMMON_MINIMUM of them) selects
# nothing useful; it is kept as "common" (posting 0) so the browser can still segment with it.
COMMON_SHARE = 0.2
COMMON_MINIMUM = 300
SNIPPET_LENGTH = 40
# A document's link fragment is stored as 0 when it is this prefix + the id (safepath.anchor of
# a plain ASCII id), which holds for nearly every id and saves repeating it.
DEFAULT_FRAGMENT_PREFIX = "issue-"
FORMAT_VERSION = 2  # 2: bigrams, and own pages named by bucket

# Measures and targets are left out: mostly stock phrases (一是…二是…) that would add a third
# to the index while rarely being what a reader looks for.
TEXT_FIELDS = ("title", "description")
NAME_FIELDS = ("unit", "area", "category", "channel")

# Function words and filler that occur in nearly every item of a rectification list.
STOP_WORDS = frozenset("""
    我们 你们 他们 进行 存在 以及 一些 没有 一个 相关 有关 对于 关于 通过 按照 根据 等等 其中
    这个 那个 这些 那些 并且 而且 但是 因为 所以 如果 已经 还是 或者 以上 以下 之后 之前 方面
    情况 有效 加强 进一步 切实 认真 及时 落实 全面 不断 持续
""".split())
# Single characters people do search for on their own (places, utilities, public services).
MEANINGFUL_SINGLE = frozenset("县 镇 乡 村 街 路 桥 河 水 电 气 暖 房 车 税 费 粮 林 田 医 药 学 校 厕 煤 油 灯 网 证 照 地 山 湖 桶 井".split())

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_ASCII_RUN = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
_ASCII_PART = re.compile(r"[a-z0-9]+")

_jieba = None


def segmenter():
    """jieba, initialised once and quietly; its dictionary cache goes to the temp folder.

    The one place jieba is loaded: name redaction (etl/privacy/names.py) uses it too."""
    global _jieba
    if _jieba is None:
        import jieba
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba


def normalise(text: str) -> str:
    """Fullwidth to halfwidth and lower case, the same as search.js does to a query."""
    return unicodedata.normalize("NFKC", text).lower()


def fnv1a(token: str) -> int:
    """32-bit FNV-1a over the UTF-8 bytes; search.js has the same function, tested to agree."""
    value = 0x811C9DC5
    for byte in token.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _ascii_tokens(text: str) -> Iterable[str]:
    for match in _ASCII_RUN.finditer(text):
        run = match.group()
        if len(run) <= MAX_ASCII_TOKEN and len(run) >= 2:
            yield run
        for part in _ASCII_PART.findall(run):
            if 2 <= len(part) <= MAX_ASCII_TOKEN or part.isdigit():
                yield part


def _keep_cjk(token: str) -> bool:
    if len(token) == 1:
        return token in MEANINGFUL_SINGLE
    return len(token) <= MAX_CJK_TOKEN and token not in STOP_WORDS


def bigrams(run: str) -> set[str]:
    """Every two adjacent characters of a Chinese run. jieba may split a text differently from
    a query (路灯不亮 as 路灯/不亮 or 灯不/不亮), so the browser matches a query of two or more
    characters by its bigrams: an issue holding all of them holds the query, bar the rare
    text with each bigram somewhere else."""
    return {run[i:i + 2] for i in range(len(run) - 1)}


def tokens(text: str, dictionary: re.Pattern | None = None) -> set[str]:
    """Search tokens of free text: for each Chinese run its jieba words, its bigrams, the
    single characters people search for alone (MEANINGFUL_SINGLE) and every dictionary word
    (unit, area and category names) inside it; and the ASCII words."""
    if not text:
        return set()
    text = normalise(text)
    found = set(_ascii_tokens(text))
    jieba = segmenter()
    for run in _CJK_RUN.findall(text):
        found.update(word for word in jieba.cut_for_search(run) if _keep_cjk(word))
        found.update(bigrams(run))
        found.update(character for character in run if character in MEANINGFUL_SINGLE)
        if dictionary is not None:
            found.update(match.group(1) for match in dictionary.finditer(run))
    return found


def domain_dictionary(issues: list[dict]) -> re.Pattern | None:
    """The campaign's own words: its unit, area and category names (and their jieba words of
    three or more characters), found anywhere in a text, overlapping ones too."""
    names = set()
    for issue in issues:
        for field in ("unit", "area", "category"):
            if issue.get(field):
                name = normalise(str(issue[field])).strip()
                if _CJK_RUN.fullmatch(name) and 2 <= len(name) <= MAX_NAME_TOKEN:
                    names.add(name)
                    names.update(word for word in segmenter().cut(name)
                                 if len(word) >= 3 and _CJK_RUN.fullmatch(word))
    if not names:
        return None
    ordered = sorted(names, key=lambda name: (-len(name), name))
    return re.compile("(?=(" + "|".join(map(re.escape, ordered)) + "))")


def id_tokens(issue_id: str) -> set[str]:
    """The id itself and its parts, so 'QH-2026-0012', 'qh-2026-0012' and '0012' all find it."""
    folded = normalise(issue_id)
    found = {folded} | tokens(issue_id)
    found.update(part for part in re.split(r"[-_.]", folded) if part)
    return found


def name_tokens(name: str) -> set[str]:
    """A unit or area name whole (the browser also looks up a whole query) and its words."""
    folded = normalise(name).strip()
    found = tokens(name)
    if 2 <= len(folded) <= MAX_NAME_TOKEN:
        found.add(folded)
    return found


def issue_tokens(issue: dict, dictionary: re.Pattern | None = None) -> set[str]:
    found = id_tokens(str(issue["issue_id"]))
    for field in TEXT_FIELDS:
        if issue.get(field):
            found |= tokens(str(issue[field]), dictionary)
    for field in NAME_FIELDS:
        if issue.get(field):
            found |= name_tokens(str(issue[field]))
    return found


def _own_page_bucket(issue_id: str, page: str, fragment: str) -> str | None:
    """The bucket when `page` is the issue's own page as pages.issue_file names it, else None."""
    if fragment or page != pages.issue_file(issue_id):
        return None
    return page.split("/")[1]


def searched_text(issue: dict) -> str:
    """The issue's title and description, each on one line: search.js shows the start of the
    first that is there as the result's snippet, and checks a query of three or more
    characters, matched by its bigrams, against the whole (normalised), so each reported hit
    holds the query itself. Its unit, area and category names are in meta, by number."""
    return "\n".join(" ".join(str(issue.get(field) or "").split()) for field in TEXT_FIELDS)


def _snippet(issue: dict) -> str:
    text = " ".join(str(issue.get("title") or issue.get("description") or "").split())
    return text if len(text) <= SNIPPET_LENGTH else text[: SNIPPET_LENGTH - 1] + "…"


def example_query(entries: dict, postings: dict[str, list[int]]) -> str:
    """The search box's example: a Chinese word of two to four characters that finds the most
    issues without being too common to select any, so the example always finds something."""
    usable = [(len(postings[token]), token) for token, value in entries.items()
              if value != 0 and 2 <= len(token) <= MAX_CJK_TOKEN and _CJK_RUN.fullmatch(token)]
    return max(usable, key=lambda pair: (pair[0], len(pair[1]), pair[1]))[1] if usable else ""


def _dumps(value) -> str:
    # U+2028/2029 are line breaks to pre-2019 JavaScript parsers; escaped they are harmless.
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _script(kind: str, key: str, data) -> bytes:
    return f'gongshiSearch.add("{kind}","{key}",{_dumps(data)});\n'.encode("utf-8")


def _deltas(numbers: list[int]) -> list[int]:
    # Gaps between sorted doc numbers are short numbers, which keeps shards small.
    return [numbers[0]] + [b - a for a, b in zip(numbers, numbers[1:])]


def _shard_name(index: int, width: int) -> str:
    return f"{index:0{width}x}"


def _gzipped_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def build_index(issues: list[dict], *, page_url: Callable[[str], str],
                language: str = "zh", opinions: dict[str, list[str]] | None = None
                ) -> tuple[dict[str, bytes], dict]:
    """Every index file as {relative path: bytes}, and the index's shape; pure and deterministic.

    `opinions` maps an issue id to the ids of the opinions (意见) gathered into it: a reader
    holding an opinion's receipt number finds the issue it became. Only whole ids are kept,
    which search.js looks up as they are (its parts, shared by thousands, would cost room).
    """
    opinions = opinions or {}
    ordered = sorted(issues, key=lambda issue: str(issue["issue_id"]))
    units: list[str] = sorted({str(i["unit"]) for i in ordered if i.get("unit")})
    unit_number = {name: n for n, name in enumerate(units)}
    named = {field: sorted({str(i[field]) for i in ordered if i.get(field)})
             for field in ("area", "category")}
    name_number = {field: {name: n for n, name in enumerate(names)} for field, names in named.items()}
    dictionary = domain_dictionary(ordered)
    postings: dict[str, list[int]] = {}
    links = [(str(i["issue_id"]),) + tuple(page_url(str(i["issue_id"])).partition("#")[::2])
             for i in ordered]
    # An issue on its own page (pages.issue_file) is stored as its bucket alone: search.js
    # spells the rest from the id, as safepath.anchor does. Any other page is named once in
    # meta, then by number.
    pages = sorted({page for issue_id, page, fragment in links
                    if _own_page_bucket(issue_id, page, fragment) is None})
    page_number = {page: n for n, page in enumerate(pages)}
    documents = []
    for number, (issue, (issue_id, page, fragment)) in enumerate(zip(ordered, links)):
        for token in issue_tokens(issue, dictionary) | {
                normalise(str(o)) for o in opinions.get(issue_id, ())}:
            postings.setdefault(token, []).append(number)
        bucket = _own_page_bucket(issue_id, page, fragment)
        # [1] was the snippet; search.js now takes it from the text ([6]), which holds it.
        documents.append([issue_id, 0, unit_number.get(str(issue.get("unit") or ""), -1),
                          str(issue.get("status") or ""),
                          bucket if bucket is not None else page_number[page],
                          0 if bucket is not None or fragment == DEFAULT_FRAGMENT_PREFIX + issue_id
                          else fragment, searched_text(issue)]
                         + [name_number[field].get(str(issue.get(field) or ""), -1)
                            for field in ("area", "category")])

    common_above = max(COMMON_MINIMUM, math.ceil(COMMON_SHARE * len(ordered)))
    entries = {token: (0 if len(numbers) > common_above else _deltas(numbers))
               for token, numbers in postings.items()}
    estimated = sum(len(_dumps(token)) + len(_dumps(value)) + 2 for token, value in entries.items())
    shard_count = max(1, min(MAX_SHARDS, math.ceil(estimated / TARGET_SHARD_BYTES)))
    width = max(2, len(f"{shard_count - 1:x}"))
    shards: list[dict] = [{} for _ in range(shard_count)]
    for token, value in entries.items():
        shards[fnv1a(token) % shard_count][token] = value

    document_bytes = sum(len(_dumps(d)) + 1 for d in documents)
    per_shard = max(1, math.floor(len(documents) / max(1, math.ceil(document_bytes / TARGET_DOCS_BYTES))))
    document_shards = [documents[start:start + per_shard]
                       for start in range(0, len(documents), per_shard)] or [[]]

    files = {f"{INDEX_FOLDER}/shard-{_shard_name(n, width)}.js": _script("t", _shard_name(n, width), s)
             for n, s in enumerate(shards)}
    files.update({f"{INDEX_FOLDER}/docs-{_shard_name(n, width)}.js": _script("d", _shard_name(n, width), d)
                  for n, d in enumerate(document_shards)})
    meta = {"version": FORMAT_VERSION, "documents": len(documents), "shards": shard_count,
            "example": example_query(entries, postings), "example_id": links[0][0] if links else "",
            "documents_per_shard": per_shard, "width": width, "units": units, "areas": named["area"],
            "categories": named["category"], "pages": pages,
            "fragment_prefix": DEFAULT_FRAGMENT_PREFIX,
            "statuses": words.status_labels(language), "max_token": MAX_CJK_TOKEN,
            "max_name": MAX_NAME_TOKEN}
    files[f"{INDEX_FOLDER}/meta.js"] = _script("m", "meta", meta)
    shape = {"shards": shard_count, "document_shards": len(document_shards),
             "tokens": len(entries), "common_tokens": sum(1 for v in entries.values() if v == 0),
             "documents": len(documents)}
    return dict(sorted(files.items())), shape


def write_index(issues: list[dict], out_dir: Path, *,
                page_url: Callable[[str], str] = pages.issue_href, language: str = "zh",
                opinions: dict[str, list[str]] | None = None) -> dict:
    """Write out_dir/search/{meta,shard-XX,docs-XX}.js; return sizes for logs and budgets.

    page_url gives an issue's permalink relative to the site root; the default is the one
    every page links to (pages.issue_href), so results land where the pages' links land.

    Any earlier index in out_dir/search is removed first, so a smaller site leaves no stale shard.
    """
    files, shape = build_index(issues, page_url=page_url, language=language, opinions=opinions)
    folder = Path(out_dir) / INDEX_FOLDER
    if folder.exists():
        for stale in folder.glob("*.js"):
            stale.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    for relative, data in files.items():
        (Path(out_dir) / relative).write_bytes(data)
    largest = max(files.items(), key=lambda item: len(item[1]))
    return {**shape, "files": len(files), "bytes": sum(len(d) for d in files.values()),
            "gzipped_bytes": sum(_gzipped_size(d) for d in files.values()),
            "largest_file": largest[0], "largest_bytes": len(largest[1])}


def _payload(data: bytes):
    text = data.decode("utf-8")
    return json.loads(text[text.index(",", text.index(",") + 1) + 1: text.rindex(")")])


def read_index(folder: Path) -> tuple[dict, dict, list[dict]]:
    """(meta, token -> doc numbers or 0, documents with their urls) from a written index folder.

    The inverse of build_index, for tests, audits and anyone checking what the index holds.
    """
    folder = Path(folder) / INDEX_FOLDER
    meta = _payload((folder / "meta.js").read_bytes())
    vocabulary = {}
    for path in sorted(folder.glob("shard-*.js")):
        for token, gaps in _payload(path.read_bytes()).items():
            numbers, total = [], 0
            for gap in gaps or []:
                total += gap
                numbers.append(total)
            vocabulary[token] = numbers or 0
    documents = []
    for path in sorted(folder.glob("docs-*.js")):
        for issue_id, _, unit, status, page, fragment, text, *_ in _payload(path.read_bytes()):
            snippet = _snippet(dict(zip(TEXT_FIELDS, text.split("\n"))))
            if isinstance(page, str):  # the issue's own page, by its bucket
                url = pages.issue_file(issue_id)
            else:
                fragment = meta["fragment_prefix"] + issue_id if fragment == 0 else fragment
                url = meta["pages"][page] + ("#" + fragment if fragment else "")
            documents.append({"issue_id": issue_id, "snippet": snippet, "status": status,
                              "unit": meta["units"][unit] if unit >= 0 else None, "url": url})
    return meta, vocabulary, documents


def main(argv: list[str] | None = None) -> int:
    """`python -m etl.site.search build/tables/issues.csv [OUT]`: index a canonical table, print sizes."""
    import argparse
    import tempfile

    from etl.ledger import tables

    parser = argparse.ArgumentParser(prog="python -m etl.site.search", description=main.__doc__)
    parser.add_argument("issues_csv", type=Path)
    parser.add_argument("out", type=Path, nargs="?", help="folder for search/ (default: a temp folder)")
    args = parser.parse_args(argv)
    frame = tables.read_table(args.issues_csv, "issues")
    issues = [{key: value for key, value in row.items() if isinstance(value, str) and value}
              for row in frame.to_dict("records")]
    with tempfile.TemporaryDirectory() as scratch:
        stats = write_index(issues, args.out or Path(scratch))
    print(json.dumps(stats, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

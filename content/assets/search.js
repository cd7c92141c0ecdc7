/* Gongshi search: finds issues in the sharded index etl/search.py writes; no dependencies.
 *
 * The index files are scripts (search/*.js) added as <script> tags, because fetch() of a
 * local file is refused when the site is opened from file://. The site root is taken from
 * this script's own address, so the site works under any sub-path as well.
 */
(function () {
  "use strict";
  var api = (window.gongshiSearch = window.gongshiSearch || {});
  var script = typeof document !== "undefined" ? document.currentScript : null;
  var root = script && script.src ? script.src.replace(/assets\/search\.js(?:[?#].*)?$/, "") : "";
  var PAGE = 20;
  var SNIPPET = 40;  /* characters: etl.site.search.SNIPPET_LENGTH */
  var MAX_RESULTS = 500;
  var CJK_RUN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+/g;
  var ASCII_RUN = /[a-z0-9]+(?:[-_.][a-z0-9]+)*/g;
  var FILES = { m: "meta", t: "shard-", d: "docs-" };
  /* The Chinese words; a page in another language gives its own as data-* attributes of the
   * #gongshi-search element (data-too-common for tooCommon), and {n} stands for the count. */
  var WORDS = {
    label: "搜索问题（编号、单位、区域或关键词）",
    /* {query} and {id} come from the index (meta.js): a word that finds issues, and an id. */
    placeholder: "例如：{query} 或 {id}",
    more: "显示更多",
    tooCommon: "这些词太常见，请输入更具体的词语或问题编号。",
    none: "没有找到相关问题。",
    partial: "没有完全匹配的问题，以下问题包含部分词语。",
    found: "找到 {n} 个相关问题。",
    foundWithPartial: "找到 {n} 个相关问题，另有部分匹配的问题列在后面。",
    searching: "正在搜索…",
    failed: "搜索索引加载失败，请刷新页面重试。"
  };
  /* Maps keyed by index words have no prototype: a plain {} already "holds" constructor,
   * toString and the rest, so those words could never be searched for. */
  function map() { return Object.create(null); }
  var own = Object.prototype.hasOwnProperty;
  var store = map();
  var pending = map();

  /* Calls mix(byte) for each UTF-8 byte of text. */
  function utf8(text, mix) {
    for (var i = 0; i < text.length; i++) {
      var code = text.codePointAt(i);
      if (code > 0xffff) i++;
      if (code < 0x80) mix(code);
      else if (code < 0x800) { mix(0xc0 | (code >> 6)); mix(0x80 | (code & 63)); }
      else if (code < 0x10000) {
        mix(0xe0 | (code >> 12)); mix(0x80 | ((code >> 6) & 63)); mix(0x80 | (code & 63));
      } else {
        mix(0xf0 | (code >> 18)); mix(0x80 | ((code >> 12) & 63));
        mix(0x80 | ((code >> 6) & 63)); mix(0x80 | (code & 63));
      }
    }
  }

  /* 32-bit FNV-1a over UTF-8 bytes: must equal etl.search.fnv1a (tests/test_search.py checks). */
  function fnv1a(text) {
    var hash = 0x811c9dc5;
    utf8(text, function (byte) { hash = Math.imul(hash ^ byte, 0x01000193) >>> 0; });
    return hash >>> 0;
  }
  api.hash = fnv1a;

  /* An issue's own page, issues/<bucket>/<name>.html: the name as etl.privacy.safepath.anchor
   * spells the id (A-Z a-z 0-9 - kept, every other UTF-8 byte as _hh). */
  function issuePage(bucket, id) {
    var name = "";
    for (var i = 0; i < id.length; i++) {
      var character = id[i], code = id.codePointAt(i);
      if (code > 0xffff) { character = id.substr(i, 2); i++; }
      if (/^[A-Za-z0-9-]$/.test(character)) { name += character; continue; }
      utf8(character, function (byte) { name += "_" + (byte < 16 ? "0" : "") + byte.toString(16); });
    }
    return "issues/" + bucket + "/" + name + ".html";
  }
  api.issuePage = issuePage;

  /* Called by every index file as it runs. */
  api.add = function (kind, key, data) {
    var name = kind + ":" + key;
    store[name] = data;
    (pending[name] || []).forEach(function (callbacks) { callbacks[0](data); });
    delete pending[name];
  };

  function load(kind, key) {
    var name = kind + ":" + key;
    if (name in store) return Promise.resolve(store[name]);
    return new Promise(function (resolve, reject) {
      if (pending[name]) { pending[name].push([resolve, reject]); return; }
      pending[name] = [[resolve, reject]];
      var tag = document.createElement("script");
      tag.src = root + "search/" + FILES[kind] + (kind === "m" ? "" : key) + ".js";
      tag.onerror = function () {
        (pending[name] || []).forEach(function (callbacks) { callbacks[1](new Error(tag.src)); });
        delete pending[name];
      };
      document.head.appendChild(tag);
    });
  }

  function shardKey(meta, number) {
    var text = number.toString(16);
    while (text.length < meta.width) text = "0" + text;
    return text;
  }

  function tokenShard(meta, token) { return shardKey(meta, fnv1a(token) % meta.shards); }

  /* Every string the index might hold for this query: substrings of Chinese runs, ASCII words. */
  function candidates(meta, query) {
    var found = map();
    (query.match(CJK_RUN) || []).forEach(function (run) {
      for (var start = 0; start < run.length; start++)
        for (var length = 1; length <= meta.max_token && start + length <= run.length; length++)
          found[run.substr(start, length)] = true;
      if (run.length <= meta.max_name) found[run] = true;
    });
    (query.match(ASCII_RUN) || []).forEach(function (run) {
      found[run] = true;
      run.split(/[-_.]/).forEach(function (part) { if (part) found[part] = true; });
    });
    return Object.keys(found);
  }

  /* The query's terms: a Chinese run the index holds whole (a word or a name) is one term;
   * a longer one is its bigrams, each required (the index holds every bigram of the text, so
   * an issue with them all holds the run); a bigram the index lacks is null, a gap no issue
   * fills. A lone character is a term only if the index keeps it (MEANINGFUL_SINGLE). */
  function segment(meta, query, vocabulary) {
    var terms = [];
    /* Runs of three or more characters matched by their bigrams: each hit is checked to hold them. */
    terms.pieces = [];
    (query.match(CJK_RUN) || []).forEach(function (run) {
      if (vocabulary[run] !== undefined) { terms.push(run); return; }
      if (run.length === 1) { terms.push(null); return; }
      var absent = [];
      for (var i = 0; i + 1 < run.length; i++) absent.push(vocabulary[run.substr(i, 2)] === undefined);
      /* A character cut off by missing bigrams on both sides (or at an end) is usually a
       * particle the text does not have next to the words (的, 了): it is left out. Any other
       * missing bigram joins two words no issue has side by side: a gap. */
      function isolated(at) { return (at === 0 || absent[at - 1]) && (at === run.length - 1 || absent[at]); }
      var piece = "";
      for (var start = 0; start < absent.length; start++) {
        if (!absent[start]) {
          terms.push(run.substr(start, 2));
          piece = piece ? piece + run[start + 1] : run.substr(start, 2);
        } else {
          if (!isolated(start) && !isolated(start + 1)) terms.push(null);
          if (piece.length > 2) terms.pieces.push(piece);
          piece = "";
        }
      }
      if (piece.length > 2) terms.pieces.push(piece);
      for (var at = 0; at < run.length; at++)
        if (isolated(at) && vocabulary[run[at]] !== undefined) terms.push(run[at]);
    });
    (query.match(ASCII_RUN) || []).forEach(function (run) {
      if (vocabulary[run] !== undefined) { terms.push(run); return; }
      run.split(/[-_.]/).forEach(function (part) {
        if (part) terms.push(vocabulary[part] !== undefined ? part : null);
      });
    });
    return terms;
  }

  function undelta(gaps) {
    var numbers = [], value = 0;
    for (var i = 0; i < gaps.length; i++) { value += gaps[i]; numbers.push(value); }
    return numbers;
  }

  /* Issues holding every query word first, then those holding most of them; rarer words weigh more. */
  function rank(meta, terms, vocabulary) {
    var scores = map(), counts = map(), wanted = 0, unique = map();
    terms.forEach(function (term) {
      if (term === null) { wanted++; return; }
      if (unique[term]) return;
      unique[term] = true;
      var entry = vocabulary[term];
      if (entry === 0) return;
      wanted++;
      var numbers = undelta(entry);
      var weight = Math.log(1 + meta.documents / numbers.length) * Math.min(term.length, 4);
      numbers.forEach(function (number) {
        scores[number] = (scores[number] || 0) + weight;
        counts[number] = (counts[number] || 0) + 1;
      });
    });
    var numbers = Object.keys(scores).map(Number);
    numbers.sort(function (a, b) {
      return (counts[b] - counts[a]) || (scores[b] - scores[a]) || (a - b);
    });
    var complete = numbers.filter(function (n) { return counts[n] === wanted; }).length;
    return { numbers: numbers.slice(0, MAX_RESULTS), complete: complete, wanted: wanted };
  }

  function search(query) {
    query = query.normalize("NFKC").toLowerCase().trim();
    return load("m", "meta").then(function (meta) {
      var words = candidates(meta, query);
      var shards = map();
      words.forEach(function (word) { shards[tokenShard(meta, word)] = true; });
      return Promise.all(Object.keys(shards).map(function (key) { return load("t", key); }))
        .then(function () {
          var vocabulary = map();
          words.forEach(function (word) {
            /* A shard is parsed JSON, a plain object: only its own keys are index words. */
            var shard = store["t:" + tokenShard(meta, word)];
            if (own.call(shard, word)) vocabulary[word] = shard[word];
          });
          var terms = segment(meta, query, vocabulary);
          var result = rank(meta, terms, vocabulary);
          result.meta = meta;
          result.terms = terms.slice();
          if (!terms.pieces.length || !result.complete) return result;
          return confirm(meta, result, terms.pieces);
        });
    });
  }
  api.search = search;

  /* Full matches found by bigrams whose text lacks a piece (菜市 and 市场 apart are no 菜市场)
   * move down among the partial ones, so the count and the first results hold the query. */
  function confirm(meta, result, pieces) {
    var full = result.numbers.slice(0, result.complete);
    return documents(meta, full).then(function (records) {
      var holding = [], lacking = [];
      full.forEach(function (number, index) {
        var record = records[index];
        var text = [(record[6] || "").replace(/\s+/g, " "), meta.units[record[2]], meta.areas[record[7]],
                    meta.categories[record[8]]].join(" ").normalize("NFKC").toLowerCase();
        (pieces.every(function (piece) { return text.indexOf(piece) >= 0; }) ? holding : lacking).push(number);
      });
      result.numbers = holding.concat(lacking, result.numbers.slice(result.complete));
      result.complete = holding.length;
      return result;
    });
  }

  function documents(meta, numbers) {
    var keys = map();
    numbers.forEach(function (n) { keys[shardKey(meta, Math.floor(n / meta.documents_per_shard))] = true; });
    return Promise.all(Object.keys(keys).map(function (key) { return load("d", key); })).then(function () {
      return numbers.map(function (n) {
        var shard = store["d:" + shardKey(meta, Math.floor(n / meta.documents_per_shard))];
        return shard[n % meta.documents_per_shard];
      });
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* The start of the title, or of the description when there is no title: as search.py's _snippet. */
  function snippet(text) {
    var lines = text.split("\n"), first = lines[0] || lines[1] || "";
    return first.length <= SNIPPET ? first : first.slice(0, SNIPPET - 1) + "\u2026";
  }

  function resultItem(meta, record) {
    /* record: [issue_id, 0, unit number, status, bucket of its own page or page number,
     * fragment or 0 for the usual, title "\n" description, area number, category number] */
    var item = element("li", "gs-search-result");
    var link = element("a", null, record[0]);
    if (typeof record[4] === "string") {
      link.setAttribute("href", root + issuePage(record[4], record[0]));
    } else {
      var fragment = record[5] === 0 ? meta.fragment_prefix + record[0] : record[5];
      link.setAttribute("href", root + meta.pages[record[4]] + (fragment ? "#" + fragment : ""));
    }
    item.appendChild(link);
    item.appendChild(element("span", "gs-search-snippet", " " + snippet(record[6] || "")));
    var details = [record[2] >= 0 ? meta.units[record[2]] : "", meta.statuses[record[3]] || record[3]];
    var line = element("div", "gs-search-meta", details.filter(Boolean).join(" · "));
    line.style.fontSize = "0.85em";
    line.style.color = "var(--md-default-fg-color--light)";
    item.appendChild(line);
    return item;
  }

  function pageWords(container) {
    var words = {};
    Object.keys(WORDS).forEach(function (key) {
      var own = container.dataset ? container.dataset[key] : undefined;
      words[key] = typeof own === "string" ? own : WORDS[key];
    });
    return words;
  }

  function start(container) {
    var words = pageWords(container);
    var form = element("form", "gs-search-form");
    form.setAttribute("role", "search");
    var label = element("label", null, words.label);
    var input = element("input", "gs-search-input md-input");
    input.type = "search";
    input.id = "gs-search-input";
    input.name = "q";
    input.autocomplete = "off";
    load("m", "meta").then(function (meta) {
      if (meta.example && meta.example_id)
        input.placeholder = words.placeholder.replace("{query}", meta.example).replace("{id}", meta.example_id);
    }, function () { /* the search itself reports a missing index */ });
    label.setAttribute("for", input.id);
    var status = element("p", "gs-search-status");
    status.setAttribute("aria-live", "polite");
    var list = element("ol", "gs-search-results");
    var more = element("button", "md-button gs-search-more", words.more);
    more.type = "button";
    /* Theme buttons set display, which beats the hidden attribute; so hide by style. */
    function showButton(visible) { more.style.display = visible ? "" : "none"; }
    showButton(false);
    input.style.width = "100%";
    input.style.boxSizing = "border-box";
    form.appendChild(label);
    form.appendChild(input);
    container.textContent = "";
    container.setAttribute("data-state", "ready");
    [form, status, list, more].forEach(function (node) { container.appendChild(node); });

    var generation = 0, current = null, shown = 0, busy = false;

    /* data-state lets a page (and the browser tests) tell a finished search from one under way. */
    function showMore(event, firstPage) {
      if (busy || !current) return Promise.resolve();
      var mine = generation, slice = current.numbers.slice(shown, shown + PAGE);
      busy = true;
      container.setAttribute("data-state", "searching");
      return documents(current.meta, slice).then(function (records) {
        busy = false;
        if (mine !== generation) return;
        records.forEach(function (record) { list.appendChild(resultItem(current.meta, record)); });
        shown += slice.length;
        showButton(shown < current.numbers.length);
        if (!firstPage) container.setAttribute("data-state", "done");
      }, function (error) { busy = false; throw error; });
    }

    function message(result) {
      if (result.wanted === 0 && result.terms.length) return words.tooCommon;
      if (!result.numbers.length) return words.none;
      if (!result.complete) return words.partial;
      var found = result.numbers.length > result.complete ? words.foundWithPartial : words.found;
      return found.replace("{n}", String(result.complete));
    }

    function run() {
      var query = input.value, mine = ++generation;
      list.textContent = "";
      showButton(false);
      current = null;
      shown = 0;
      busy = false;
      if (!query.trim()) { status.textContent = ""; container.setAttribute("data-state", "ready"); return; }
      status.textContent = words.searching;
      container.setAttribute("data-state", "searching");
      search(query).then(function (result) {
        if (mine !== generation) return;
        current = result;
        return showMore(null, true).then(function () {
          if (mine !== generation) return;
          status.textContent = message(result);
          container.setAttribute("data-state", "done");
        });
      }).catch(function () {
        if (mine !== generation) return;
        status.textContent = words.failed;
        container.setAttribute("data-state", "failed");
      });
    }

    var timer = null;
    input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 200); });
    form.addEventListener("submit", function (event) { event.preventDefault(); clearTimeout(timer); run(); });
    more.addEventListener("click", showMore);
    var initial = /[?&]q=([^&#]*)/.exec(location.search);
    if (initial) {
      try { input.value = decodeURIComponent(initial[1].replace(/\+/g, " ")); } catch (error) { /* bad escape: ignore */ }
      run();
    }
  }

  if (typeof document !== "undefined") {
    var ready = function () {
      var container = document.getElementById("gongshi-search");
      if (container) start(container);
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
    else ready();
  }
})();

"""Untrusted text through Jinja2, Python-Markdown and HTML shows literally and runs nothing."""

import re
import string
from html.parser import HTMLParser

import jinja2
import markdown
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from etl.privacy.textsafe import html_attr, install, md_cell, md_text, safe_url

EXTENSIONS = ["tables", "attr_list", "md_in_html", "toc", "admonition"]

NASTY = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[x](javascript:alert(1))",
    "![x](javascript:alert(1))",
    "<javascript:alert(1)>",
    "| a | b |",
    "a | b",
    "# heading",
    "    four spaces make code",
    "  two leading, two trailing  ",
    "- list item",
    "1. ordered",
    "> quote",
    "!!! note \"admonition\"",
    "{: #id .class onclick=alert(1) }",
    "text {: onclick=alert(1) }",
    "{{ 7*7 }}",
    "{% raw %}{{ x }}{% endraw %}",
    "{# comment #}",
    "line one\nline two\n\nline four",
    "windows\r\nline\rmac",
    "**bold** __bold__ *em* _em_ ~~del~~ `code`",
    "```\nfenced\n```",
    "&lt; &amp; &#60; &",
    "a\\*b\\_c\\\\",
    "<!-- comment -->",
    "<div markdown=\"1\">*x*</div>",
    "[ref]: http://example.com",
    "http://example.com www.example.com a@b.com",
    "---",
    "===",
    "整改措施：1.加强巡查；2.限期整改（2026年）",
    "\tTab\tseparated",
    "'single' \"double\" `back`",
    "\u3000全角空格开头",
    "结尾全角空格\u3000",
    "a\x00b\x07c\x1bd",
]


class _Visible(HTMLParser):
    """Collects what a reader sees, plus every tag and attribute for the safety checks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = []
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        if tag == "br":
            self.text.append("\n")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        self.text.append(data)


def _render(markdown_text):
    parser = _Visible()
    html = markdown.markdown(markdown_text, extensions=EXTENSIONS)
    parser.feed(html)
    parser.close()
    return html, parser


def _assert_inert(parser):
    for tag, attrs in parser.tags:
        assert tag not in ("script", "img", "iframe", "a", "code", "pre", "h1", "blockquote",
                           "table", "ul", "ol", "hr", "div", "em", "strong", "del"), tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            assert "javascript" not in (value or "").lower(), (tag, name, value)


def _expected(text):
    cleaned = text.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", cleaned)


@pytest.mark.parametrize("text", NASTY)
def test_text_shows_literally_and_runs_nothing(text):
    html, parser = _render(str(md_text(text)))
    assert "".join(parser.text) == _expected(text), html
    _assert_inert(parser)
    assert [tag for tag, _ in parser.tags if tag != "br"] == ["p"]


@pytest.mark.parametrize("text", NASTY)
def test_table_cells_keep_the_table_shape(text):
    table = f"| head | other |\n|---|---|\n| {md_cell(text)} | after |\n"
    html, parser = _render(table)
    cells = re.findall(r"<td>(.*?)</td>", html, flags=re.S)
    assert len(cells) == 2, html
    cell = _Visible()
    cell.feed(cells[0])
    assert "".join(cell.text) == _expected(text), html
    assert "".join(_Visible_text(cells[1])) == "after"
    for tag, attrs in parser.tags:
        assert tag in ("table", "thead", "tbody", "tr", "th", "td", "br"), html
        assert not any(name.startswith("on") for name, _ in attrs)


def _Visible_text(fragment):
    parser = _Visible()
    parser.feed(fragment)
    return parser.text


@pytest.mark.parametrize("text", NASTY)
def test_text_inside_raw_html_blocks(text):
    # Issue pages put values in raw <table> and <h2> blocks, which Markdown leaves alone.
    block = f"<table><tr><td>{md_cell(text)}</td></tr></table>\n\n<h2>{md_text(text)}</h2>\n"
    html, parser = _render(block)
    pieces = re.findall(r"<(td|h2)>(.*?)</\1>", html, flags=re.S)
    assert [tag for tag, _ in pieces] == ["td", "h2"], html
    for _, inner in pieces:
        assert "".join(_Visible_text(inner)) == _expected(text), html
    assert {tag for tag, _ in parser.tags} <= {"table", "tr", "td", "h2", "br"}, html


@pytest.mark.parametrize("text", NASTY)
def test_attribute_values_round_trip(text):
    html, parser = _render(f'<span title="{html_attr(text)}">x</span> after')
    spans = [attrs for tag, attrs in parser.tags if tag == "span"]
    assert spans == [[("title", _expected(text))]], html


def test_jinja_sees_no_template_syntax_in_filtered_text():
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    install(environment)
    template = environment.from_string("<p>{{ value | md_text }}</p>|{{ value | md_cell }}")
    once = template.render(value="{{ 7*7 }} {% if 1 %}x{% endif %} <b>")
    assert "49" not in once and "<b>" not in once
    # A second pass over the output (a later template stage) must not change it.
    assert environment.from_string(once).render() == once


def test_markup_is_not_escaped_twice_by_autoescape():
    environment = jinja2.Environment(autoescape=True)
    install(environment)
    out = environment.from_string("{{ v | md_text }}").render(v="a<b\nc")
    assert out == "a&#60;b<br>c"


def test_filtering_twice_changes_nothing():
    once = md_text("a*b\nc")
    assert md_text(once) == once and md_cell(once) == once
    # Attribute values are always encoded: markup in them would end the quoted value.
    assert html_attr(md_text('"')) == "&#38;&#35;34;"


def test_none_and_numbers():
    assert md_text(None) == ""
    assert md_text(12.5) == "12&#46;5"


MARKDOWN_ALPHABET = st.sampled_from(list(string.punctuation + " \n\t\u3000ab1问"))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), st.text(alphabet=MARKDOWN_ALPHABET, max_size=60)))
@example("\u2028x\u2029")
@example(" \u00a0 ")
def test_any_text_shows_literally(text):
    html, parser = _render(str(md_text(text)))
    assert "".join(parser.text) == _expected(text), html
    _assert_inert(parser)


SAFE_URLS = [
    ("https://example.com/a?b=1&c=2#d", "https://example.com/a?b=1&c=2#d"),
    ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
    ("/issues/3f/#issue-QH-1", "/issues/3f/#issue-QH-1"),
    ("../units/u-1/", "../units/u-1/"),
    ("page.html?q=整改", "page.html?q=%E6%95%B4%E6%94%B9"),
    ('https://x.cn/"><script>', "https://x.cn/%22%3E%3Cscript%3E"),
    ("https://x.cn/{{7*7}}", "https://x.cn/%7B%7B7*7%7D%7D"),
    ("  https://x.cn  ", "https://x.cn"),
]
UNSAFE_URLS = [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "java\nscript:alert(1)", "jav&#x61;script:alert(1)", "jav&#97;script:alert(1)",
    "&#106;avascript:alert(1)", "&amp;#106;avascript:alert(1)", "javascript&colon;alert(1)",
    "\x01javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD4=", "DATA:text/html,x",
    "vbscript:msgbox(1)", "VBScript:x", "file:///etc/passwd", "mailto:a@b.cn", "ftp://x",
    "", "   ", None, "java script:alert(1)",
]


@pytest.mark.parametrize("value,expected", SAFE_URLS)
def test_http_and_relative_urls_pass(value, expected):
    assert safe_url(value) == expected


@pytest.mark.parametrize("value", UNSAFE_URLS)
def test_other_schemes_are_refused(value):
    assert safe_url(value) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_safe_url_output_never_carries_a_script_scheme(text):
    url = safe_url(text)
    if url is not None:
        assert re.fullmatch(r"[A-Za-z0-9/:?#\[\]@!$&*+,;=%~\-._]*", url), url
        scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", url)
        assert scheme is None or scheme.group(1).lower() in ("http", "https")

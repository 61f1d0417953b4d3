"""The article sanitiser against hostile input: a corpus of XSS vectors (xss_corpus.json: the OWASP
filter-evasion cheat sheet, html5sec-style payloads, and the same attacks spelled in Markdown), and
Markdown that hypothesis makes up. Whatever comes in, what comes out holds only allow-listed tags and
attributes, no script-bearing URL, every link `rel="nofollow noopener"`, and images only of Tandem's
own media. The output is parsed with html.parser, as a browser's tokenizer would see it."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from articles import render

CORPUS = json.loads((Path(__file__).parent / "xss_corpus.json").read_text())
# A URL's scheme as a browser reads it: control characters and whitespace inside are ignored.
HOSTILE_SCHEME = re.compile(r"^(javascript|data|vbscript|livescript|file):", re.IGNORECASE)


class Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []
        self.declarations: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_decl(self, decl):
        self.declarations.append(decl)

    def unknown_decl(self, data):
        self.declarations.append(data)


def elements_of(html: str) -> Elements:
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser


def scheme_text(url: str) -> str:
    return re.sub(r"[\x00-\x20\u200b]", "", url)


def violations(html: str) -> list[str]:
    """Everything in `html` outside the allow-list (empty when it is safe)."""
    found = []
    parsed = elements_of(html)
    if parsed.comments or parsed.declarations:
        found.append(f"comment or declaration: {parsed.comments + parsed.declarations}")
    for tag, attrs in parsed.elements:
        if tag not in render.ALLOWED_TAGS:
            found.append(f"tag <{tag}>")
            continue
        allowed = render.ALLOWED_ATTRIBUTES.get(tag, frozenset()) | ({"rel"} if tag == "a" else frozenset())
        for name, value in attrs.items():
            if name not in allowed:
                found.append(f"attribute {name} on <{tag}>")
            if name in {"href", "src"} and value is not None and HOSTILE_SCHEME.match(scheme_text(value)):
                found.append(f"{name}={value!r} on <{tag}>")
        if tag == "a" and attrs.get("rel") != render.LINK_REL:
            found.append(f"<a> without rel={render.LINK_REL!r}: {attrs}")
        if tag == "img" and not render.OWN_IMAGE.fullmatch(attrs.get("src") or ""):
            found.append(f"<img> not of Tandem's media: {attrs}")
    return found


def test_the_corpus_is_large_and_varied():
    assert len(CORPUS) >= 100
    assert len(set(CORPUS)) == len(CORPUS)


@pytest.mark.parametrize("vector", CORPUS)
def test_no_vector_gets_anything_past_the_allow_list(vector):
    html = render.render(vector)
    assert violations(html) == [], html
    # Nothing the vector meant as markup survives as markup: no handler or script text inside a tag.
    for tag, attrs in elements_of(html).elements:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)


def test_the_whole_corpus_as_one_article_is_safe():
    html = render.render("\n\n".join(CORPUS))
    assert violations(html) == []
    assert "<script" not in html.lower() and "<iframe" not in html.lower()


def test_the_checker_itself_catches_what_it_looks_for():
    """The checks above could pass by looking at nothing: shown unsanitised markdown-it HTML and
    hand-made bad HTML, they must object."""
    assert violations('<p><img src="x" onerror="alert(1)"></p>')
    assert violations('<a href="java\tscript:alert(1)" rel="nofollow noopener">x</a>')
    assert violations('<a href="/x">no rel</a>')
    assert violations("<iframe></iframe>")
    assert violations('<p style="color:red">x</p>')
    assert violations('<img src="https://evil.example/x.png">')
    assert violations(render.markdown_html("![x](https://evil.example/x.png)").replace("<a href", "<img src"))


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("[site](https://example.com)", '<p><a href="https://example.com" rel="nofollow noopener">site</a></p>\n'),
        ("[mail](mailto:a@b.example)", '<p><a href="mailto:a@b.example" rel="nofollow noopener">mail</a></p>\n'),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
        (
            "![a cat](/media/Ab_c-9/display)",
            '<p><img src="/media/Ab_c-9/display" alt="a cat" loading="lazy"></p>\n',
        ),
        (
            "![a cat](https://cats.example/c.png)",
            '<p><a href="https://cats.example/c.png" rel="nofollow noopener">a cat</a></p>\n',
        ),
        ("~~gone~~", "<p><s>gone</s></p>\n"),
        ("<b>raw</b>", "<p>&lt;b&gt;raw&lt;/b&gt;</p>\n"),
        (
            "| a |\n|:-:|\n| 1 |",
            "<table>\n<thead>\n<tr>\n<th>a</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>1</td>\n</tr>\n</tbody>\n</table>\n",
        ),
    ],
)
def test_what_the_reader_gets(markdown, html):
    assert render.render(markdown) == html


MARKDOWN_PIECES = [
    "# ",
    "## ",
    "> ",
    "- ",
    "1. ",
    "```",
    "`",
    "**",
    "*",
    "_",
    "~~",
    "|",
    "---",
    "\n",
    "\n\n",
    "    ",
    "[",
    "]",
    "(",
    ")",
    "![",
    "<",
    ">",
    '"',
    "'",
    "=",
    "&",
    ";",
    "#",
    ":",
    "/",
    "\\",
    "javascript:",
    "data:",
    "alert(1)",
    "onerror",
    "onload=",
    "src=",
    "href=",
    "style=",
    "<script>",
    "</script>",
    "<img",
    "<iframe",
    "<a ",
    "<svg",
    "/media/k/display",
    "https://x.example/",
    "&#106;",
    "&colon;",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(MARKDOWN_PIECES), st.text(max_size=6)), max_size=40))
def test_made_up_markdown_never_yields_a_tag_or_attribute_outside_the_allow_list(pieces):
    html = render.render("".join(pieces))
    assert violations(html) == [], html

"""Markdown to safe HTML for articles: markdown-it-py (CommonMark, tables, strikethrough; raw HTML off),
then nh3 (Ammonia) with an allow-list. The one renderer of the server page, the API and the live
preview of the editor, run on every render: stored HTML is never trusted.

What survives the allow-list (ALLOWED_TAGS, ALLOWED_ATTRIBUTES): text structure (headings,
paragraphs, lists, quotes, code, tables, rules), links and Tandem's own images. Never a script, an
event handler, a style attribute, an iframe, a form; link schemes are http, https and mailto (or a
relative address), so `javascript:` and `data:` URLs are dropped; every link gets
`rel="nofollow noopener"`. An image is kept only when it points at Tandem's own media
(`/media/<key>/<variant>`, fetched through media's access check); any other image becomes a link
to its address, so an article cannot make its readers' browsers fetch a stranger's server.
"""

import re
from html import escape
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        *("p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6"),
        *("strong", "em", "del", "s", "code", "pre", "blockquote"),
        *("ul", "ol", "li", "a", "img"),
        *("table", "thead", "tbody", "tr", "th", "td"),
    }
)
ALLOWED_ATTRIBUTES = {
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "title", "loading"}),
    "ol": frozenset({"start"}),
}
# Added by the sanitiser itself to every link (not accepted from the input).
LINK_REL = "nofollow noopener"
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Tandem's own media, as media.serializers.file_url spells it.
OWN_IMAGE = re.compile(r"/media/[A-Za-z0-9_-]{1,32}/(display|thumbnail)")
MEDIA_KEY = re.compile(r"/media/([A-Za-z0-9_-]{1,32})/(?:display|thumbnail)")


def _is_own_image(src: str) -> bool:
    return OWN_IMAGE.fullmatch(src) is not None


def _image_rule(self, tokens, idx, options, env) -> str:
    """An image of Tandem's own media stays an image (lazy); any other becomes a link to it."""
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env)
    title = token.attrGet("title")
    title_attr = f' title="{escape(title)}"' if title else ""
    if _is_own_image(src):
        return f'<img src="{escape(src)}" alt="{escape(alt)}"{title_attr} loading="lazy">'
    return f'<a href="{escape(src)}"{title_attr}>{escape(alt or src)}</a>'


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.add_render_rule("image", _image_rule)
    return md


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    # Images only from Tandem's own media, whatever produced the tag.
    if tag == "img" and attribute == "src" and not _is_own_image(value):
        return None
    if tag == "img" and attribute == "loading" and value != "lazy":
        return None
    return value


_MARKDOWN = _markdown()
_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    # Their content goes with them (the default set minus what could never appear here anyway).
    clean_content_tags={"script", "style"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_attribute_filter,
    link_rel=LINK_REL,
    url_schemes=set(URL_SCHEMES),
    strip_comments=True,
)


def markdown_html(body: str) -> str:
    """markdown-it-py's HTML for `body`, before sanitising (only for measuring and tests)."""
    return _MARKDOWN.render(body)


def sanitise(html: str) -> str:
    return _CLEANER.clean(html)


def render(body: str) -> str:
    """The article body as HTML that is safe to put in a page: Markdown rendered, then sanitised."""
    return sanitise(_MARKDOWN.render(body))


class _TextOnly(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag, attrs) -> None:
        if tag in {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "blockquote", "pre", "tr"}:
            self.parts.append(" ")


def text_of(html: str) -> str:
    """The words of rendered HTML without markup, whitespace collapsed."""
    parser = _TextOnly()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def plain_text(body: str) -> str:
    """The article's words without markup: for excerpts and the publish check."""
    return text_of(render(body))


# An excerpt renders only the start of the body: the first words do not need the whole article.
EXCERPT_SOURCE_CHARS = 4000


def excerpt(body: str, *, length: int = 200) -> str:
    """The first words of the article, cut at a word boundary, for cards."""
    text = plain_text(body[:EXCERPT_SOURCE_CHARS])
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0] if " " in text[:length] else text[:length]
    return cut.rstrip(" ,;:.") + "…"


def media_keys(body: str) -> list[str]:
    """Keys of Tandem's own media the body shows as images (or links to), in order, once each."""
    return list(dict.fromkeys(MEDIA_KEY.findall(body)))


def reading_minutes(html: str) -> int:
    """Minutes to read rendered `html` at about 230 words a minute; CJK counted by characters (about 400 a minute)."""
    text = text_of(html)
    cjk = len(re.findall(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", text))
    words = len(re.sub(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", " ", text).split())
    return max(1, round(words / 230 + cjk / 400))

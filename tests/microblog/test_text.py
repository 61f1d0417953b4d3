"""Hashtags, mentions and the HTML of a post body, as `microblog.text` finds and renders them."""

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microblog import text


def tags(body: str) -> list[str]:
    # Bodies are NFC-normalized before they are stored, as post_create does.
    return text.hashtags(text.tokenize(text.normalize(body)))


def mentions(body: str) -> list[str]:
    return text.mention_candidates(text.tokenize(body))


def rendered(body: str, known=("bob",)) -> str:
    return text.render_html(text.tokenize(body), {name: name for name in known})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("I love #Django", ["django"]),
        ("#Django and #django are one tag", ["django"]),
        ("去 #北京 看雪", ["北京"]),
        ("un #café noir", ["café"]),
        ("un #cafe\u0301 noir", ["café"]),  # a combining accent matches the precomposed letter
        ("#snake_case_2 ok", ["snake_case_2"]),
        ("今天#北京下雪#了", ["北京下雪"]),
        ("#Any Topic With Spaces# yes", ["any topic with spaces"]),
        ("#a# single letter topic", ["a"]),
        ("# not a tag#", []),
        ("#ends with space #x", ["ends", "x"]),
        ("#topic wins# over #word", ["topic wins", "word"]),
        ("#two\nlines# are not one topic", ["two"]),
        ("see https://example.com/page#section", []),
        ("#see https://example.com/# no url in topics", ["see"]),
        ("C# and a#b are not tags", []),
        ("&#39; is not a tag either", []),
        ("#" + "x" * 64 + " fits", ["x" * 64]),
        ("#" + "x" * 65 + " is too long", []),
        ("#Straße", ["strasse"]),
    ],
)
def test_hashtags(body, expected):
    assert tags(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("hi @Bob and @carol_1", ["bob", "carol_1"]),
        ("mail bob@example.com", []),
        ("@ab is too short, @" + "a" * 31 + " too long", []),
        ("@bob, @bob again", ["bob"]),
        ("你好@bob", ["bob"]),
    ],
)
def test_mentions(body, expected):
    assert mentions(body) == expected


def test_html_escapes_first_then_links():
    out = rendered('<script>alert("x")</script> @bob @nobody #tag https://x.org/a?b=1&c=2.')
    assert "<script>" not in out
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in out
    assert '<a class="mention" href="/u/bob/">@bob</a>' in out
    assert "@nobody" in out and "/u/nobody/" not in out
    assert '<a class="hashtag" href="/tags/tag/">#tag</a>' in out
    assert '<a href="https://x.org/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" target="_blank">' in out
    assert out.endswith("</a>.")


def test_topic_links_to_its_case_folded_escaped_name():
    out = rendered("#AC/DC & <Friends>#")
    assert 'href="/tags/ac%2Fdc%20%26%20%3Cfriends%3E/"' in out
    assert ">#AC/DC &amp; &lt;Friends&gt;#</a>" in out


def test_a_url_cannot_break_out_of_its_attribute():
    out = rendered('https://x.org/"onmouseover=alert(1)')
    assert 'href="https://x.org/"' in out
    assert "&quot;onmouseover" in out


TAG_RE = re.compile(r"<[^>]+>")


@given(st.text(max_size=300))
def test_html_is_the_escaped_body_plus_links(body):
    out = rendered(body, known=("bob", "alice"))
    # Removing our tags and unescaping gives back the body exactly: nothing lost, nothing injected.
    assert html.unescape(TAG_RE.sub("", out)) == body
    for tag in re.findall(r"<(/?\w+)", out):
        assert tag in {"a", "/a"}


@given(st.text(alphabet=st.sampled_from("#@ ab北c/:.htps\n"), max_size=80))
def test_tags_are_case_folded_and_bounded(body):
    for name in tags(body):
        assert name == name.casefold()
        assert 1 <= len(name) <= text.MAX_TAG_CHARS
        assert "#" not in name
        assert "://" not in name

"""Post text: finds links, @mentions and hashtags in a body, and renders its safe HTML.

One left-to-right scan turns the body into tokens, so the rules never fight:
a URL is consumed whole first (a `#` inside it is never a tag), then Weibo's
`#any topic#` is tried before the `#word` form (it takes precedence), then `@name`.
Everything that is not a token is escaped; tokens become links whose text and
href are escaped too, so the HTML can be marked safe in templates.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from django.utils.html import escape

MAX_TAG_CHARS = 64
# A post, reply or repost comment, in code points after trimming (the services enforce it).
MAX_BODY_CHARS = 2000

# Whitespace and the characters that would break out of an attribute end a URL.
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than a URL ("see https://x.org.").
_URL_TRAILING = ".,;:!?)]}'\"。，；：！？）」』】"
# Weibo's topic: 1–64 characters on one line, no `#`, starting and ending with a non-space.
_TOPIC = re.compile(r"#([^#\s]|[^#\s][^#\n\r]{0,62}[^#\s])#")
_WORD_TAG = re.compile(r"#(\w{1,64})(?!\w)")  # 64 == MAX_TAG_CHARS
_MENTION = re.compile(r"@([A-Za-z0-9_]{3,30})(?![A-Za-z0-9_])")
# A `#` or `@` glued to an ASCII word ("C#", "bob@example.com") or to "&" ("&#39;") starts nothing.
_ASCII_WORD = re.compile(r"[A-Za-z0-9_&]")
_CONTAINS_URL = re.compile(r"https?://", re.IGNORECASE)


@dataclass(frozen=True)
class Token:
    kind: str  # "text", "url", "tag", "mention"
    text: str  # the characters as written
    value: str = ""  # the URL, the case-folded tag, or the username as written


def normalize(body: str) -> str:
    """NFC, so a tag typed with a combining accent matches the precomposed one (café == café)."""
    return unicodedata.normalize("NFC", body)


def tag_name(raw: str) -> str:
    """The stored form of a tag: NFC, case-folded (`#Django` == `#django`), inner spaces squeezed."""
    return " ".join(normalize(raw).casefold().split())


def has_surrogates(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def tokenize(body: str) -> list[Token]:
    tokens: list[Token] = []
    plain_start = 0
    position = 0
    length = len(body)

    def flush(upto: int) -> None:
        if upto > plain_start:
            tokens.append(Token("text", body[plain_start:upto]))

    while position < length:
        char = body[position]
        token: Token | None = None
        end = position
        glued = position > 0 and _ASCII_WORD.match(body[position - 1]) is not None
        if char in "hH" and not glued:
            match = _URL.match(body, position)
            if match:
                url = match.group(0).rstrip(_URL_TRAILING)
                if url.partition("://")[2]:
                    token, end = Token("url", url, url), position + len(url)
        elif char == "#" and not glued:
            topic = _TOPIC.match(body, position)
            if topic and not _CONTAINS_URL.search(topic.group(1)):
                token, end = Token("tag", topic.group(0), tag_name(topic.group(1))), topic.end()
            else:
                word = _WORD_TAG.match(body, position)
                if word:
                    token, end = Token("tag", word.group(0), tag_name(word.group(1))), word.end()
        elif char == "@" and not glued:
            match = _MENTION.match(body, position)
            if match:
                token, end = Token("mention", match.group(0), match.group(1)), match.end()
        if token is None:
            position += 1
            continue
        flush(position)
        tokens.append(token)
        position = plain_start = end
    flush(length)
    return tokens


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def hashtags(tokens: list[Token]) -> list[str]:
    """Case-folded tag names, in order of first use."""
    # Case folding can lengthen a name ("ß" → "ss"); a tag that no longer fits is not stored.
    return _unique(token.value for token in tokens if token.kind == "tag" and len(token.value) <= MAX_TAG_CHARS)


def mention_candidates(tokens: list[Token]) -> list[str]:
    """Usernames as written (lower-cased); only those that exist become mentions."""
    return _unique(token.value.lower() for token in tokens if token.kind == "mention")


def tag_path(tag: str) -> str:
    return f"/tags/{quote(tag, safe='')}/"


def render_html(tokens: list[Token], usernames: dict[str, str]) -> str:
    """The escaped body with links; `usernames` maps lower-cased names to existing users' names."""
    parts = []
    for token in tokens:
        if token.kind == "url":
            href = escape(token.value)
            parts.append(f'<a href="{href}" rel="nofollow noopener noreferrer" target="_blank">{href}</a>')
        elif token.kind == "tag":
            parts.append(f'<a class="hashtag" href="{escape(tag_path(token.value))}">{escape(token.text)}</a>')
        elif token.kind == "mention" and token.value.lower() in usernames:
            username = usernames[token.value.lower()]
            parts.append(f'<a class="mention" href="/u/{username}/">{escape(token.text)}</a>')
        else:
            parts.append(escape(token.text))
    return "".join(parts)

"""A search box's text parsed into clauses the index answers, with its limits.

    coffee 北京            every term must match, words whole (CJK anywhere: 北京 inside 今天北京很冷)
    coff*                  a word starting so (3 letters at least before the *)
    "exact phrase"         the words (and CJK characters) in this order, next to each other
    from:alice             only posts (or messages) by alice
    #tag                   only posts with this tag

Every clause is answered by the index (words, bigram phrases, unigrams, or the `meta`
tokens for author, tag and audience): no query reads rows the index did not point at.
"""

import hashlib
import re
from dataclasses import dataclass, field

from common.errors import ServiceError
from microblog.text import tag_name

from .text import Run, bigrams, run_tokens, runs

MAX_QUERY_CHARS = 200
MAX_TERMS = 8
# `word*` matches words starting so when the word has this many characters; a shorter prefix names too
# many words to be worth the index's time, and matches as a whole word. Prefixes are asked for, not
# implied: a prefix merges the entries of every word it starts, while a word's own entries come
# newest first straight off the index (0.4 ms against 96 ms for "post" at 100k posts).
PREFIX_FROM = 3

_PART = re.compile(r'"([^"]*)"?|(\S+)')


class QueryRefused(ServiceError):
    code = "invalid_query"


@dataclass(frozen=True)
class Phrase:
    """Consecutive tokens of the `doc` column; the last one as a prefix when `prefix`."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Unigram:
    """One CJK character, matched in the `unigrams` column."""

    char: str


@dataclass
class Query:
    clauses: list[Phrase | Unigram] = field(default_factory=list)
    author: str | None = None  # a username from `from:`
    tags: list[str] = field(default_factory=list)  # tag names as stored (microblog.text.tag_name)
    # Folded strings to mark in the results, with whether each matches as a word prefix only.
    marks: list[tuple[str, bool]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.clauses or self.author or self.tags)

    @property
    def has_text(self) -> bool:
        return bool(self.clauses)


def author_token(user_id: int) -> str:
    return f"u{user_id}"


def conversation_token(conversation_id: int) -> str:
    return f"c{conversation_id}"


def tag_token(name: str) -> str:
    # Hashed: a Weibo topic holds spaces and punctuation, which an index token cannot.
    return "t" + hashlib.sha256(tag_name(name).encode("utf-8", "surrogatepass")).hexdigest()[:16]


PUBLIC_TOKEN = "pub"  # noqa: S105  (an index token for "fully public", no secret)


def _clause_for(run: Run, *, starred: bool) -> Phrase | Unigram:
    if run.cjk and len(run.text) == 1:
        return Unigram(run.text)
    if run.cjk:
        return Phrase(tuple(bigrams(run.text)))
    return Phrase((run.text,), prefix=starred and len(run.text) >= PREFIX_FROM)


def parse(raw: str) -> Query:
    """The query, or QueryRefused (400) when it is too long or has too many terms."""
    raw = (raw or "").replace("\x00", " ").strip()
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryRefused(detail=f"A search is at most {MAX_QUERY_CHARS} characters.")
    query = Query()
    for quoted, word in _PART.findall(raw):
        if word.lower().startswith("from:") and len(word) > 5:
            query.author = word[5:].lstrip("@")
            continue
        if word.startswith("#") and len(word.strip("#")) > 0:
            query.tags.append(tag_name(word.strip("#")))
            continue
        text = quoted if quoted else word
        parts = runs(text)
        if not parts:
            continue
        if quoted and (len(parts) > 1 or not parts[0].cjk):
            tokens = tuple(token for run in parts for token in run_tokens(run))
            query.clauses.append(Phrase(tokens))
            query.marks.extend((run.text, False) for run in parts)
            continue
        for index, run in enumerate(parts):
            clause = _clause_for(run, starred=index == len(parts) - 1 and word.endswith("*"))
            query.clauses.append(clause)
            query.marks.append((run.text, isinstance(clause, Phrase) and clause.prefix))
    if len(query.clauses) + len(query.tags) + (query.author is not None) > MAX_TERMS:
        raise QueryRefused(detail=f"A search has at most {MAX_TERMS} terms.")
    return query

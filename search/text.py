"""Text as the index sees it: folded, split into words and CJK bigrams, the same way for documents and queries.

Chinese and Japanese have no spaces, so a word tokenizer finds nothing inside a sentence.
Every run of CJK characters is indexed as its overlapping bigrams (北京天气 → 北京 京天 天气),
in text order, so a term of two or more characters is the phrase of its bigrams: exact
substring matching, on an ordinary inverted index. One-character terms match `unigrams`,
a second column holding each distinct CJK character of the text once.

Folding is NFKC then casefold, per character, so full-width Latin (ＡＢＣ) matches half-width
(abc) and `fold_map` can map a match in folded text back to the characters as written.
"""

import re
import unicodedata
from dataclasses import dataclass

# Han (with extensions and compatibility forms), kana, Hangul, and CJK symbols' letters.
_CJK = (
    "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0002ebef\U00030000-\U0003134f"
)
_RUN = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
_IS_CJK = re.compile(rf"[{_CJK}]")


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def fold_map(text: str) -> tuple[str, list[int]]:
    """The folded text and, for each of its characters, the index of the character it came from."""
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = fold(char)
        folded.append(piece)
        origin.extend([index] * len(piece))
    return "".join(folded), origin


@dataclass(frozen=True)
class Run:
    text: str  # folded
    cjk: bool


def runs(text: str) -> list[Run]:
    """The folded text's words and CJK runs, in order (punctuation, spaces and `_` separate them)."""
    return [Run(cjk or word, bool(cjk)) for cjk, word in _RUN.findall(fold(text))]


def bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def run_tokens(run: Run) -> list[str]:
    """The index tokens of one run, in order: a word itself, a CJK run's bigrams."""
    return bigrams(run.text) if run.cjk else [run.text]


@dataclass(frozen=True)
class Document:
    tokens: list[str]  # in text order (positions matter for phrases)
    unigrams: list[str]  # each CJK character once

    @property
    def doc(self) -> str:
        return " ".join(self.tokens)

    @property
    def uni(self) -> str:
        return " ".join(self.unigrams)


# A longer "word" (a run of one letter, a pasted hash) is left out of the index: nobody searches for
# it, and PostgreSQL refuses a lexeme past 2,047 bytes, which would fail the write that indexes it.
MAX_TOKEN_CHARS = 100


def document(*texts: str) -> Document:
    tokens: list[str] = []
    seen: dict[str, None] = {}
    for text in texts:
        for run in runs(text or ""):
            tokens.extend(token for token in run_tokens(run) if len(token) <= MAX_TOKEN_CHARS)
            if run.cjk:
                seen.update(dict.fromkeys(run.text))
    return Document(tokens, list(seen))


def has_cjk(text: str) -> bool:
    return bool(_IS_CJK.search(text))

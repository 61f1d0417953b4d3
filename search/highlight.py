"""The matched terms of a text marked with <mark>, everything else escaped: safe to insert as HTML."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .text import fold_map, has_cjk


def _is_word(char: str) -> bool:
    return char.isalnum()


def spans(text: str, marks: list[tuple[str, bool]]) -> list[tuple[int, int]]:
    """[start, end) ranges of `text` (as written) where a mark matches, merged and in order.

    A mark matches in the folded text (case and width folded, as the index does). A Latin word
    matches at a word start; as a prefix it extends to the end of its word, otherwise it must end
    one too. CJK matches anywhere, as the index's bigrams do.
    """
    folded, origin = fold_map(text)
    found: list[tuple[int, int]] = []
    for needle, prefix in marks:
        if not needle:
            continue
        latin = _is_word(needle[0]) and not has_cjk(needle)
        start = folded.find(needle)
        while start != -1:
            end = start + len(needle)
            if latin:
                at_start = start == 0 or not _is_word(folded[start - 1])
                if prefix:
                    while end < len(folded) and _is_word(folded[end]):
                        end += 1
                at_end = end == len(folded) or not _is_word(folded[end])
                if at_start and at_end:
                    found.append((origin[start], origin[end - 1] + 1))
            else:
                found.append((origin[start], origin[end - 1] + 1))
            start = folded.find(needle, start + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, marks: list[tuple[str, bool]]) -> SafeString:
    pieces: list[str] = []
    position = 0
    for start, end in spans(text, marks):
        pieces.append(escape(text[position:start]))
        pieces.append(f"<mark>{escape(text[start:end])}</mark>")
        position = end
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces))  # noqa: S308  (every piece of the text went through escape)

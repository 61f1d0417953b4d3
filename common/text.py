"""What counts as visible text: one rule for names, posts and messages, in the server and the pages.

Lengths are counted in Unicode code points (Python's `len`, JavaScript's `[...text].length`),
never in UTF-16 units or bytes.
"""

import unicodedata

# Bidirectional controls (embeddings, overrides, isolates and marks): they reorder the text
# around them, so "\\u202eecilA" displays as "Alice".
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _is_invisible(char: str) -> bool:
    # Format characters (Cf: zero-width spaces and joiners, BOM, bidi controls), marks with
    # nothing to sit on, and whitespace show nothing by themselves.
    category = unicodedata.category(char)
    return category in {"Cf", "Mn", "Me", "Zs", "Zl", "Zp", "Cc"} or char.isspace()


def is_blank(text: str) -> bool:
    """True when `text` would show nothing: whitespace, zero-width or bidi characters, lone marks."""
    return all(_is_invisible(char) for char in text)


def has_bidi_controls(text: str) -> bool:
    return any(char in BIDI_CONTROLS for char in text)

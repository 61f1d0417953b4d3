"""The stylesheets' tokens: text stays readable in both colour schemes, colours live only in
tokens.css, and no selector is defined twice.

The contrast pairs are declared in static/css/tokens.css itself (`@contrast --a on --b ratio`),
next to the colours, so a new colour and its check are written together.
"""

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "static" / "css"
TOKENS = CSS / "tokens.css"
PAIR = re.compile(r"@contrast\s+(--[\w-]+)\s+on\s+(--[\w-]+)\s+([\d.]+)")
COLOUR = re.compile(r"^\s*(--[\w-]+):\s*light-dark\(\s*(#[0-9a-fA-F]{6})\s*,\s*(#[0-9a-fA-F]{6})\s*\)\s*;", re.M)
# A colour written anywhere but tokens.css: hex, a colour function, or a named colour in a colour property.
RAW_COLOUR = re.compile(
    r"#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch|color)\(|"
    r"(?:^|[;{\s])(?:color|background(?:-color)?|border(?:-\w+)*|outline(?:-color)?|fill|stroke)\s*:[^;}]*"
    r"\b(?:white|black|red|green|blue|gr[ae]y|silver|orange|yellow)\b"
)


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    lighter, darker = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def contrast_failures(tokens_css: str) -> list[str]:
    """Every declared pair below its minimum, in either scheme."""
    tokens = {name: (light, dark) for name, light, dark in COLOUR.findall(tokens_css)}
    pairs = [(fg, bg, float(ratio)) for fg, bg, ratio in PAIR.findall(tokens_css)]
    assert len(pairs) >= 20, "the contrast pairs in tokens.css were not found"
    failures = []
    for foreground, background, minimum in pairs:
        assert foreground in tokens and background in tokens, f"{foreground} on {background}: undefined token"
        for scheme, index in (("light", 0), ("dark", 1)):
            ratio = contrast(tokens[foreground][index], tokens[background][index])
            if ratio < minimum:
                failures.append(f"{scheme}: {foreground} on {background} is {ratio:.2f}:1, needs {minimum}:1")
    return failures


def test_the_contrast_formula_matches_wcag_reference_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic "just fails"
    assert contrast("#1f2328", "#ffffff") == pytest.approx(15.8, abs=0.05)  # DESIGN.md's figure for --text


def test_every_declared_text_and_background_pair_is_readable_in_both_schemes():
    assert contrast_failures(TOKENS.read_text()) == []


def test_a_bad_colour_fails_the_check():
    """White text on the bright brand green (2.4:1 in DESIGN.md) is caught; so is a pair on a missing token."""
    tokens_css = TOKENS.read_text()
    bright = tokens_css.replace("--brand: light-dark(#047a3c", "--brand: light-dark(#07c160")
    assert bright != tokens_css
    assert [failure for failure in contrast_failures(bright) if "--on-brand on --brand" in failure] == [
        "light: --on-brand on --brand is 2.38:1, needs 4.5:1"
    ]
    with pytest.raises(AssertionError, match="--nowhere"):
        contrast_failures(tokens_css + "\n/* @contrast --nowhere on --bg 4.5 */")


def _rules(css: str):
    """(context, selector) for every style rule; context is the enclosing at-rules, "" at top level."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    stack: list[str | None] = []  # an at-rule's prelude, or None for a style rule's declarations
    head = ""
    for char in css:
        if char == "{":
            prelude = " ".join(head.split())
            if prelude.startswith("@"):
                stack.append(prelude)
            else:
                context = " ".join(at for at in stack if at)
                for selector in prelude.split(","):
                    yield context, " ".join(selector.split())
                stack.append(None)
            head = ""
        elif char == "}":
            if stack:
                stack.pop()
            head = ""
        elif char == ";":
            head = ""  # a declaration, or a statement such as @import
        else:
            head += char


def test_colours_are_written_only_in_the_tokens_file():
    offenders = []
    for sheet in sorted(CSS.glob("*.css")):
        if sheet == TOKENS:
            continue
        text = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)
        offenders += [f"{sheet.name}: {match.group(0).strip()}" for match in RAW_COLOUR.finditer(text)]
    assert offenders == []


def test_no_selector_is_defined_twice_across_the_stylesheets():
    seen: dict[tuple[str, str], str] = {}
    twice = []
    for sheet in sorted(CSS.glob("*.css")):
        for key in _rules(sheet.read_text()):
            if key in seen:
                twice.append(f"{key[1]!r} ({key[0] or 'top level'}) in {seen[key]} and {sheet.name}")
            seen.setdefault(key, sheet.name)
    assert twice == []


def test_every_page_that_loads_a_stylesheet_loads_the_tokens_first():
    """base.html and any standalone page (an error page rendered without base.html) alike."""
    templates = CSS.parents[1] / "templates"
    pages = 0
    for template in sorted(templates.rglob("*.html")):
        sheets = re.findall(r"""<link rel="stylesheet" href="\{% static '([^']+)' %\}">""", template.read_text())
        if sheets:
            pages += 1
            assert sheets[0] == "css/tokens.css", f"{template.relative_to(templates)}: {sheets}"
    assert pages >= 1

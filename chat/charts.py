"""Small server-rendered SVG charts for the channel dashboard: no script and no library, so the
page's CSP stays as it is, and colours come from the design tokens (currentColor and var())."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT, PAD = 600, 180, 28


def line_chart(points: list[tuple[object, int]], *, label: str) -> SafeString:
    """A line of (day, value) points, with its first and last values written out."""
    if not points:
        return mark_safe("")
    values = [value for _, value in points]
    top = max(max(values), 1)
    step = (WIDTH - 2 * PAD) / max(len(points) - 1, 1)

    def y(value: int) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * value / top

    path = " ".join(f"{'M' if i == 0 else 'L'}{PAD + i * step:.1f},{y(v):.1f}" for i, v in enumerate(values))
    first, last = points[0], points[-1]
    return mark_safe(  # noqa: S308 -- every value written in is a number or escaped
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}: '
        f'{first[1]} on {first[0]}, {last[1]} on {last[0]}">'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="chart-axis"/>'
        f'<path d="{path}" class="chart-line" fill="none"/>'
        f'<text x="{PAD}" y="{HEIGHT - 8}" class="chart-text">{escape(str(first[0]))}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 8}" text-anchor="end" class="chart-text">{escape(str(last[0]))}</text>'
        f'<text x="{WIDTH - PAD}" y="{y(last[1]) - 6:.1f}" text-anchor="end" class="chart-text">{last[1]}</text>'
        "</svg>"
    )


def bar_chart(bars: list[tuple[str, int]], *, label: str) -> SafeString:
    """One bar per (name, value), oldest first, each with its value."""
    if not bars:
        return mark_safe("")
    top = max(max(value for _, value in bars), 1)
    slot = (WIDTH - 2 * PAD) / len(bars)
    parts = []
    for i, (name, value) in enumerate(bars):
        height = (HEIGHT - 2 * PAD) * value / top
        x = PAD + i * slot + slot * 0.15
        parts.append(
            f"<g><title>{escape(name)}: {value}</title>"
            f'<rect x="{x:.1f}" y="{HEIGHT - PAD - height:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" '
            f'class="chart-bar"/>'
            f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - PAD - height - 4:.1f}" text-anchor="middle" '
            f'class="chart-text">{value}</text></g>'
        )
    summary = ", ".join(f"{name}: {value}" for name, value in bars)
    return mark_safe(  # noqa: S308 -- names are escaped, the rest are numbers
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}: {escape(summary)}">'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="chart-axis"/>'
        + "".join(parts)
        + "</svg>"
    )

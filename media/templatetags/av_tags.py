"""Template helpers for voice messages and videos: how long they are, as their bubbles and posters say it.
static/js/voice.js and photos.js write the same labels for items that arrive live."""

from django import template

register = template.Library()


@register.filter
def clock(seconds) -> str:
    """A video's length as a player shows it: "0:07", "2:45" (whole seconds, rounded)."""
    if seconds in (None, ""):  # an empty partial (a <template>'s) has no media object
        return ""
    total = max(0, round(float(seconds)))
    return f"{total // 60}:{total % 60:02d}"


@register.filter
def voice_seconds(seconds) -> int:
    """A voice message's length as WeChat writes it beside the bubble: whole seconds, at least 1."""
    if seconds in (None, ""):
        return 0
    return max(1, round(float(seconds)))

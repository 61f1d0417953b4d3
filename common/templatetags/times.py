"""`{% when value %}`: a <time> saying when, relatively (common.times), in the reader's language.
static/js/times.js refreshes every `time[data-when]` as the page stays open. A builtin (settings
TEMPLATES), so every template has it without {% load %}."""

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from common.times import day_label, language_of, relative_time

register = template.Library()


def _language(context) -> str:
    request = context.get("request")
    return language_of(request.META.get("HTTP_ACCEPT_LANGUAGE", "") if request else "")


@register.simple_tag(takes_context=True)
def when(context, value):
    if not value:
        return mark_safe('<time data-when="relative"></time>')  # a template's empty slot, for JS to fill
    text = relative_time(value, timezone.now(), _language(context), timezone.get_current_timezone())
    return format_html('<time datetime="{}" data-when="relative">{}</time>', value.isoformat(), text)


@register.simple_tag(takes_context=True)
def day_of(context, value) -> str:
    """The day separator's words for `value` ("Today", "Yesterday", a date)."""
    return day_label(value, timezone.now(), _language(context), timezone.get_current_timezone())

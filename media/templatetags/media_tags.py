"""Template helpers for photos and avatars: the media objects a post or message shows, the placeholder
colour of an image before it loads, and the sizes the markup states so that nothing moves when it does."""

from django import template
from django.conf import settings

from accounts.avatars import avatar_url as _avatar_url
from media.forms import AvatarForm
from media.selectors import media_for
from media.serializers import MediaSerializer

register = template.Library()

BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


@register.simple_tag
def photos_of(item) -> list[dict]:
    """The photos of a post or a message as the API presents them (media objects), so the server's
    markup and static/js/photos.js's are made from the same fields.

    Lists of posts and messages come with their `media_items` (microblog's `posts_with_media`, chat's
    `messages_with_media`: one query a page); an item shown alone without them is looked up here.
    """
    if item is None:
        return []
    items = getattr(item, "media_items", None)
    if items is None:
        items = media_for(item._meta.model_name, [item.pk]).get(item.pk, [])
    return MediaSerializer(items, many=True).data


@register.filter
def avatar_url(person) -> str:
    """Where `person`'s avatar is served (theirs, or the generated default); "" for nobody (the
    empty partials the pages' scripts fill)."""
    return _avatar_url(person) if person else ""


@register.filter
def placeholder_colour(blurhash: str | None) -> str:
    """The average colour of a blurhash as "#rrggbb" ("" when there is none to read).

    A blurhash is a size flag, a quantised AC maximum, then the DC component (the image's average
    colour, plain sRGB) in the next four base-83 digits: reading those four needs no decoding of
    the rest. static/js/photos.js has the same few lines for photos that arrive live.
    """
    if not blurhash or len(blurhash) < 6:
        return ""
    value = 0
    for digit in blurhash[2:6]:
        index = BASE83.find(digit)
        if index < 0:
            return ""
        value = value * 83 + index
    return f"#{value:06x}" if value <= 0xFFFFFF else ""


@register.simple_tag
def thumbnail_side() -> int:
    """The thumbnails' side in pixels (they are square): the width and height of a grid cell's <img>."""
    return settings.MEDIA_THUMBNAIL_SIDE


@register.simple_tag
def photos_per_item() -> int:
    return settings.MEDIA_PER_ITEM


@register.simple_tag
def alt_max_length() -> int:
    return settings.MEDIA_ALT_MAX_LENGTH


@register.inclusion_tag("media/_avatar_settings.html", takes_context=True)
def avatar_section(context) -> dict:
    """The avatar form of /settings/ (posted to media/pages.py)."""
    return {"user": context["user"], "csrf_token": context.get("csrf_token"), "form": AvatarForm()}

"""Reads of uploads: what hangs off some posts or messages, in their order, in one query."""

from .models import Media


def media_for(kind: str, ids) -> dict[int, list[Media]]:
    """The attached, not detached media of each of `ids` (posts or messages), in position order."""
    ids = [i for i in ids if i is not None]
    found: dict[int, list[Media]] = {}
    if not ids:
        return found
    rows = Media.objects.filter(attached_kind=kind, attached_id__in=ids, detached_at__isnull=True).order_by(
        "attached_id", "position"
    )
    for item in rows:
        found.setdefault(item.attached_id, []).append(item)
    return found

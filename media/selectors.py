"""Reads of uploads: what hangs off some posts or messages, in their order, in one query; the one
a fetch of /media/<key>/ asks for."""

from common.prepared import Prepared

from .models import Media

# What serving a file reads of its row (media.views, media.access), in the model's field order.
SERVED_FIELDS = [
    field.attname
    for field in Media._meta.concrete_fields
    if field.attname
    in {"id", "owner_id", "key", "display_name", "display_type", "thumbnail_name", "thumbnail_type", "poster_name"}
    | {"attached_kind", "attached_id", "detached_at"}
]


# Asked on every fetch: the same query each time, built once (common.prepared).
@Prepared
def _servable(key: str):
    ready = Media.objects.filter(key=key, status=Media.Status.READY, detached_at__isnull=True)
    return ready.values_list(*SERVED_FIELDS)


def servable_media(key: str) -> Media | None:
    """The ready, not detached upload `key` (with only the fields serving reads), or None."""
    rows = _servable(key)
    return Media.from_db(None, SERVED_FIELDS, rows[0]) if rows else None


_FIELDS = [field.attname for field in Media._meta.concrete_fields]
# Ids go in one argument each, padded with 0 (nothing has it) to one of these sizes: each prepared once.
_ID_COUNTS = (10, 50, 200)


# Asked for every page of posts: building the queryset cost more than running it (~1 ms of Python).
@Prepared
def _attached(kind: str, *ids: int):
    rows = Media.objects.filter(attached_kind=kind, attached_id__in=ids, detached_at__isnull=True)
    return rows.order_by("attached_id", "position").values_list(*_FIELDS)


def media_for(kind: str, ids) -> dict[int, list[Media]]:
    """The attached, not detached media of each of `ids` (posts or messages), in position order."""
    kind = str(kind)  # Media.AttachedKind or its value: a plain str argument either way
    ids = list(dict.fromkeys(i for i in ids if i is not None))
    found: dict[int, list[Media]] = {}
    for start in range(0, len(ids), _ID_COUNTS[-1]):
        chunk = ids[start : start + _ID_COUNTS[-1]]
        size = next(size for size in _ID_COUNTS if size >= len(chunk))
        for row in _attached(kind, *chunk, *(0,) * (size - len(chunk))):
            item = Media.from_db(None, _FIELDS, row)
            found.setdefault(item.attached_id, []).append(item)
    return found

"""Serving an upload's files after the check of what it is attached to (media.access).

`/media/<key>/<variant>` answers the file to whoever `media.access.may_see` lets through, and
to everyone else exactly what a key that does not exist gets: the same status, headers and
body, whatever the reason (not allowed, a bad token, still processing, failed, detached, an
unknown variant). Nobody learns from a refusal that a file is there.

The caller is the session's user or, with `Authorization: Token <key>`, the token's (a bad token
is nobody, as if no credentials were sent). The bytes go out as settings.MEDIA_SERVE says:
"direct" (this worker sends them), "accel" (an empty answer whose X-Accel-Redirect tells nginx
to send the file from its internal location MEDIA_ACCEL_PREFIX: deploy/nginx), or "redirect"
(a short-lived presigned S3 URL). The check runs first in every mode.

Audio and video are played by seeking: in "direct" mode the view answers a `Range: bytes=...`
request itself (206 with Content-Range; 416 with `Content-Range: bytes */<size>` for a range past
the end; a malformed or multi-part Range, or an If-Range that is not the current ETag, gets the
whole file, as RFC 9110 allows), always after the check: a stranger's range request gets the
one 404. In "accel" mode nginx answers the range from the file (the worker's answer is empty);
in "redirect" mode S3 does.

Files never change under a key, so the ETag is the key and variant. A file anyone may see
(an avatar, a public post's photo) may be cached by anyone for a year; any other is revalidated
on every use (`private, no-cache`), so a recall, a removal or a block answers 404 at once.
"""

import re
from urllib.parse import quote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.views.decorators.http import require_safe
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import User
from common.prepared import Prepared

from . import access
from .selectors import servable_media

# variant -> (the Media field with the file's storage name, the one with its content type)
# A video's poster is a WebP like its thumbnail (media.audiovisual), so it shares the thumbnail's type.
VARIANTS = {
    "display": ("display_name", "display_type"),
    "thumbnail": ("thumbnail_name", "thumbnail_type"),
    "poster": ("poster_name", "thumbnail_type"),
}
# Shown in the page rather than downloaded. Not SVG: an image that can carry script.
INLINE_PREFIXES = ("image/", "audio/", "video/")
NOT_INLINE = frozenset({"image/svg+xml"})

PUBLIC_CACHING = "public, max-age=31536000, immutable"
PRIVATE_CACHING = "private, no-cache"
# Whether a file is answered depends on who asks: a cache must key a private answer on both.
PRIVATE_VARY = ("Cookie", "Authorization")

# One refusal for everything: not the site's 404 page, whose signed-in header (a fresh CSRF
# token on each render, unread counts) would differ from one request to the next.
NOT_FOUND_BODY = b"Not found.\n"

# One range of bytes: "first-last", "first-" or "-suffix length" (RFC 9110, 14.1.2). Anything
# else (another unit, several ranges, first after last) is no range the view answers: the whole file.
# Positions of at most 18 digits (past any file's size): a longer run of digits is not turned into
# a number at all (Python refuses to convert more than 4,300, which would be a 500).
SINGLE_BYTE_RANGE = re.compile(r"bytes=(?:(\d{1,18})-(\d{0,18})|-(\d{1,18}))")


# USER_FIELDS, in the model's order: a token's user is loaded whole, as DRF loads it.
USER_FIELDS = [field.attname for field in User._meta.concrete_fields]


@Prepared
def _token_user(key: str):
    """A token's user, asked on every fetch that sends one: the same query each time, built once."""
    return User.objects.filter(auth_token__key=key).values_list(*USER_FIELDS)


class _TokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication (the header's parsing and refusals), its lookup a prepared query."""

    def authenticate_credentials(self, key):
        rows = _token_user(key)
        if not rows:
            raise AuthenticationFailed("Invalid token.")
        user = User.from_db(None, USER_FIELDS, rows[0])
        if not user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        return (user, None)


def viewer_of(request):
    """The user asking: the token's when an `Authorization: Token` header is sent, else the session's.

    A token that is unknown or belongs to a deactivated account is nobody: the caller then gets
    what anyone signed out gets, never a 401 that a missing file would not get.
    """
    if "HTTP_AUTHORIZATION" in request.META:
        try:
            found = _TokenAuthentication().authenticate(request)
        except AuthenticationFailed:
            return None
        if found is not None:
            return found[0]
    user = request.user
    return user if user.is_authenticated else None


def _not_found() -> HttpResponse:
    response = HttpResponseNotFound(NOT_FOUND_BODY, content_type="text/plain; charset=utf-8")
    # Not kept by any cache: the same key may be served to this caller later (an upload attached
    # to a post), and a shared cache must not hand one caller's 404 to another.
    response["Cache-Control"] = "private, no-store"
    patch_vary_headers(response, PRIVATE_VARY)
    return response


@require_safe
def serve(request, key: str, variant: str) -> HttpResponse:
    """The file `variant` ("display" or "thumbnail") of the upload `key`, or the one 404."""
    try:
        return _serve(request, key, variant)
    except Http404:
        return _not_found()


def _serve(request, key: str, variant: str) -> HttpResponse:
    if variant not in VARIANTS:
        raise Http404
    name_field, type_field = VARIANTS[variant]
    media = servable_media(key)
    if media is None or not getattr(media, name_field):
        raise Http404
    if not access.may_see(viewer_of(request), media):
        raise Http404

    name, content_type = getattr(media, name_field), getattr(media, type_field) or "application/octet-stream"
    mode = settings.MEDIA_SERVE
    if mode == "redirect":
        # The presigned URL expires; the redirect is asked for again each time, and so is the check.
        response = HttpResponseRedirect(default_storage.url(name, expire=settings.MEDIA_PRESIGNED_SECONDS))
        response["Cache-Control"] = "private, no-store"
        patch_vary_headers(response, PRIVATE_VARY)
        return response

    public = access.is_public(media)
    etag = f'"{media.key}.{variant}"'
    known = parse_etags(request.META.get("HTTP_IF_NONE_MATCH", ""))
    if etag in known or "*" in known:
        response = HttpResponse(status=304)
    elif mode == "accel":
        # nginx sends the file itself (deploy/nginx: an `internal` location over MEDIA_ROOT).
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_PREFIX + quote(name)
    else:
        try:
            file = default_storage.open(name, "rb")
        except FileNotFoundError:  # the row outlived its file: as missing as a key that never was
            raise Http404 from None
        response = _file_answer(request, file, content_type, etag)
    if response.status_code in (200, 206):
        inline = content_type.startswith(INLINE_PREFIXES) and content_type not in NOT_INLINE
        response["Content-Disposition"] = "inline" if inline else "attachment"
    response["ETag"] = etag
    response["Cache-Control"] = PUBLIC_CACHING if public else PRIVATE_CACHING
    if not public:
        patch_vary_headers(response, PRIVATE_VARY)
    return response


def _file_answer(request, file, content_type: str, etag: str) -> HttpResponse:
    """The file whole (200), the one range asked for (206), or 416 for a range that is past its end."""
    size = file.size
    wanted = _byte_range(request, size, etag)
    if wanted is None:
        response = _FileStream(file, content_type=content_type)
    elif wanted == UNSATISFIABLE:
        file.close()
        response = HttpResponse(b"", status=416, content_type="text/plain; charset=utf-8")
        response["Content-Range"] = f"bytes */{size}"
    else:
        first, last = wanted
        file.seek(first)
        response = _FileStream(_Slice(file, last - first + 1), content_type=content_type, status=206)
        response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    return response


UNSATISFIABLE = "unsatisfiable"


def _byte_range(request, size: int, etag: str):
    """(first, last) byte of the one range `request` asks for and may have, UNSATISFIABLE, or None (the whole file).

    If-Range names the file the client already holds part of: unless it is this ETag (a date is
    never a match: no Last-Modified is sent), the client gets the whole file.
    """
    header = request.META.get("HTTP_RANGE")
    if not header:
        return None
    if_range = request.META.get("HTTP_IF_RANGE")
    if if_range is not None and if_range.strip() != etag:
        return None
    matched = SINGLE_BYTE_RANGE.fullmatch(header.strip())
    if matched is None:
        return None
    first, last, suffix = matched.groups()
    if suffix is not None:
        length = int(suffix)
        if length == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - length), size - 1
    first = int(first)
    if last and int(last) < first:
        return None  # not a valid range: ignored, as a malformed header is
    if first >= size:
        return UNSATISFIABLE
    return first, (min(int(last), size - 1) if last else size - 1)


class _Slice:
    """`length` bytes of an open file from where it stands: what FileResponse streams for a range."""

    def __init__(self, file, length: int):
        self.file, self.remaining = file, length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        block = self.file.read(self.remaining if size < 0 else min(size, self.remaining))
        self.remaining -= len(block)
        return block

    def close(self) -> None:
        self.file.close()


class _FileStream(FileResponse):
    """A FileResponse that an ASGI server (daphne) reads a block at a time in a thread.

    Django reads a synchronous FileResponse whole into memory (`sync_to_async(list)`, with a
    warning) before sending a byte under ASGI; this sends each block (ASGIHandler.chunk_size,
    64 KiB) as it is read, never reading on the event loop. A synchronous client (tests, WSGI)
    iterates it as usual.
    """

    async def __aiter__(self):
        blocks = iter(self.streaming_content)
        while (block := await sync_to_async(next, thread_sensitive=False)(blocks, None)) is not None:
            yield block

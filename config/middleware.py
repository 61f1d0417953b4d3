"""Project middleware: the same security headers on every answer, no-store on per-user ones, bodies
past the size limit refused before views, and the pages' fallback for service errors."""

from dataclasses import asdict

from csp.constants import HEADER as CSP_HEADER
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.http import HttpResponse

from common.errors import RateLimited, ServiceError


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, without its exemption of 404 and 500 answers when DEBUG is on.

    That exemption (kept so Django's debug pages can run their inline script) left every 404 of a
    `make run` server without `frame-ancestors`. Here every answer has the one policy; a DEBUG
    traceback page loses only its "switch to copy-and-paste view" toggle.
    """

    def process_response(self, request, response):
        exempted_by_django_csp = settings.DEBUG and response.status_code in (404, 500)
        if exempted_by_django_csp and CSP_HEADER not in response and not getattr(response, "_csp_exempt", False):
            response[CSP_HEADER] = build_policy(**asdict(self.get_policy_parts(request=request, response=response)))
        return super().process_response(request, response)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on what is per-user: any answer under /api/ or to a signed-in request.

    A view that chose its own caching (static files, never_cache) keeps it. A request answered
    before authentication ran (a 413) counts as signed in if it carried a session cookie or token.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response and self.is_per_user(request):
            response["Cache-Control"] = "private, no-store"
        return response

    @staticmethod
    def is_per_user(request) -> bool:
        if request.path_info.startswith("/api/"):
            return True
        user = getattr(request, "user", None)
        if user is not None:
            return user.is_authenticated
        return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES


# The multipart envelope around an uploaded image (boundaries, part headers, the alt text) fits in this.
UPLOAD_ENVELOPE_BYTES = 64 * 1024
# The API's (photos, voice, video), and /settings/' avatar form (media/pages.py, images only), which go
# through the same upload service.
UPLOAD_PATHS = frozenset({"/api/media/", "/settings/avatar/"})
IMAGE_UPLOAD_PATHS = frozenset({"/settings/avatar/"})


def body_size_limit(request) -> int:
    """The most bytes a request body may carry: on the upload paths the largest kind's they take (an
    image's on the avatar form, a video's on the API; each kind's own limit is media.services'), a few KB elsewhere."""
    if request.method == "POST" and request.path_info in UPLOAD_PATHS:
        if request.path_info in IMAGE_UPLOAD_PATHS:
            return settings.MEDIA_IMAGE_MAX_BYTES + UPLOAD_ENVELOPE_BYTES
        largest = max(settings.MEDIA_IMAGE_MAX_BYTES, settings.MEDIA_AUDIO_MAX_BYTES, settings.MEDIA_VIDEO_MAX_BYTES)
        return largest + UPLOAD_ENVELOPE_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class BodySizeLimitMiddleware:
    """Answers 413 to a body whose Content-Length is past its path's limit (`body_size_limit`), before a view reads it.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE bounds the other fields of a multipart body, never its
    files; the upload path's limit is here, and each kind's own (MEDIA_IMAGE_MAX_BYTES, ...) in media.services.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_size_limit(request)
        if length > limit:
            detail = f"Request bodies are limited to {limit} bytes."
            return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class ServiceErrorMiddleware:
    """A page whose service raised a ServiceError nobody handled answers with its status and detail.

    Pages that can show the refusal in their form catch it themselves; this is the one
    fallback (the API maps the same errors in config.exceptions).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ServiceError):
            return None
        response = HttpResponse(exception.detail, status=exception.status, content_type="text/plain; charset=utf-8")
        if isinstance(exception, RateLimited):
            response["Retry-After"] = str(exception.retry_after)
        return response

"""Project middleware: bodies past the size limit, and abuse limits, answered before views."""

from django.conf import settings
from django.http import HttpResponse

from accounts.services import RateLimited


class BodySizeLimitMiddleware:
    """Answers 413 to a body whose Content-Length is past DATA_UPLOAD_MAX_MEMORY_SIZE, before any view reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            detail = f"Request bodies are limited to {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
            return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class RateLimitedMiddleware:
    """A page whose service raised RateLimited answers 429 with Retry-After (the API does so through DRF)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, RateLimited):
            return None
        response = HttpResponse(exception.detail, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(exception.retry_after)
        return response

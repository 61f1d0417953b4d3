"""Project middleware: bodies past the size limit, and abuse limits, answered before views."""

from django.conf import settings
from django.http import HttpResponse

from common.errors import RateLimited, ServiceError


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

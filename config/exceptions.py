"""Abuse limits answer 429 with Retry-After, on the API (DRF's Throttled) and on pages alike."""

from django.http import HttpResponse
from rest_framework.exceptions import Throttled
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.services import RateLimited


def exception_handler(exc, context):
    if isinstance(exc, RateLimited):
        exc = Throttled(wait=exc.retry_after, detail=exc.detail)
    return drf_exception_handler(exc, context)


class RateLimitedMiddleware:
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

"""The API's exception handler: an abuse limit (RateLimited) answers as DRF's Throttled, 429 with Retry-After."""

from rest_framework.exceptions import Throttled
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.services import RateLimited


def exception_handler(exc, context):
    if isinstance(exc, RateLimited):
        exc = Throttled(wait=exc.retry_after, detail=exc.detail)
    return drf_exception_handler(exc, context)

"""The API's exception handler: every ServiceError answers the same way, `{"detail", "code"}` with its status.

A RateLimited also carries Retry-After, as DRF's own Throttled does.
"""

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import RateLimited, ServiceError


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        response = Response({"detail": exc.detail, "code": exc.code}, status=exc.status)
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response
    return drf_exception_handler(exc, context)

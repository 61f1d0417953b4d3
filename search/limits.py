"""Search's abuse limits: per address and per signed-in user, counted before the index is asked."""

from django.conf import settings

from accounts import limits
from accounts.services import client_address
from common.errors import RateLimited

DETAIL = "Too many searches. Try again in a moment."


def search_take(request) -> None:
    """Counts one search by this request's address and user; RateLimited (429, Retry-After) past either limit."""
    limit, window = settings.SEARCH_LIMIT_PER_ADDRESS
    wait = limits.take("search-address", client_address(request), limit=limit, window=window)
    if wait is None and request.user.is_authenticated:
        limit, window = settings.SEARCH_LIMIT_PER_USER
        wait = limits.take("search-user", str(request.user.pk), limit=limit, window=window)
    if wait is not None:
        raise RateLimited(retry_after=wait, detail=DETAIL)

"""Cursor pagination for every list: `{next, previous, results}`, newest first, bounded pages."""

from rest_framework.pagination import CursorPagination as DRFCursorPagination


class CursorPagination(DRFCursorPagination):
    ordering = "-id"
    page_size_query_param = "limit"
    max_page_size = 100

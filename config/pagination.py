"""Cursor pagination for every list: `{next, previous, results}`, newest first, bounded pages."""

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination as DRFCursorPagination
from rest_framework.pagination import _positive_int


class CursorPagination(DRFCursorPagination):
    ordering = "-id"
    page_size_query_param = "limit"
    max_page_size = 100
    page_size_query_description = f"Items per page, 1 or more; pages hold at most {max_page_size}."

    def get_page_size(self, request):
        # DRF quietly falls back to the default page for `limit=abc`; a typo deserves an answer.
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        try:
            return _positive_int(value, strict=True, cutoff=self.max_page_size)
        except ValueError:
            raise ValidationError({self.page_size_query_param: ["A whole number, 1 or more."]}) from None

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters

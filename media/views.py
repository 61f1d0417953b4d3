"""Serving an upload's files after the check of what it is attached to (media.access)."""

from django.http import Http404


def serve(request, key: str, variant: str):
    raise Http404

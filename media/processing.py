"""Turning a checked upload into what is served: the display file, the thumbnail and the placeholder.

Never on the event loop. `schedule` hands the work to where settings.MEDIA_PROCESSING says:
a thread pool in this process (the embedded default), Celery workers (`media.tasks`), or the
caller's own thread ("inline", for tests and management commands).
"""

from concurrent.futures import ThreadPoolExecutor
from functools import cache

from django.conf import settings
from django.db import close_old_connections


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=2, thread_name_prefix="media")


def _in_thread(media_id: int) -> None:
    close_old_connections()
    try:
        process(media_id)
    finally:
        close_old_connections()


def schedule(media_id: int) -> None:
    """Processes the upload `media_id` (already committed) where settings.MEDIA_PROCESSING says."""
    mode = settings.MEDIA_PROCESSING
    if mode == "inline":
        process(media_id)
    elif mode == "celery":
        from .tasks import process_media

        process_media.delay(media_id)
    else:
        _pool().submit(_in_thread, media_id)


def process(media_id: int) -> None:
    """Makes the files of upload `media_id` and marks it ready (or failed, with the reason)."""
    raise NotImplementedError

"""Background work on Celery (config/celery.py): processing uploads and removing old files.

`process_media` is what media.processing.schedule sends when MEDIA_PROCESSING is "celery";
`prune_media` is run by beat every MEDIA_PRUNE_INTERVAL (CELERY_BEAT_SCHEDULE).
"""

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from .models import Media
from .processing import process
from .services import media_prune

logger = logging.getLogger(__name__)


@shared_task
def process_media(media_id: int) -> None:
    try:
        process(media_id)
    except SoftTimeLimitExceeded:
        # Interrupted past CELERY_TASK_SOFT_TIME_LIMIT: the uploader sees it failed rather than
        # "processing" for good.
        logger.warning("processing media %s took too long", media_id)
        Media.objects.filter(pk=media_id, status=Media.Status.PROCESSING).update(
            status=Media.Status.FAILED, error="Processing took too long."
        )


@shared_task
def prune_media() -> None:
    logger.info("pruned media: %s", media_prune())

"""Background work on Celery (config/celery.py) for reach: beat folds buffered reads every
READS_FOLD_INTERVAL and recomputes the earned badges daily (CELERY_BEAT_SCHEDULE)."""

import logging

from celery import shared_task

from .reach_tiers import earned_tiers_compute
from .reads import reads_fold

logger = logging.getLogger(__name__)


@shared_task
def fold_reads() -> None:
    logger.info("folded reads: %s", reads_fold())


@shared_task
def compute_reach() -> None:
    logger.info("earned badges changed: %s", earned_tiers_compute())

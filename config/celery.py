"""The Celery app: background workers on Redis (REDIS_URL), for work that must not hold up a request.

Uploads are processed here when MEDIA_PROCESSING is "celery" (media.processing.schedule sends
`media.tasks.process_media`), and beat runs `media.tasks.prune_media` every MEDIA_PRUNE_INTERVAL.
Its settings are the CELERY_* ones in config/settings/base.py. `make worker` starts a worker with
beat, and `make run-cluster` starts one beside its daphne workers. `make run` (no REDIS_URL)
starts none and needs none.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

app = Celery("tandem")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each installed app's tasks.py.
app.autodiscover_tasks()

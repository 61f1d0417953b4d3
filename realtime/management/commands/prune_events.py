"""`manage.py prune_events`: drops events older than EVENT_RETENTION (7 days by default).

A client resuming from before the oldest kept event gets `resync` and reloads over REST.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from realtime.models import Event


class Command(BaseCommand):
    help = "Deletes replayable events older than the retention period."

    def handle(self, *args, **options):
        cutoff = timezone.now() - settings.EVENT_RETENTION
        deleted, _ = Event.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} events older than {cutoff:%Y-%m-%d %H:%M}.")

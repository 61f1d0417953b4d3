"""`manage.py prune_media`: deletes uploads nobody attached within MEDIA_UNATTACHED_TTL (failed ones
too), and those detached (a post deleted, a message recalled, an avatar replaced) longer than
MEDIA_RETENTION ago: their rows and their files. Run it from cron, say hourly."""

from django.core.management.base import BaseCommand

from media.services import media_prune


class Command(BaseCommand):
    help = "Deletes unattached uploads past MEDIA_UNATTACHED_TTL and detached ones past MEDIA_RETENTION."

    def handle(self, *args, **options):
        counts = media_prune()
        self.stdout.write(
            f"Deleted {counts['unattached']} unattached and {counts['detached']} detached uploads "
            f"({counts['files']} files)."
        )

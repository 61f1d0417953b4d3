"""`manage.py compute_reach`: folds waiting reads and recomputes the earned V badges (what beat runs
daily with Celery; run it from cron on the embedded default)."""

from django.core.management.base import BaseCommand

from microblog.reach_tiers import earned_tiers_compute


class Command(BaseCommand):
    help = "Fold waiting reads and recompute the influencer and top influencer badges."

    def handle(self, *args, **options):
        self.stdout.write(f"{earned_tiers_compute()} badge(s) changed")

"""`manage.py seed_demo`: demo people, their contacts and chats, posts, articles and a channel."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.demo import DEMO_PASSWORD, seed_users
from accounts.models import User
from articles.demo import seed as seed_articles
from chat import channel_demo
from chat import demo as chat_demo
from microblog.demo import seed as seed_microblog


class Command(BaseCommand):
    help = "Creates demo users with known passwords (printed). Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when any user exists.")

    def handle(self, *args, if_empty=False, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has users; demo content not added.")
            return
        with transaction.atomic():
            people = seed_users()
            seed_microblog(people)
            seed_articles(people)
            chat_demo.seed(people)
            channel_demo.seed(people)
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for each: {DEMO_PASSWORD}):"))
        for person in people:
            self.stdout.write(f"  {person.username}")

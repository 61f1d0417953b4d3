"""`manage.py search_rebuild [--only posts,messages,people,articles]`: the search index built from scratch,
with a progress bar.

For a database filled without the write paths (bulk loads, `seed_bench`), or after changing how
text is indexed (search.text). Each batch is its own transaction; searches answer meanwhile from
whatever is indexed so far. On SQLite the FTS5 tables are merged into one segment at the end
(`optimize`); on PostgreSQL the GIN indexes take the rows through their pending list, merged at
the end, and the tables are analyzed (`PostgresBackend.bulk_load`).
"""

import json
import sys
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accounts.models import User
from articles.models import Article
from chat.models import Message
from microblog.models import Post
from search.backends import backend
from search.backends.base import ARTICLES, MESSAGES, PEOPLE, POSTS, Entry
from search.backends.sqlite import TABLES as SQLITE_TABLES
from search.index import article_entry
from search.query import PUBLIC_TOKEN, author_token, conversation_token, tag_token
from search.text import document

BATCH = 5000


def _post_entry(pk, body, author_id, hashtags, fully_public) -> Entry:
    tags = json.loads(hashtags) if isinstance(hashtags, str) else hashtags or []
    meta = [author_token(author_id), *(tag_token(tag) for tag in tags)]
    if fully_public:
        meta.append(PUBLIC_TOKEN)
    return Entry(pk, document(body), tuple(meta))


SOURCES = {
    POSTS: (
        lambda: Post.objects.filter(deleted_at__isnull=True),
        ("id", "body", "author_id", "hashtags", "fully_public"),
        _post_entry,
    ),
    MESSAGES: (
        lambda: Message.objects.filter(recalled_at__isnull=True).exclude(body=""),
        ("id", "body", "conversation_id", "sender_id"),
        lambda pk, body, conversation_id, sender_id: Entry(
            pk, document(body), (conversation_token(conversation_id), author_token(sender_id))
        ),
    ),
    PEOPLE: (
        lambda: User.objects.all(),
        ("id", "username", "display_name"),
        lambda pk, name, display_name: Entry(pk, document(name, display_name)),
    ),
    ARTICLES: (
        lambda: Article.objects.published(),
        ("id", "title", "body", "author_id", "visibility"),
        lambda pk, title, body, author_id, visibility: article_entry(
            Article(pk=pk, title=title, body=body, author_id=author_id, visibility=visibility)
        ),
    ),
}
NAMES = {"posts": POSTS, "messages": MESSAGES, "people": PEOPLE, "articles": ARTICLES}


class Progress:
    """A one-line progress bar on stderr (tqdm is a benchmark dependency, not a runtime one)."""

    WIDTH = 30

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done, self.started = label, total, 0, time.monotonic()
        self.draw()

    def update(self, count: int) -> None:
        self.done += count
        self.draw()

    def draw(self) -> None:
        share = self.done / self.total if self.total else 1.0
        filled = round(share * self.WIDTH)
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(f"\r{self.label:>8} [{bar}] {self.done:,}/{self.total:,} {share:4.0%} {rate:,.0f} rows/s")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write(f" in {time.monotonic() - self.started:.1f} s\n")


class Command(BaseCommand):
    help = "Builds the search index from scratch (posts, messages, people, articles)."

    def add_arguments(self, parser):
        parser.add_argument("--only", default=",".join(NAMES), help="comma-separated: " + ",".join(NAMES))

    def handle(self, *args, only: str, **options):
        index = backend()
        for name in only.split(","):
            kind = NAMES[name.strip()]
            rows, fields, entry = SOURCES[kind]
            total = rows().count()
            index.clear(kind)
            last = 0
            bar = Progress(name, total)
            with index.bulk_load(kind):
                while True:
                    batch = list(rows().filter(pk__gt=last).order_by("pk").values_list(*fields)[:BATCH])
                    if not batch:
                        break
                    with transaction.atomic():
                        index.index(kind, [entry(*row) for row in batch])
                    last = batch[-1][0]
                    bar.update(len(batch))
            bar.close()
            if connection.vendor == "sqlite":
                table = SQLITE_TABLES[kind]
                with connection.cursor() as cursor:
                    cursor.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")  # noqa: S608

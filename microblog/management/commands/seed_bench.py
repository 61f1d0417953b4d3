"""`manage.py seed_bench --users N --posts M`: a synthetic network for the feed benchmark, built with bulk inserts.

- follows of a realistic shape: who gets followed is Zipf-distributed (a few
  accounts with very many followers, most with few), how many each person follows
  is heavy-tailed too, and about a third of follows go to people of a shared interest;
- posts over the last `--days` days, authors Zipf-active, mostly on their own interests;
- likes and plain reposts by followers, far likelier on a topic they care about
  (`microblog.simulation` keeps those hidden interests; the ranker never sees them).
- reads (Weibo's 阅读数): every follower a post was shown to (the sample above) read it, and so
  did a sample of each reposter's followers, whatever their interests, as real reads would be;
  PostRead rows, each post's read_count, then the earned V badges from them (`compute_reach`);
- `bench0` (the benchmark's viewer) follows `--viewer-follows` accounts.

Post ids are assigned in time order (reposts included), as a live site would have them.
Run it on an empty database: it refuses when bench users already exist.

Rows go in as plain tuples (COPY on PostgreSQL, `executemany` on SQLite): building a
model instance per row made Django's `bulk_create` most of the time at 1M posts.
"""

import argparse
import bisect
import itertools
import random
import time
from collections import Counter
from datetime import UTC, timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import cached_property
from tqdm import tqdm

from accounts.models import User
from microblog.models import Follow, Like, Post, PostAncestor, PostRead, Visibility
from microblog.reach_tiers import earned_tiers_compute
from microblog.simulation import TOPICS, interests_of, username

BATCH = 5000
READERS_PER_POST = 12
LIKE_ON_INTEREST = 0.35
LIKE_OFF_INTEREST = 0.03
REPOST_OF_LIKED = 0.15
OWN_TOPIC_SHARE = 0.8
HOMOPHILY = 0.3


def _zipf_cumulative(n: int, exponent: float, rng: random.Random) -> tuple[list[int], list[float]]:
    """People in a random order, with cumulative Zipf weights for `random.choices`."""
    order = list(range(n))
    rng.shuffle(order)
    weights = [1 / (rank + 1) ** exponent for rank in range(n)]
    return order, list(itertools.accumulate(weights))


class Command(BaseCommand):
    help = "Builds a synthetic follow graph, posts, likes and reposts for the feed benchmark."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=1000)
        parser.add_argument("--posts", type=int, default=20000)
        parser.add_argument("--days", type=int, default=7)
        parser.add_argument("--viewer-follows", type=int, default=300)
        parser.add_argument("--seed", type=int, default=1)
        # Reads cost about 12 rows per post; a latency-only run may skip them.
        parser.add_argument("--reads", action=argparse.BooleanOptionalAction, default=True)

    def bulk(self, model, columns: list[str], rows: list[tuple], label: str) -> None:
        """Inserts `rows` (tuples in the order of `columns`) into `model`'s table, with a progress bar."""
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(column) for column in columns)
        with tqdm(total=len(rows), desc=label, unit=" rows", unit_scale=True) as bar, connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        bar.update()
                return
            # Names from the model's own fields; values go through placeholders.
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                cursor.executemany(insert, batch)
                bar.update(len(batch))

    @cached_property
    def takes_datetimes(self) -> bool:
        # Read once: `connection.vendor` goes through a thread-local lookup, a cost per row here.
        return connection.vendor == "postgresql"

    def timestamp(self, moment):
        """A datetime as the database column takes it without Django's per-value adaptation."""
        if self.takes_datetimes:
            return moment
        return str(moment.astimezone(UTC).replace(tzinfo=None))

    def handle(self, *args, users: int, posts: int, days: int, viewer_follows: int, seed: int, reads: bool, **options):
        if User.objects.filter(username=username(0)).exists():
            raise CommandError("Bench users already exist: run seed_bench on an empty database.")
        if users < 2 or posts < 1:
            raise CommandError("Need at least 2 users and 1 post.")
        rng = random.Random(seed)
        started = time.monotonic()
        now = timezone.now()
        interests = [interests_of(i, seed=seed) for i in range(users)]
        by_topic: dict[int, list[int]] = {t: [] for t in range(TOPICS)}
        for i, topics in enumerate(interests):
            for t in topics:
                by_topic[t].append(i)

        with transaction.atomic():
            ids = self.make_users(users)
            followers = self.make_follows(ids, interests, by_topic, viewer_follows, rng, now)
            self.make_posts(ids, interests, followers, posts, days, rng, now, with_reads=reads)
        self.reset_sequences()
        if reads:
            self.stdout.write(f"{earned_tiers_compute()} earned badge(s).")
        self.stdout.write(f"Seeded {users:,} users and {posts:,} posts in {time.monotonic() - started:.1f} s.")

    def make_users(self, users: int) -> list[int]:
        password = make_password(None)  # unusable: bench users never sign in
        rows = [User(username=username(i), display_name=f"Bench {i}", password=password) for i in range(users)]
        for start in range(0, len(rows), BATCH):
            User.objects.bulk_create(rows[start : start + BATCH])
        found = dict(User.objects.filter(username__startswith="bench").values_list("username", "id"))
        return [found[username(i)] for i in range(users)]

    def make_follows(self, ids, interests, by_topic, viewer_follows, rng, now) -> list[list[int]]:
        n = len(ids)
        order, cumulative = _zipf_cumulative(n, 1.0, rng)
        followers: list[list[int]] = [[] for _ in range(n)]
        rows = []
        followed_at = self.timestamp(now - timedelta(days=30))
        for i in range(n):
            # Heavy-tailed out-degree: most follow a few dozen, some follow hundreds.
            count = viewer_follows if i == 0 else min(n - 1, int(rng.paretovariate(1.5) * 15))
            chosen: set[int] = set()
            attempts = 0
            while len(chosen) < count and attempts < count * 10:
                attempts += 1
                if rng.random() < HOMOPHILY:
                    target = rng.choice(by_topic[rng.choice(sorted(interests[i]))])
                else:
                    target = order[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]
                if target != i:
                    chosen.add(target)
            for target in chosen:
                followers[target].append(i)
                rows.append((ids[i], ids[target], followed_at))
        self.bulk(Follow, ["follower_id", "followee_id", "created_at"], rows, "follows")
        return followers

    def make_posts(self, ids, interests, followers, posts, days, rng, now, *, with_reads: bool) -> None:
        n = len(ids)
        authors_order, authors_cumulative = _zipf_cumulative(n, 0.8, rng)
        span = days * 86400
        times = sorted(rng.random() * span for _ in range(posts))
        # (seconds into the span, kind, author index, topic, original index) in time order.
        events = []
        likes = []  # (post index, user index, seconds)
        reads: dict[tuple[int, int], float] = {}  # (post index, user index) -> seconds, first read
        for k, at in enumerate(times):
            author = authors_order[bisect.bisect_left(authors_cumulative, rng.random() * authors_cumulative[-1])]
            own = sorted(interests[author])
            topic = rng.choice(own) if rng.random() < OWN_TOPIC_SHARE else rng.randrange(TOPICS)
            events.append((at, k, author, topic, None))
            readers = followers[author]
            if len(readers) > READERS_PER_POST:
                readers = rng.sample(readers, READERS_PER_POST)
            for reader in readers:
                reads.setdefault((k, reader), min(at + rng.random() * 3600, span))
                chance = LIKE_ON_INTEREST if topic in interests[reader] else LIKE_OFF_INTEREST
                if rng.random() < chance:
                    seen = min(at + rng.random() * 12 * 3600, span)
                    likes.append((k, reader, seen))
                    if topic in interests[reader] and rng.random() < REPOST_OF_LIKED:
                        events.append((seen, None, reader, topic, k))
                        # The repost is shown to (a sample of) the reposter's followers.
                        audience = followers[reader]
                        if len(audience) > READERS_PER_POST:
                            audience = rng.sample(audience, READERS_PER_POST)
                        for other in audience:
                            if other != author:
                                reads.setdefault((k, other), min(seen + rng.random() * 3600, span))
        events.sort(key=lambda event: event[0])
        start = now - timedelta(seconds=span)
        first_id = (Post.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
        post_id: dict[int, int] = {}
        for offset, (_, k, _, _, original) in enumerate(events):
            if original is None:
                post_id[k] = first_id + offset
        like_counts = Counter(post_id[k] for k, _, _ in likes)
        repost_counts = Counter(post_id[original] for *_, original in events if original is not None)
        # Simulated either way, so the rest of the network is the same with --no-reads.
        read_counts = Counter(post_id[k] for k, _ in reads) if with_reads else Counter()
        rows = []
        for offset, (at, k, author, topic, original) in enumerate(events):
            pk = first_id + offset
            when = self.timestamp(start + timedelta(seconds=at))
            if original is None:
                body = f"t{topic}: post {k} by {username(author)}"
                counts = (like_counts[pk], repost_counts[pk], read_counts[pk])
                rows.append((pk, ids[author], body, body, None, None, *counts, when))
            else:
                rows.append((pk, ids[author], "", "", post_id[original], post_id[original], 0, 0, 0, when))
        columns = ["id", "author_id", "body", "html", "repost_of_id", "original_id", "like_count", "repost_count"]
        columns += ["read_count"]
        columns += ["created_at", "visibility", "fully_public", "hashtags", "mentions", "reply_count"]
        constant = (Visibility.PUBLIC.value, True, "[]", "[]", 0)
        self.bulk(Post, columns, [row + constant for row in rows], "posts")
        ancestors = [(row[0], row[5], 1, True) for row in rows if row[5] is not None]
        self.bulk(PostAncestor, ["post_id", "ancestor_id", "depth", "via_repost"], ancestors, "repost links")
        like_rows = [(post_id[k], ids[u], self.timestamp(start + timedelta(seconds=at))) for k, u, at in likes]
        self.bulk(Like, ["post_id", "user_id", "created_at"], like_rows, "likes")
        if with_reads:
            read_rows = [
                (post_id[k], ids[u], self.timestamp(start + timedelta(seconds=at))) for (k, u), at in reads.items()
            ]
            self.bulk(PostRead, ["post_id", "user_id", "created_at"], read_rows, "reads")

    def reset_sequences(self) -> None:
        """Explicit ids leave PostgreSQL's sequences behind; put them past the data.

        Then refresh the planner's statistics: right after a bulk load, before autovacuum
        gets to it, PostgreSQL plans the feed queries for empty tables (seconds per page);
        SQLite keeps none until ANALYZE, and without them walks a followed person's likes
        where the viewer's few liked posts would do (21 ms instead of 0.2 at 1M posts).
        """
        statements = connection.ops.sequence_reset_sql(no_style(), [Post, Like, Follow, PostAncestor, PostRead, User])
        statements += ["ANALYZE"]
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

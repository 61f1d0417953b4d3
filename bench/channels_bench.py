"""`make bench-channels`: what a channel's broadcast costs as its audience grows, and how it reaches people.

Three measurements, each against a baseline taken in the same run (bench/RESULTS.md):

1. Commit time of one broadcast (`chat.services.channels.broadcast_create`, in one process, no sockets)
   to channels of 1,000, 100,000 and 1,000,000 subscribers, seeded in bulk with SQL; the rounds
   alternate between the channels so they share the machine's moments. The claim: the largest within
   1.3x of the smallest (a broadcast writes nothing per subscriber).
2. With 1,000 subscribers online on one daphne worker: broadcast-to-receive p50/p99 (from just before
   the owner's POST to each socket's receipt of `broadcast.new`), against a plain chat message
   POSTed to a 100-member group (to each of the 99 other members' `message.new`), in turns.
3. `GET /api/conversations/` for a person with 200 channels and 50 chats against one with the same 50
   chats only, in turns, over HTTP to the same worker.

    python bench/channels_bench.py [--sizes 1000,100000,1000000] [--rounds 9] [--database-url URL] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    BIN,
    HOST,
    ROOT,
    Client,
    close_all,
    free_port,
    migrate_and_seed,
    open_all,
    pct,
    print_log_tails,
    raise_fd_limit,
    start_ours,
    stop,
    write_section,
)

SECTION = "Channels: broadcast cost and reach"

# Seeding, in `manage.py shell` (harness.SEED_PRELUDE first). People are made by one INSERT ... SELECT
# over a generated series (SQLite: a recursive CTE; PostgreSQL: generate_series), subscriptions by
# one INSERT ... SELECT from the people: a million of each in seconds, not hours of ORM calls.
SEED = r"""
import time
from django.db import connection, transaction
from django.utils import timezone
from accounts.models import User
from articles import services as articles
from chat.models import Channel, Conversation, Membership, Message
from chat.services import channels

SIZES = %(sizes)s
# One owner runs every channel here; the limit is for people, not for a benchmark's seeding.
channels.MAX_CHANNELS_PER_OWNER = 10**6
LIVE = %(live)d
GROUP = %(group)d
started = time.perf_counter()
now = timezone.now()
postgres = connection.vendor == "postgresql"


def people(prefix, count):
    # Rows as User.save would make them (no password: tokens only), kind person.
    series = (
        "SELECT generate_series(1, %%s) AS i" if postgres
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %%s) SELECT i FROM n"
    )
    concat = "(%%s || i)"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
            "is_active, date_joined, display_name, display_name_key, bio, feed_uses_chats, verification, kind) "
            f"SELECT '!', %%s, {concat}, '', '', '', %%s, %%s, %%s, '', '', '', %%s, 'none', 'person' "
            f"FROM ({series}) AS s",
            [False, prefix, False, True, now, True, count],
        )
    people = User.objects.filter(username__startswith=prefix, kind="person")
    return list(people.order_by("pk").values_list("pk", flat=True))


def subscribe_all(channel, user_ids_sql, params):
    stream = Conversation.objects.get(channel=channel, kind="channel")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO chat_membership (conversation_id, user_id, role, joined_at, last_read_message_id, "
            "visible_after_message_id, muted) SELECT %%s, id, 'member', %%s, 0, 0, %%s FROM accounts_user "
            f"WHERE {user_ids_sql}",
            [stream.pk, now, False, *params],
        )
        count = cursor.rowcount
    Channel.objects.filter(pk=channel.pk).update(subscriber_count=count)
    return count


with transaction.atomic():
    owner = make_user("owner")
    article = articles.article_publish(
        author=owner, article=articles.article_create(author=owner, title="News", body="Words.")
    )
    crowd = people("crowd", max(SIZES))
    low = crowd[0]
    sized, counted = {}, {}
    for size in SIZES:
        channel = channels.channel_create(owner=owner, username=f"size{size}", display_name=f"Size {size}")
        subscribe_all(channel, "id >= %%s AND id < %%s", [low, low + size])
        sized[size] = channel.account.username
        # Counted back from the table, not taken from the INSERT: what the benchmark claims is there.
        counted[size] = Membership.objects.filter(conversation__channel=channel).count()
seeded_crowd = time.perf_counter() - started

with transaction.atomic():
    live_channel = channels.channel_create(owner=owner, username="live", display_name="Live")
    live = people("live", LIVE)
    subscribe_all(live_channel, "kind = 'person' AND username LIKE %%s", ["live%%"])
    members = people("member", GROUP)
    group = Conversation.objects.create(kind="group", title="Hundred", created_by_id=members[0])
    Membership.objects.bulk_create([Membership(conversation=group, user_id=uid) for uid in members])
    # The conversation list: 'heavy' has 200 channels and 50 chats, 'light' the same 50 chats only.
    heavy, light = make_user("heavy"), make_user("light")
    others = people("friend", 50)
    for person in (heavy, light):
        for other in others:
            chat = Conversation.objects.create(kind="direct", direct_key=Conversation.key_for_pair(person.pk, other))
            Membership.objects.bulk_create(
                [Membership(conversation=chat, user=person), Membership(conversation=chat, user_id=other)]
            )
            message = Message.objects.create(conversation=chat, sender_id=other, body="hello there")
            Conversation.objects.filter(pk=chat.pk).update(last_message=message)
    for n in range(200):
        channel = channels.channel_create(owner=owner, username=f"list{n}", display_name=f"List {n}")
        channels.channel_subscribe(user=heavy, channel=channel)
        stream = Conversation.objects.get(channel=channel, kind="channel")
        message = Message.objects.create(conversation=stream, sender=channel.account, body=f"Broadcast {n}")
        Conversation.objects.filter(pk=stream.pk).update(last_message=message)

tokens = {uid: token_for(user=User(pk=uid)).key for uid in [owner.pk, heavy.pk, light.pk, *live, *members]}
report({
    "tokens": tokens, "owner": owner.pk, "article": article.pk, "sized": sized, "counted": counted, "live": live,
    "members": members, "group": group.pk, "heavy": heavy.pk, "light": light.pk,
    "seeded_crowd": seeded_crowd, "seeded_all": time.perf_counter() - started,
})
"""

# Commit time, in its own `manage.py shell`: each round broadcasts once to every sized channel, in a
# rotating order; the time is broadcast_create's call, whose transaction commits before it returns.
COMMITS = r"""
import json, time
from accounts.models import User
from chat.channel_data import channel_by_username
from chat.services import channels

owner = User.objects.get(username="owner")
names = %(names)s
times = {name: [] for name in names}
for name in names:  # warm-up, not timed: the first write of each channel's rows and the ORM's caches
    channels.broadcast_create(sender=owner, channel=channel_by_username(name), title="Warm-up", articles=[%(article)d])
for round_ in range(%(rounds)d):
    order = names[round_ %% len(names):] + names[:round_ %% len(names)]
    for name in order:
        channel = channel_by_username(name)
        started = time.perf_counter()
        channels.broadcast_create(sender=owner, channel=channel, title=f"Round {round_}", articles=[%(article)d])
        times[name].append(time.perf_counter() - started)
print("BENCH_COMMITS " + json.dumps(times))
"""


def commit_times(env: dict, data: dict, rounds: int) -> dict[str, list[float]]:
    names = [data["sized"][str(size)] for size in sorted(map(int, data["sized"]))]
    code = COMMITS % {"names": names, "rounds": rounds, "article": data["article"]}
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise RuntimeError("commit timing failed")
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH_COMMITS "))
    return json.loads(line.split(" ", 1)[1])


def post(base: str, token: str, path: str, body: dict | None = None, method: str = "POST") -> tuple[int, bytes]:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def reach(base: str, ws_url: str, data: dict, rounds: int) -> dict:
    """Broadcast to 1,000 open sockets and a message to a 100-member group, in turns."""
    tokens = data["tokens"]
    pending: dict[str, tuple[float, set[int]]] = {}
    latencies = {"broadcast": [], "group": []}

    def on_frame(client, frame, now):
        kind = frame.get("type")
        if kind == "broadcast.new":
            key = f"b{frame['broadcast']['title']}"
        elif kind == "message.new" and client is not members[0]:
            key = f"g{frame['message']['body']}"
        else:
            return
        if key in pending:
            started, waiting = pending[key]
            waiting.discard(client.id)
            latencies["broadcast" if key[0] == "b" else "group"].append(now - started)

    clients = [Client(f"{ws_url}?token={tokens[uid]}", on_frame) for uid in data["live"]]
    members = [Client(f"{ws_url}?token={tokens[uid]}", on_frame) for uid in data["members"]]
    await open_all(clients + members, concurrency=50)
    owner, sender = tokens[data["owner"]], tokens[data["members"][0]]
    try:
        for round_ in range(rounds):
            for kind in ("broadcast", "group") if round_ % 2 == 0 else ("group", "broadcast"):
                tag = f"{kind}-{round_}"
                if kind == "broadcast":
                    pending[f"b{tag}"] = (time.perf_counter(), {c.id for c in clients})
                    status, body = await asyncio.to_thread(
                        post,
                        base,
                        owner,
                        "/api/channels/live/broadcasts/",
                        {"title": tag, "articles": [data["article"]]},
                    )
                else:
                    pending[f"g{tag}"] = (time.perf_counter(), {c.id for c in members[1:]})
                    status, body = await asyncio.to_thread(
                        post, base, sender, f"/api/conversations/{data['group']}/messages/", {"body": tag}
                    )
                assert status == 201, (status, body[:200])
                deadline = time.monotonic() + 30
                key = ("b" if kind == "broadcast" else "g") + tag
                while pending[key][1] and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
                lost = len(pending[key][1])
                assert not lost, f"{lost} sockets missed {tag}"
    finally:
        await close_all(clients + members)
    return latencies


def conversation_lists(base: str, data: dict, rounds: int) -> dict[str, list[float]]:
    times = {"heavy": [], "light": []}
    for round_ in range(rounds):
        for who in ("heavy", "light") if round_ % 2 == 0 else ("light", "heavy"):
            started = time.perf_counter()
            status, body = post(base, data["tokens"][data[who]], "/api/conversations/", method="GET")
            times[who].append(time.perf_counter() - started)
            assert status == 200
            rows = json.loads(body)
            # The list holds at most 200 rows, the newest first (chat.api.ConversationListView).
            assert len(rows) == (200 if who == "heavy" else 50), len(rows)
    return times


def ms(values: list[float], q: float) -> str:
    return f"{pct(values, q) * 1000:.1f}"


def table(args, data, commits, latencies, lists) -> str:
    sizes = sorted(map(int, data["sized"]))
    medians = {size: statistics.median(commits[data["sized"][str(size)]]) for size in sizes}
    smallest = medians[sizes[0]]
    lines = [
        f"Seeding: {max(sizes):,} people and the sized channels' subscriptions in {data['seeded_crowd']:.1f} s "
        f"(with the 1,000 live subscribers, the 100-member group, the 200 channels and 50 chats, and the "
        f"tokens: {data['seeded_all']:.1f} s).",
        "",
        f"### 1. Commit time of one broadcast ({args.rounds} rounds per channel, rotating order)",
        "",
        f"| subscribers (counted in the table) | median ms | min ms | max ms | vs {sizes[0]:,} |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        values = commits[data["sized"][str(size)]]
        lines.append(
            f"| {data['counted'][str(size)]:,} | {medians[size] * 1000:.2f} | {min(values) * 1000:.2f} "
            f"| {max(values) * 1000:.2f} "
            f"| {medians[size] / smallest:.2f}x |"
        )
    b, g = latencies["broadcast"], latencies["group"]
    lines += [
        "",
        f"### 2. To the open sockets ({args.reach_rounds} of each, in turns, one worker)",
        "",
        "| what | receipts | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        f"| broadcast to 1,000 subscribers online | {len(b)} | {pct(b, 50) * 1000:.1f} | {pct(b, 99) * 1000:.1f} |",
        f"| message to a 100-member group (99 others) | {len(g)} | {pct(g, 50) * 1000:.1f} | {pct(g, 99) * 1000:.1f} |",
        "",
        f"Broadcast / group: p50 {pct(b, 50) / pct(g, 50):.2f}x, p99 {pct(b, 99) / pct(g, 99):.2f}x "
        "(ten times the receivers).",
        "",
        f"### 3. GET /api/conversations/ ({args.list_rounds} of each, in turns)",
        "",
        "| person | rows | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        f"| 200 channels + 50 chats | 200 (the cap) | {ms(lists['heavy'], 50)} | {ms(lists['heavy'], 99)} |",
        f"| 50 chats only | 50 | {ms(lists['light'], 50)} | {ms(lists['light'], 99)} |",
        "",
        f"With channels / without: p50 {pct(lists['heavy'], 50) / pct(lists['light'], 50):.2f}x.",
    ]
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000,1000000", help="subscribers per sized channel")
    parser.add_argument("--rounds", type=int, default=9, help="broadcasts per sized channel")
    parser.add_argument("--reach-rounds", type=int, default=20, help="broadcasts and group messages each")
    parser.add_argument("--list-rounds", type=int, default=40, help="conversation lists per person")
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL (a fresh database); SQLite in a temp dir if unset"
    )
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    raise_fd_limit(1200)
    with tempfile.TemporaryDirectory(prefix="channels-bench-") as tmp:
        tmp = Path(tmp)
        env = {
            **os.environ,
            "DATABASE_URL": args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}",
            "BROADCASTS_PER_DAY": "100000000",
            "CHAT_MESSAGES_PER_SECOND": "100000",
            "MAX_SOCKETS_PER_USER": "100000",
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
        }
        env.pop("REDIS_URL", None)
        print(f"seeding {max(sizes):,} people ...", flush=True)
        data = migrate_and_seed(env, SEED % {"sizes": sizes, "live": 1000, "group": 100})
        print(f"seeded in {data['seeded_all']:.1f} s; timing commits ...", flush=True)
        commits = commit_times(env, data, args.rounds)
        port = free_port()
        worker = start_ours(port, env, tmp / "worker.log")
        try:
            base, ws_url = f"http://{HOST}:{port}", f"ws://{HOST}:{port}/ws/"
            print("reach ...", flush=True)
            latencies = asyncio.run(reach(base, ws_url, data, args.reach_rounds))
            print("conversation lists ...", flush=True)
            lists = conversation_lists(base, data, args.list_rounds)
        except Exception:
            print_log_tails(tmp)
            raise
        finally:
            stop(worker)
    text = table(args, data, commits, latencies, lists)
    print(text)
    if not args.no_write:
        database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite (WAL)"
        write_section(
            SECTION,
            "make bench-channels",
            text,
            run=f"; {database}, in-memory channel layer, one daphne worker -v0",
            on_machine=f"; load average {os.getloadavg()[0]:.1f} at the end (`uptime`), other helpers' jobs "
            "sharing the machine: compare rows of one run, not runs",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

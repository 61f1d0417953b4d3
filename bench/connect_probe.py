"""What one reconnect costs the worker outside daphne, piece by piece, in-process (issue 21, "Connect storm").

Seeds the storm bench's data (users in contact pairs, one missed message from each member, so
each user has two events to replay) into a fresh SQLite file, or into `--database-url`'s
PostgreSQL database with `--redis-url`'s cache, then times, per user, each piece of the work a
socket's connect and resume make in the worker's threads: the token lookup, the resume limit, the presence count
(open and close), the user's channels, the replay plan and the replay of the two messages (the
shared page dropped each time, as across users). CPU (process time) and wall time per call.

    .venv/bin/python bench/connect_probe.py
    .venv/bin/python bench/connect_probe.py --database-url postgres://postgres@127.0.0.1:5432/NAME_db \\
        --redis-url redis://127.0.0.1:6379/N
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=400, help="even")
    parser.add_argument("--database-url", help="a PostgreSQL database to use (its tables are made afresh)")
    parser.add_argument("--redis-url", help="with --database-url: the cache's Redis")
    parser.add_argument("--queries", action="store_true", help="also print each piece's SQL statements (one user)")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="connect-probe-")
    os.environ.update(DJANGO_SETTINGS_MODULE="config.settings.base", DEBUG="false")
    os.environ.update(CACHE_PREFIX=f"probe{os.getpid()}", CHANNEL_PREFIX=f"probe{os.getpid()}")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp.name}/probe.sqlite3"
    os.environ.pop("REDIS_URL", None)
    if args.redis_url:
        os.environ["REDIS_URL"] = args.redis_url
    sys.path[:0] = [str(ROOT)]
    sys.path.append(str(ROOT / "bench"))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.database_url:
        call_command("flush", interactive=False, verbosity=0)

    from harness import befriend, make_user

    from accounts import limits, ws_auth
    from accounts.services import token_for
    from chat.channel_data import subscribed_channel_ids
    from chat.services import OutgoingMessage, message_send_many
    from realtime import presence, selectors
    from realtime.models import UserStream

    users = [make_user(f"p{i}") for i in range(args.users)]
    pairs = [(users[i], users[i + 1], befriend(users[i], users[i + 1]).pk) for i in range(0, len(users), 2)]
    sends = [
        OutgoingMessage(sender=user, conversation_id=conversation, body="missed", client_id=f"m{user.pk}")
        for a, b, conversation in pairs
        for user in (a, b)
    ]
    message_send_many(sends=sends)
    tokens = {user.pk: token_for(user=user).key for user in users}
    last = dict(UserStream.objects.values_list("user_id", "last_seq"))

    def presence_open_and_close(user):
        presence.socket_opening(user, most=20)
        presence.socket_closing(user)

    def replay(user):
        selectors._shared.clear()  # as for another user: the page is not shared
        return selectors.replay_batch(viewer=user, after=last[user.pk] - 2, up_to=last[user.pk], limit=100)

    def replay_start(user):
        selectors._shared.clear()
        return selectors.replay_start(viewer=user, after=last[user.pk] - 2, limit=100)

    def resume_limit(user):
        limits.take("resume", str(user.pk), limit=1000, window=timedelta(minutes=1))

    pieces = {
        "token lookup": lambda user: ws_auth._active_owner(tokens[user.pk]),
        "the resume limit (a count in the cache)": resume_limit,
        "presence count, open and close (first socket)": presence_open_and_close,
        "the user's channels": subscribed_channel_ids,
        "replay plan": lambda user: selectors.replay_plan(user_id=user.pk, after=last[user.pk] - 2),
        "replay of 2 messages": replay,
        "replay start: plan and first page (the hop)": replay_start,
    }
    if args.queries:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for name, piece in pieces.items():
            piece(users[0])  # prepared first, as in a warm worker
            with CaptureQueriesContext(connection) as queries:
                piece(users[1])
            print(f"{name}: {len(queries)} statement(s)")
            for query in queries:
                print(f"    {query['sql'][:300]}")
    print(f"{'piece':48} {'CPU':>9} {'wall':>9}  (per call, {len(users)} users)")
    for name, piece in pieces.items():
        for user in users[:20]:  # warm: prepared statements, connections
            piece(user)
        began, cpu = time.perf_counter(), time.process_time()
        for user in users:
            piece(user)
        wall = (time.perf_counter() - began) / len(users) * 1000
        cpu = (time.process_time() - cpu) / len(users) * 1000
        print(f"{name:48} {cpu:6.3f} ms {wall:6.3f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

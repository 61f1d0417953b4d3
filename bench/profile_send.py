"""Where does one message send go? Times and profiles the sync send path.

Runs `chat.services.message_send` (a batch of one through `message_send_many`, what REST
does and what the socket writer does when one send is waiting) in this process with no
server, wrapped the way `database_sync_to_async` wraps it (`close_old_connections`
before and after), against a fresh temp SQLite file. Vary one thing at a time with the environment, e.g.
`DEBUG=0 .venv/bin/python bench/profile_send.py`.

    .venv/bin/python bench/profile_send.py [--count N] [--profile] [--members 2|100]
"""

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tandem-prof-"))
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: Path) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--members", type=int, default=2, help="conversation size (2: direct)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-close", action="store_true", help="skip close_old_connections (keep the connection)")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'p.sqlite3'}"
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=os.environ, check=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import close_old_connections, connection
    from harness import befriend, make_user

    from chat.serializers import message_data
    from chat.services import check_member_conversation, conversation_create, message_send

    people = [make_user(f"u{i}") for i in range(args.members)]
    for other in people[1:]:
        conv = befriend(people[0], other)
    if args.members > 2:
        conv, _ = conversation_create(creator=people[0], usernames=[p.username for p in people[1:]], title="g")
    sender = people[0]

    def one(i):
        if not args.no_close:
            close_old_connections()
        message, _ = message_send(
            sender=sender,
            conversation=check_member_conversation(user=sender, conversation_id=conv.pk),
            body=f"b{i}",
            client_id=f"c{i}",
        )
        data = message_data(message)
        if not args.no_close:
            close_old_connections()
        return data

    one(-1)
    prof = cProfile.Profile() if args.profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    for i in range(args.count):
        one(i)
    if prof:
        prof.disable()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    queries = len(connection.queries) if settings.DEBUG else "n/a (DEBUG off)"
    print(
        f"DEBUG={settings.DEBUG} CONN_MAX_AGE={settings.DATABASES['default']['CONN_MAX_AGE']} "
        f"members={args.members} close_old_connections={'no' if args.no_close else 'yes'}: "
        f"{args.count} sends in {dt:.2f} s = {1000 * dt / args.count:.2f} ms each, "
        f"{args.count / dt:.0f}/s; CPU {1000 * cpu / args.count:.2f} ms each (queries logged: {queries})"
    )
    if prof:
        stats = pstats.Stats(prof)
        total = sum(row[3] for key, row in stats.stats.items() if key[2] == "one")
        print(f"profiled total {1000 * total / args.count:.1f} ms per send; inclusive share of each step:")
        wanted = [
            ("chat/services.py", "check_member_conversation"),
            ("chat/services.py", "message_send_many"),
            ("chat/services.py", "_direct_refusals"),
            ("chat/services.py", "_store"),
            ("chat/services.py", "check_text"),
            ("chat/selectors.py", "member_ids"),
            ("realtime/services.py", "events_publish_many"),
            ("realtime/services.py", "_seqs_reserve"),
            ("realtime/services.py", "_push"),
            ("chat/serializers.py", "message_data"),
            ("django/db/transaction.py", "__exit__"),
            ("django/db/__init__.py", "close_old_connections"),
            ("django/db/backends/base/base.py", "connect"),
            ("django/db/backends/utils.py", "execute"),
            ("django/db/models/query.py", "_fetch_all"),
            ("django/db/models/query.py", "create"),
            ("django/db/models/query.py", "update"),
            ("django/db/models/query.py", "bulk_create"),
        ]
        for suffix, name in wanted:
            rows = [(k, r) for k, r in stats.stats.items() if k[0].endswith(suffix) and k[2] == name]
            calls = sum(r[1] for _, r in rows)
            cum = sum(r[3] for _, r in rows)
            per = 1000 * cum / args.count
            print(
                f"  {suffix}:{name:24s} {calls / args.count:5.1f} calls/send {per:7.2f} ms {100 * cum / total:5.1f} %"
            )
        stats.sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()

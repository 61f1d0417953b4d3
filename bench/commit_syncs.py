"""Which chat sends sync the disk in their commit, on the embedded default with its checkpoint thread.

Sends `--count` messages through `message_send_many` (as the socket's writer does), `--pause`
seconds apart, on a fresh SQLite file with the serving process's checkpoint thread running
(common.sqlite_checkpoints), and prints the sending thread's id and each send's start and end.
Run it under strace to see which of them called fdatasync:

    strace -f -ttt -T -e trace=fsync,fdatasync -o /tmp/syncs.txt .venv/bin/python bench/commit_syncs.py
    grep "^<sender tid> " /tmp/syncs.txt

With synchronous=NORMAL a commit syncs nothing, except the first one after a complete checkpoint:
it starts the log over and syncs its header (bench/RESULTS.md, "Chat: the writer on the event loop").
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=8)
    ap.add_argument("--pause", type=float, default=0.6, help="seconds between sends")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tandem-syncs-") as tmp:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="config.settings.base", DATABASE_URL=f"sqlite:///{tmp}/db.sqlite3", DEBUG="false"
        )
        os.environ.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True)
        sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
        import django

        django.setup()
        from harness import befriend, make_user

        from chat.services import OutgoingMessage, message_send_many
        from common.sqlite_checkpoints import start_sqlite_checkpoints
        from realtime.services import pushes_deferred

        sender = make_user("syncs-a")
        chat = befriend(sender, make_user("syncs-b"))
        start_sqlite_checkpoints()
        print(f"sender tid {threading.get_native_id()}", flush=True)
        for n in range(args.count):
            time.sleep(args.pause)
            started = time.time()
            with pushes_deferred():
                send = OutgoingMessage(sender=sender, conversation_id=chat.pk, body=f"m{n}", client_id=f"c{n}")
                message_send_many(sends=[send])
            print(f"send {n}: {started:.6f} to {time.time():.6f}", flush=True)


if __name__ == "__main__":
    main()

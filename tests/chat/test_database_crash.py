"""PostgreSQL crashes under a live worker just after a chat send: the send, acknowledged, is lost
(its commit had not reached the disk: CHAT_SYNCHRONOUS_COMMIT=off), and its seq is given to the next
message. The receiver, whose socket stayed open, is closed with 4012, resumes with the store's old
epoch, is told to resync, and its reload has the next message: nothing it was sent goes missing.

The server is a PostgreSQL cluster of the test's own (initdb in a temporary directory), never the
shared one. The crash is one of its processes killed (the WAL writer, SIGKILL): PostgreSQL then ends
every other one and starts again from its log on disk, without restarting itself, so the write-ahead
log's buffers in its shared memory are gone. The WAL writer is stopped (SIGSTOP) just before the
send that is to be lost: with it the only writer of an asynchronous commit's log record, that record
is still in those buffers when it is killed.
"""

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail
from tests.live import ROOT, LiveDaphne, Socket, free_port, rest

pytestmark = [pytest.mark.live]

SEED = """
import json
from accounts.services import token_for
from tests import factories
alice, bob = factories.UserFactory(username="alice"), factories.UserFactory(username="bob")
conversation = factories.befriend(alice, bob)
print(json.dumps({"alice": token_for(user=alice).key, "bob": token_for(user=bob).key, "conversation": conversation.pk}))
"""


def _postgres_bin() -> Path | None:
    # Debian's own directory first: its /usr/bin has wrappers only for some of the programs.
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    initdb = found[0] if found else shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, on a free port (as the `postgres` user when
    the tests run as root: PostgreSQL refuses to run as root)."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="tandem-pg-"))
        self.data = self.directory / "data"
        self.owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self.owner is not None:
            os.chown(self.directory, self.owner.pw_uid, self.owner.pw_gid)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/tandem"

    def run(self, *command: str) -> str:
        prefix = ["runuser", "-u", "postgres", "--"] if self.owner is not None else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120, cwd=self.directory)
        assert done.returncode == 0, f"{command[0]} failed: {done.stdout}{done.stderr}"
        return done.stdout

    def start(self) -> None:
        self.run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        log = str(self.directory / "log")
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        self.sql("postgres", "CREATE DATABASE tandem")

    def sql(self, database: str, statement: str) -> str:
        where = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]
        return self.run(str(self.bin / "psql"), *where, "-Atc", statement)

    def stop_wal_writer(self) -> None:
        """Stops (SIGSTOP) the process that writes asynchronous commits' log records out."""
        self.wal_writer = int(self.sql("tandem", "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'"))
        os.kill(self.wal_writer, signal.SIGSTOP)

    def crash(self) -> None:
        """Kills the WAL writer; PostgreSQL takes it as a crash of the server and recovers from its log."""
        os.kill(self.wal_writer, signal.SIGKILL)

    def wait_recovered(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(AssertionError):
                if self.sql("tandem", "SELECT NOT pg_is_in_recovery()").strip() == "t":
                    return
            assert time.monotonic() < deadline, "PostgreSQL did not come back from the crash"
            time.sleep(0.1)

    def stop(self) -> None:
        with contextlib.suppress(AssertionError, subprocess.SubprocessError):
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def private_postgres():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        skip_or_fail("the crash test runs with a PostgreSQL DATABASE_URL", "REQUIRE_SERVICES")
    bin_dir = _postgres_bin()
    if bin_dir is None:
        skip_or_fail("PostgreSQL's initdb is not installed", "REQUIRE_SERVICES")
    server = PrivatePostgres(bin_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _messages(server, token: str, conversation: int) -> list[str]:
    page = rest(server, token, "GET", f"/api/conversations/{conversation}/messages/").json()
    return [message["body"] for message in page["results"]]


def test_a_send_lost_in_a_crash_of_postgresql_makes_open_sockets_resync_not_miss_the_next(private_postgres):
    env = {
        **{key: value for key, value in os.environ.items() if key != "REDIS_URL"},  # in-memory layer and cache
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": private_postgres.url,
    }
    _manage(env, "migrate", "-v", "0")
    seeded = json.loads(_manage(env, "shell", "-c", SEED).strip().splitlines()[-1])
    alice, bob, conversation = seeded["alice"], seeded["bob"], seeded["conversation"]
    server = LiveDaphne(env)
    server.start()
    try:
        sender, receiver = Socket.open(server, alice), Socket.open(server, bob)
        receiver.send(type="resume", after=0)
        before = receiver.until("resume.done")[-1]

        private_postgres.stop_wal_writer()
        sender.send(type="message.send", conversation=conversation, body="acknowledged, then lost", client_id="lost")
        assert sender.expect("message.ack", skip=["presence", "message.new"])["client_id"] == "lost"
        pushed = receiver.expect("message.new", skip=["presence"])
        assert pushed["message"]["body"] == "acknowledged, then lost"
        lost_seq = pushed["seq"]

        private_postgres.crash()
        private_postgres.wait_recovered()
        # The worker's connections died with the server's processes; its next statement fails, and
        # the send goes again on a new connection, which finds the new epoch: every socket of the
        # worker is closed (4012), the sender's too, maybe before its ack. Its client sends again
        # with the same client_id, as static/js does, and the message is stored once.
        sender.send(type="message.send", conversation=conversation, body="after the crash", client_id="next")
        assert sender.wait_closed(timeout=30).code == 4012
        sender = Socket.open(server, alice)
        sender.send(type="message.send", conversation=conversation, body="after the crash", client_id="next")
        assert sender.expect("message.ack", skip=["presence", "message.new"])["client_id"] == "next"

        # Lost, and its seq given again (what a client holding the old numbers would skip as seen).
        assert _messages(server, bob, conversation) == ["after the crash"]
        seqs = private_postgres.sql(
            "tandem",
            "SELECT seq FROM realtime_event e JOIN accounts_user u ON u.id = e.user_id "
            "WHERE u.username = 'bob' ORDER BY seq DESC LIMIT 1",
        )
        assert int(seqs) == lost_seq

        # The receiver's socket is closed to resume; its resume with the old epoch resyncs.
        assert receiver.wait_closed(timeout=10).code == 4012
        again = Socket.open(server, bob)
        again.send(type="resume", after=lost_seq, epoch=before["epoch"])
        answer = again.expect_any(("resync", "error"), skip=["presence"])
        if answer["type"] == "error":
            # This worker's replay thread still had its connection from before the crash (checked at
            # most once a second): the replay failed, and the client resumes again, as socket.js does.
            assert answer["code"] == "server_error", answer
            again.send(type="resume", after=lost_seq, epoch=before["epoch"])
            answer = again.expect("resync", skip=["presence"])
        resync = answer
        assert resync["epoch"] != before["epoch"] and resync["last"] == lost_seq
        assert _messages(server, bob, conversation) == ["after the crash"]
        # With the new epoch, the next resume replays as before.
        again.send(type="resume", after=resync["last"], epoch=resync["epoch"])
        assert again.expect("resume.done")["epoch"] == resync["epoch"]
        for socket in (sender, again):
            socket.close()
    finally:
        server.stop()

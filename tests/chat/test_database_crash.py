"""PostgreSQL crashes under a live worker just after a chat send: the send, acknowledged, is lost (its
commit had not reached the disk: CHAT_SYNCHRONOUS_COMMIT=off), and its seq is given to the next
message. The receiver, whose socket stayed open, is closed with 4012, resumes with the store's old
epoch, is told to resync, and its reload has the next message: nothing it was sent goes missing.

The server is a PostgreSQL cluster of this module's own (initdb in a temporary directory), never the
shared one, with a database of each test's own made from a migrated template. The crash is one of
its processes killed (the WAL writer, SIGKILL): PostgreSQL then ends every other one and starts
again from its log on disk, without restarting itself, so the write-ahead log's buffers in its
shared memory are gone. The WAL writer is stopped (SIGSTOP) just before the send that is to be lost:
with it the only writer of an asynchronous commit's log record, that record is still in those
buffers when it is killed.
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
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.conftest import skip_or_fail
from tests.live import ROOT, LiveDaphne, Socket, free_port, log_in, rest

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
        self.wal_writer: int | None = None

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

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

    def sql(self, database: str, statement: str) -> str:
        where = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database]
        return self.run(str(self.bin / "psql"), *where, "-Atc", statement)

    def stop_wal_writer(self) -> None:
        """Stops (SIGSTOP) the process that writes asynchronous commits' log records out."""
        self.wal_writer = int(self.sql("postgres", "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walwriter'"))
        os.kill(self.wal_writer, signal.SIGSTOP)

    def crash(self) -> None:
        """Kills the WAL writer; PostgreSQL takes it as a crash of the server and recovers from its log."""
        os.kill(self.wal_writer, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(AssertionError):
                if self.sql("postgres", "SELECT NOT pg_is_in_recovery()").strip() == "t":
                    return
            assert time.monotonic() < deadline, "PostgreSQL did not come back from the crash"
            time.sleep(0.1)

    def stop(self) -> None:
        with contextlib.suppress(AssertionError, subprocess.SubprocessError):
            self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


def _env(database_url: str) -> dict:
    return {
        **{key: value for key, value in os.environ.items() if key != "REDIS_URL"},  # in-memory layer and cache
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url,
    }


def _manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def private_postgres():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        skip_or_fail("the crash tests run with a PostgreSQL DATABASE_URL", "REQUIRE_SERVICES")
    bin_dir = _postgres_bin()
    if bin_dir is None:
        skip_or_fail("PostgreSQL's initdb is not installed", "REQUIRE_SERVICES")
    server = PrivatePostgres(bin_dir)
    try:
        server.start()
        server.sql("postgres", "CREATE DATABASE tandem_template")
        _manage(_env(server.url("tandem_template")), "migrate", "-v", "0")
        yield server
    finally:
        server.stop()


@dataclass
class World:
    postgres: PrivatePostgres
    database: str
    server: LiveDaphne
    alice: str  # token keys
    bob: str
    conversation: int

    def messages(self) -> list[str]:
        """Bob's view of the conversation over REST, oldest first."""
        page = rest(self.server, self.bob, "GET", f"/api/conversations/{self.conversation}/messages/").json()
        return [message["body"] for message in page["results"]]

    def last_event_seq(self) -> int:
        statement = (
            "SELECT seq FROM realtime_event e JOIN accounts_user u ON u.id = e.user_id "
            "WHERE u.username = 'bob' ORDER BY seq DESC LIMIT 1"
        )
        return int(self.postgres.sql(self.database, statement))

    def send_across_the_crash(self, sender: Socket) -> Socket:
        """Alice sends "after the crash". The worker's connections died with the server's processes:
        its next statement fails, and the send goes again on a new connection, which finds the new
        epoch. Every socket of the worker is then closed (4012), the sender's too, maybe before its
        ack; its client sends again with the same client_id (as static/js does), and the message is
        stored once. Returns the sender's new socket."""
        sender.send(type="message.send", conversation=self.conversation, body="after the crash", client_id="next")
        assert sender.wait_closed(timeout=30).code == 4012
        sender = Socket.open(self.server, self.alice)
        sender.send(type="message.send", conversation=self.conversation, body="after the crash", client_id="next")
        assert sender.expect("message.ack", skip=["presence", "message.new"])["client_id"] == "next"
        return sender


@pytest.fixture
def world(private_postgres):
    """A database of this test's own on the private cluster, with Alice and Bob, contacts, and a
    daphne serving it."""
    database = f"tandem_{uuid.uuid4().hex[:8]}"
    private_postgres.sql("postgres", f"CREATE DATABASE {database} TEMPLATE tandem_template")
    env = _env(private_postgres.url(database))
    seeded = json.loads(_manage(env, "shell", "-c", SEED).strip().splitlines()[-1])
    server = LiveDaphne(env)
    server.start()
    try:
        yield World(private_postgres, database, server, seeded["alice"], seeded["bob"], seeded["conversation"])
    finally:
        server.stop()


def test_a_send_lost_in_a_crash_of_postgresql_makes_open_sockets_resync_not_miss_the_next(world):
    sender, receiver = Socket.open(world.server, world.alice), Socket.open(world.server, world.bob)
    receiver.send(type="resume", after=0)
    before = receiver.until("resume.done")[-1]

    world.postgres.stop_wal_writer()
    sender.send(type="message.send", conversation=world.conversation, body="acknowledged, then lost", client_id="lost")
    assert sender.expect("message.ack", skip=["presence", "message.new"])["client_id"] == "lost"
    pushed = receiver.expect("message.new", skip=["presence"])
    assert pushed["message"]["body"] == "acknowledged, then lost"
    lost_seq = pushed["seq"]

    world.postgres.crash()
    sender = world.send_across_the_crash(sender)

    # Lost, and its seq given again (what a client holding the old numbers would skip as seen).
    assert world.messages() == ["after the crash"]
    assert world.last_event_seq() == lost_seq

    # The receiver's socket is closed to resume; its resume with the old epoch resyncs.
    assert receiver.wait_closed(timeout=10).code == 4012
    again = Socket.open(world.server, world.bob)
    again.send(type="resume", after=lost_seq, epoch=before["epoch"])
    answer = again.expect_any(("resync", "error"), skip=["presence"])
    if answer["type"] == "error":
        # This worker's replay thread still had its connection from before the crash (checked at
        # most once a second): the replay failed, and the client resumes again, as socket.js does.
        assert answer["code"] == "server_error", answer
        again.send(type="resume", after=lost_seq, epoch=before["epoch"])
        answer = again.expect("resync", skip=["presence"])
    assert answer["epoch"] != before["epoch"] and answer["last"] == lost_seq
    # With the new epoch, the next resume replays as before.
    again.send(type="resume", after=answer["last"], epoch=answer["epoch"])
    assert again.expect("resume.done")["epoch"] == answer["epoch"]
    for socket in (sender, again):
        socket.close()


@pytest.mark.e2e
def test_an_open_chat_list_shows_the_message_sent_after_the_crash_not_the_lost_one(world, browser):
    """Bob's chat list is open through the crash (the list: an open conversation would mark the
    message read, a commit that waits for the disk, and the lost one would be kept with it)."""
    context = browser.new_context(base_url=world.server.url, viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        log_in(page, SimpleNamespace(username="bob"))
        page.goto("/chat/")
        preview = page.locator(f'#conversation-list [data-conversation="{world.conversation}"] .preview')
        sender = Socket.open(world.server, world.alice)

        world.postgres.stop_wal_writer()
        sender.send(
            type="message.send", conversation=world.conversation, body="acknowledged, then lost", client_id="lost"
        )
        assert sender.expect("message.ack", skip=["presence", "message.new"])["client_id"] == "lost"
        expect(preview).to_have_text("acknowledged, then lost")

        world.postgres.crash()
        sender = world.send_across_the_crash(sender)
        assert world.messages() == ["after the crash"]
        # The page's socket is closed, resumes with the epoch the page had, is told to resync, and
        # the page loads again: the list as it is stored now.
        expect(preview).to_have_text("after the crash", timeout=20_000)
        sender.close()
    finally:
        context.close()

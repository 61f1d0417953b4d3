"""What the chat and scale benchmarks share: daphne workers, the load client, figures, RESULTS.md.

- Workers: `ours_env` (a Tandem worker's environment, as `make run` serves it, with a
  benchmark's settings and `--ours-env KEY=VALUE`s on top), `start_daphne` (any ASGI app;
  `start_ours` for Tandem) on a free 127.0.0.1 port, `stop`, `migrate_and_seed` (a database made
  ready by a `manage.py shell` snippet, which may call `make_user`, `befriend`, `report` and
  `token_for`), and what /proc says of a process (`rss_kib`, `cpu_seconds`).
- The load client: `Client`, one WebSocket that drains everything it is sent (TCP_NODELAY,
  no compression, no client pings) and hands each frame with its receipt time to a callback;
  `open_all`, `close_all`.
- Figures and the report: `pct`, `machine`, `write_section` (each benchmark owns its
  sections of bench/RESULTS.md; a new run replaces the one with the same heading),
  `print_log_tails` (the workers' last words when a run fails).

Imported by the benchmarks in bench/ as `harness` (their own directory is on sys.path when
they run as scripts).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAPHNE = str(BIN / "daphne")
HOST = "127.0.0.1"  # the only address the benchmarks ever talk to
RESULTS = ROOT / "bench" / "RESULTS.md"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# Workers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not start")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


# Tandem as `make run` serves it (config.serve: daphne with the read deadlines, and the start-up
# work done before the port opens, its objects frozen out of the garbage collector's view). Under
# plain daphne a full collection walked them every ~660 small requests: a 110 ms stall each time,
# which was every p99 past 100 ms in the search benchmark.
SERVE = [
    *(str(BIN / "python"), "-m", "config.serve"),
    *("--websocket-max-message-size", "131072", "--http-header-timeout", "10"),
    *("--http-body-timeout", "30", "--websocket_connect_timeout", "30"),
]


def start_daphne(
    application: str,
    port: int,
    log: Path,
    *,
    cwd: Path = ROOT,
    env: dict | None = None,
    server: list[str] | None = None,
    append: bool = False,
) -> subprocess.Popen:
    """`server` (plain daphne unless given) -v0 serving `application` on HOST:port, its output in
    `log` (`append`: after what is there, as for a worker restarted); returns once it listens."""
    with log.open("a" if append else "w") as out:
        proc = subprocess.Popen(
            [*(server or [DAPHNE]), "-v0", "-b", HOST, "-p", str(port), application],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_port(port, proc)
    return proc


def start_ours(port: int, env: dict, log: Path, *, append: bool = False) -> subprocess.Popen:
    return start_daphne("config.asgi:application", port, log, env=env, server=SERVE, append=append)


# Seeding: what every seeding snippet may call (migrate_and_seed runs it in `manage.py shell`
# after SEED_PRELUDE), and what bench/profile_send.py calls in its own process. Django is
# imported inside them: the harness itself runs outside Django.


def django_in_this_process(database_url: str) -> None:
    """Migrates `database_url` and sets Django up in this process on it, DEBUG off and without Redis:
    for the benchmarks that time our code with no server (send_path, wal_pages, writer_load)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DATABASE_URL"] = database_url
    os.environ["DEBUG"] = "false"
    os.environ.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=os.environ, check=True)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def make_user(name: str):
    """A user who signs in with a token only."""
    from accounts.models import User

    user = User(username=name)
    user.set_unusable_password()
    user.save()
    return user


def befriend(a, b):
    """Contacts as people become them (a asks, b accepts, events included); their direct conversation."""
    from chat.services import contact_request_accept, contact_request_send

    request, _ = contact_request_send(sender=a, to_username=b.username)
    return contact_request_accept(user=b, request_id=request.pk)[1]


def report(out: dict) -> None:
    """What migrate_and_seed reads back: `out["tokens"]` is {user id: token key}."""
    print("BENCH_JSON " + json.dumps(out))


# bench/ goes last on the shell's path: nothing there can shadow the project's own modules.
SEED_PRELUDE = f"""
import sys
sys.path.append({str(ROOT / "bench")!r})
from accounts.services import token_for
from harness import befriend, make_user, report
"""


def ours_env(db: Path, extra: list[str] = (), **settings: str) -> dict:
    """A Tandem worker's environment as `make run` serves it: SQLite at `db`, the in-memory layer,
    and DEBUG off as the peer runs (DEBUG records every SQL statement, a few % of a send). Then
    `settings`, then each `KEY=VALUE` of `extra` (the benchmarks' `--ours-env`: a DATABASE_URL and
    REDIS_URL there put the worker on PostgreSQL + Redis)."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": f"sqlite:///{db}",
        "DEBUG": "false",
        **settings,
    }
    env.pop("REDIS_URL", None)
    env.pop("CHANNEL_LAYER", None)
    for item in extra:
        key, _, value = item.partition("=")
        env[key] = value
    return env


def migrate_and_seed(env: dict, code: str) -> dict:
    """Migrates the database in `env`, runs the seeding `code` (after SEED_PRELUDE) in
    `manage.py shell`, and returns what it passed to `report` (with the tokens keyed by user id)."""
    python = str(BIN / "python")
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    result = subprocess.run(
        [python, "manage.py", "shell", "-c", SEED_PRELUDE + code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.stderr.write(result.stderr)
        raise RuntimeError("seeding failed")
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH_JSON "))
    data = json.loads(line.split(" ", 1)[1])
    data["tokens"] = {int(k): v for k, v in data["tokens"].items()}
    return data


def raise_fd_limit(sockets: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 2 * sockets + 1024)) if hard != resource.RLIM_INFINITY else 2 * sockets + 1024
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


# Client ----------------------------------------------------------------------------------


class Client:
    """One WebSocket that drains everything it is sent and hands frames to `on_frame`."""

    ids = itertools.count()

    def __init__(self, url: str, on_frame, last_seq: int | None = None):
        self.url = url
        self.on_frame = on_frame
        self.id = next(self.ids)
        self.last_seq = last_seq
        self.ws = None
        self.task = None
        self.frames = 0

    async def open(self) -> Client:
        self.ws = await connect(
            self.url, compression=None, proxy=None, ping_interval=None, max_queue=None, open_timeout=60
        )
        sock = self.ws.transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.task = asyncio.create_task(self.drain())
        return self

    async def drain(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.perf_counter()
                self.frames += 1
                self.on_frame(self, orjson.loads(raw), now)

    async def send(self, frame: dict) -> None:
        await self.ws.send(orjson.dumps(frame).decode())

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        if self.task:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task


async def open_all(clients: list[Client], concurrency: int = 50) -> list[Client]:
    gate = asyncio.Semaphore(concurrency)

    async def one(client):
        async with gate:
            return await client.open()

    return await asyncio.gather(*(one(c) for c in clients))


async def close_all(clients) -> None:
    await asyncio.gather(*(c.close() for c in clients))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


# Report ----------------------------------------------------------------------------------


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    versions = []
    for mod in ("django", "channels", "daphne", "websockets"):
        try:
            versions.append(f"{mod.capitalize()} {__import__(mod).__version__}")
        except Exception:
            versions.append(f"{mod} ?")
    return f"{os.cpu_count()} CPUs (nproc), {model}; Python {platform.python_version()}; " + ", ".join(versions)


def replace_section(heading: str, section: str) -> None:
    """Writes `section` (which starts with `## heading`) into RESULTS, replacing the section
    with the same heading."""
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    parts = old.split("\n## ")
    kept = [parts[0].rstrip() + "\n"] + [
        "## " + part.rstrip() + "\n" for part in parts[1:] if part.split("\n", 1)[0] != heading
    ]
    RESULTS.write_text("\n".join([*kept, section]))


def write_section(heading: str, command: str, text: str, *, run: str = "", on_machine: str = "") -> None:
    """This run's section of RESULTS: the `make` command and the script's own command line, when it
    finished (then `run`: what the run was on), the machine (then `on_machine`), and `text`."""
    script = " ".join([Path(sys.argv[0]).resolve().relative_to(ROOT).as_posix(), *sys.argv[1:]])
    finished = dt.datetime.now(dt.UTC)
    lines = [
        f"## {heading}",
        "",
        f"Command: `{command}` (`{script}`), finished {finished:%H:%M} UTC{run}.",
        "",
        f"Machine: {machine()}{on_machine}.",
        "",
        text,
        "",
    ]
    replace_section(heading, "\n".join(lines))


def print_log_tails(directory: Path, lines: int = 20) -> None:
    """The last lines of every *.log in `directory` (the workers' output), on stderr: for a run that failed."""
    for log in sorted(directory.glob("*.log")):
        print(f"--- tail of {log.name}:\n" + "\n".join(log.read_text().splitlines()[-lines:]), file=sys.stderr)

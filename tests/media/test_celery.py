"""Background work on real Celery workers (MEDIA_PROCESSING="celery"): a daphne takes the upload and
queues it on Redis, a `celery -A config worker` process makes it ready, and beat prunes.

Both processes run on the test database (committed rows: transactional tests) and the test
settings' MEDIA_ROOT, with Celery keys in Redis of the test's own. Needs Redis (REDIS_URL):
skipped without it, failed instead with REQUIRE_SERVICES=1.
"""

import io
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from accounts.services import token_for
from media.models import Media
from tests.conftest import skip_or_fail
from tests.live import ROOT, LiveDaphne, daphne_env, rest, upload

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# Seconds a worker has to make an upload ready, or beat to prune one.
WAIT_SECONDS = 30


@pytest.fixture(autouse=True)
def _needs_redis():
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("REDIS_URL is not set: Celery workers need Redis", "REQUIRE_SERVICES")


@pytest.fixture
def cluster_env(tmp_path) -> Iterator[dict]:
    """The environment of the daphne and the workers of one test: the test database, uploads
    processed by Celery, Redis keys of this test only, beat pruning every second."""
    prefix = f"tandem-test-{uuid.uuid4().hex[:12]}"
    env = {
        **daphne_env(),
        "MEDIA_PROCESSING": "celery",
        "CELERY_PREFIX": prefix,
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "celerybeat-schedule"),
        "MEDIA_PRUNE_INTERVAL_SECONDS": "1",
    }
    yield env
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def server(cluster_env, tmp_path) -> Iterator[LiveDaphne]:
    with (tmp_path / "daphne.log").open("wb") as log:
        daphne = LiveDaphne(cluster_env, log=log)
        daphne.start()
        try:
            yield daphne
        finally:
            daphne.stop()


@contextmanager
def celery_worker(env: dict, log_path: Path, *, beat: bool = False) -> Iterator[subprocess.Popen]:
    """A `celery -A config worker` process (with embedded beat if asked), stopped at the end."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO"]
    command += ["--hostname", f"test-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle"]
    if beat:
        command += ["--beat", "--schedule", env["CELERY_BEAT_SCHEDULE_FILENAME"]]
    with log_path.open("wb") as log:
        # A session of its own: what it forks (embedded beat) is stopped with it.
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)


def jpeg(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "JPEG", quality=90)
    return out.getvalue()


def signed_in(user) -> dict:
    return {"Authorization": f"Token {token_for(user=user).key}"}


def wait_for(check, what: str, worker: subprocess.Popen, log_path: Path):
    """Polls `check()` until it returns something true, and returns that; fails after WAIT_SECONDS,
    or as soon as the worker exits, with the worker's log."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if found := check():
            return found
        if worker.poll() is not None or time.monotonic() > deadline:
            state = "exited" if worker.poll() is not None else "running"
            pytest.fail(f"{what}: not within {WAIT_SECONDS} s (worker {state})\n{log_path.read_text()[-4000:]}")
        time.sleep(0.2)


def test_a_worker_makes_an_upload_ready(server, cluster_env, tmp_path, alice):
    sent = upload(server, alice, jpeg(), alt="blue")
    media = sent.json()
    assert sent.status == 201
    assert media["status"] == "processing"
    assert media["url"] is None

    # No worker yet: nothing else processes it (daphne only queued it).
    time.sleep(1)
    assert rest(server, alice, "GET", f"/api/media/{media['id']}/").json()["status"] == "processing"

    log_path = tmp_path / "worker.log"
    with celery_worker(cluster_env, log_path) as worker:

        def ready():
            now = rest(server, alice, "GET", f"/api/media/{media['id']}/").json()
            return now if now["status"] != "processing" else None

        done = wait_for(ready, "the upload ready", worker, log_path)
    assert done["status"] == "ready", done
    assert (done["width"], done["height"]) == (640, 480)
    assert "process_media" in log_path.read_text()

    # And the uploader gets the display file (served by daphne from the MEDIA_ROOT the worker wrote to).
    request = urllib.request.Request(server.url + done["url"], headers=signed_in(alice))
    with urllib.request.urlopen(request, timeout=10) as response, Image.open(io.BytesIO(response.read())) as display:
        assert display.size == (640, 480)


def test_beat_has_a_worker_remove_uploads_nobody_attached_in_time(server, cluster_env, tmp_path, alice):
    log_path = tmp_path / "worker.log"
    media_root = Path(settings.MEDIA_ROOT)
    with celery_worker(cluster_env, log_path, beat=True) as worker:
        stale = upload(server, alice, jpeg(), alt="blue").json()
        fresh = upload(server, alice, jpeg(), alt="blue").json()

        def processed():
            return all(
                rest(server, alice, "GET", f"/api/media/{item['id']}/").json()["status"] == "ready"
                for item in (stale, fresh)
            )

        wait_for(processed, "both uploads ready", worker, log_path)
        stale_row = Media.objects.get(pk=stale["id"])
        stale_files = [media_root / stale_row.display_name, media_root / stale_row.thumbnail_name]
        assert all(path.exists() for path in stale_files)
        long_ago = timezone.now() - settings.MEDIA_UNATTACHED_TTL - timedelta(minutes=5)
        Media.objects.filter(pk=stale["id"]).update(created_at=long_ago)

        def pruned():
            return rest(server, alice, "GET", f"/api/media/{stale['id']}/").status == 404

        wait_for(pruned, "the stale upload pruned", worker, log_path)

    assert not any(path.exists() for path in stale_files)
    assert "prune_media" in log_path.read_text()
    assert rest(server, alice, "GET", f"/api/media/{fresh['id']}/").json()["status"] == "ready"
    fresh_row = Media.objects.get(pk=fresh["id"])
    assert (media_root / fresh_row.display_name).exists()

"""Photos through Debian's nginx in front of the daphne workers, as `make run-nginx` runs them.

The workers run with MEDIA_SERVE=accel and TRUSTED_PROXY_COUNT=1: a worker checks who asks and
answers an empty 200 with X-Accel-Redirect; nginx sends the file from its internal location.
Two workers on PostgreSQL + Redis (one channel layer and one cache between them); without
those, one worker on SQLite, so the default run still covers the accel path. REQUIRE_SERVICES=1
insists on the two.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from accounts.services import token_for
from chat import services as chat
from tests.conftest import skip_or_fail
from tests.live import ROOT, LiveDaphne, Socket, daphne_env, fetch, free_port, log_in

from .files import stored_bytes, stored_photo, url

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

NGINX = "/usr/sbin/nginx"
ADDRESS_LIMIT = 3  # failed logins per address, small so the X-Forwarded-For test reaches it


def worker_count() -> int:
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        return 2
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail("two workers need DATABASE_URL and REDIS_URL (REQUIRE_SERVICES=1 makes them required)")
    return 1  # SQLite and the in-memory channel layer do not cross processes


@pytest.fixture(scope="module")
def media_root():
    """Where the workers keep files and nginx reads them. Not under pytest's own temporary
    directory (mode 0700): run as root, nginx's workers become the checkout's owner."""
    root = Path(tempfile.mkdtemp(prefix="tandem-media-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def workers(django_db_setup, media_root):
    env = {
        **daphne_env(),
        "MEDIA_SERVE": "accel",
        "TEST_MEDIA_ROOT": str(media_root),
        "TRUSTED_PROXY_COUNT": "1",
        "LOGIN_FAILURE_LIMIT_PER_ADDRESS": str(ADDRESS_LIMIT),
    }
    servers = [LiveDaphne(env) for _ in range(worker_count())]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture(scope="module")
def nginx(workers, media_root, tmp_path_factory):
    """nginx rendered by deploy/nginx/render.py as `make run-nginx` renders it; a server-like
    object (`url`, `ws_url`) for tests/live.py's helpers."""
    if not os.access(NGINX, os.X_OK):
        skip_or_fail(f"{NGINX} is not installed (apt-get install nginx)", "REQUIRE_SERVICES")
    prefix, port = tmp_path_factory.mktemp("nginx"), free_port()
    render = [sys.executable, str(ROOT / "deploy/nginx/render.py"), "--prefix", str(prefix)]
    render += ["--listen", f"127.0.0.1:{port}", "--static-root", str(ROOT / "static"), "--media-root", str(media_root)]
    render += [argument for worker in workers for argument in ("--upstream", f"127.0.0.1:{worker.port}")]
    subprocess.run(render, check=True, capture_output=True)
    command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"nginx did not start: {process.communicate()[1].decode()}")
            time.sleep(0.1)
    try:
        yield SimpleNamespace(port=port, url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}/ws/")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(autouse=True)
def files_where_the_workers_read_them(settings, media_root):
    settings.MEDIA_ROOT = media_root


def token(user) -> dict[str, str]:
    return {"Authorization": f"Token {token_for(user=user).key}"}


def comparable(headers: dict) -> dict:
    """The headers but the date, with the policy's directives in order: django-csp writes them in
    an order that differs from one worker process to the next (hash seeds), not by answer."""
    kept = {name: value for name, value in headers.items() if name != "Date"}
    if "Content-Security-Policy" in kept:
        kept["Content-Security-Policy"] = sorted(kept["Content-Security-Policy"].split("; "))
    return kept


@pytest.fixture
def chat_photo(make_user, befriend):
    sender, member, stranger = make_user(username="sender"), make_user(username="member"), make_user()
    conversation = befriend(sender, member)
    message, _ = chat.message_send(sender=sender, conversation=conversation, body="a photo")
    photo = stored_photo(sender, attach_to=("message", message.pk))
    return SimpleNamespace(photo=photo, sender=sender, member=member, stranger=stranger, conversation=conversation)


def test_a_member_gets_a_chat_photo_sent_by_nginx(nginx, workers, chat_photo):
    photo, expected = chat_photo.photo, stored_bytes(chat_photo.photo)
    status, headers, body = fetch(nginx, url(photo), **token(chat_photo.member))
    assert (status, body) == (200, expected)
    assert "X-Accel-Redirect" not in headers
    assert headers["Content-Type"] == "image/webp" and headers["Content-Disposition"] == "inline"
    # The worker's validators and caching, not nginx's file-based ones.
    assert headers["ETag"] == f'"{photo.key}.display"' and "Last-Modified" not in headers
    assert headers["Cache-Control"] == "private, no-cache" and headers["Vary"] == "Cookie, Authorization"
    assert (
        headers["X-Content-Type-Options"] == "nosniff"
        and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    )
    # A range: nginx answers it from the file (the worker's own answer is empty and ignores ranges).
    status, headers, body = fetch(nginx, url(photo), Range="bytes=0-9", **token(chat_photo.member))
    assert (status, body) == (206, expected[:10])
    # Revalidation goes to a worker, which checks again before its 304.
    etag = {"If-None-Match": f'"{photo.key}.display"'}
    assert fetch(nginx, url(photo), **etag, **token(chat_photo.member))[0] == 304
    # The thumbnail, and the session cookie of someone signed in through the login page.
    session = log_in(nginx, chat_photo.sender)
    cookie = {"Cookie": f"sessionid={session.session_key}"}
    assert fetch(nginx, url(photo, "thumbnail"), **cookie)[2] == stored_bytes(photo, "thumbnail")
    print(f"\nphotos through nginx, {len(workers)} worker(s): X-Accel-Redirect served, range 206, ETag 304")


def test_a_stranger_gets_the_missing_files_404_through_nginx(nginx, chat_photo):
    for credentials in (token(chat_photo.stranger), {}, {"If-None-Match": f'"{chat_photo.photo.key}.display"'}):
        status, headers, body = fetch(nginx, url(chat_photo.photo), **credentials)
        missing = fetch(nginx, "/media/no-such-key-at-all/display", **credentials)
        assert status == 404
        assert (status, comparable(headers), body) == (missing[0], comparable(missing[1]), missing[2])


def test_the_internal_location_cannot_be_asked_for(nginx, chat_photo):
    photo = chat_photo.photo
    for path in (f"/_protected-media/{photo.display_name}", f"/_protected-media/{photo.thumbnail_name}"):
        status, _, body = fetch(nginx, path, **token(chat_photo.sender))
        assert status == 404 and stored_bytes(photo) not in body


def test_sockets_chat_through_nginx(nginx, chat_photo):
    with Socket.open(nginx, chat_photo.sender) as sender, Socket.open(nginx, chat_photo.member) as member:
        sender.send(type="message.send", conversation=chat_photo.conversation.pk, body="over nginx", client_id="n1")
        frame = member.expect("message.new", skip=("presence",), body="over nginx")
        assert frame["message"]["sender"]["username"] == "sender"


def test_an_upload_past_the_limit_is_refused_by_nginx_before_any_worker_reads_it(nginx, chat_photo):
    from deploy.nginx.render import DEFAULT_MAX_UPLOAD_SIZE

    head = (
        f"POST /api/media/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        f"Authorization: Token {token_for(user=chat_photo.sender).key}\r\n"
        f"Content-Length: {DEFAULT_MAX_UPLOAD_SIZE + 1}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", nginx.port), timeout=5) as connection:
        connection.sendall(head.encode())
        answer = connection.recv(65536)  # answered on the headers alone: not one body byte sent
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413 ")
    assert rest.partition(b"\r\n\r\n")[2] == f"Uploads are limited to {DEFAULT_MAX_UPLOAD_SIZE} bytes.\n".encode()


def test_an_upload_larger_than_other_bodies_reaches_a_worker(nginx, chat_photo, settings):
    """Elsewhere nginx stops bodies at DATA_UPLOAD_MAX_MEMORY_SIZE (tests/security/test_slowloris.py);
    /api/media/ lets uploads through."""
    body = b"\0" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE * 4)
    status, headers, text = fetch(
        nginx, "/api/media/", "POST", body, **{"Content-Type": "application/octet-stream"}, **token(chat_photo.sender)
    )
    assert b"Uploads are limited" not in text
    # A worker answered (whatever it answered): its middleware marks every /api/ answer no-store.
    assert headers.get("Cache-Control") == "private, no-store", (status, headers, text[:200])


def test_a_client_cannot_choose_its_address_with_x_forwarded_for(nginx, make_user, password):
    """nginx appends the address it saw; the workers take that one, so failed logins sent with
    made-up addresses all count against the client's own.

    Last in the module: it leaves 127.0.0.1 locked out of logging in on a lone worker, whose
    cache is its own (on Redis, every test starts with an empty cache).
    """
    make_user(username="carol")
    for n in range(ADDRESS_LIMIT):
        wrong = f'{{"username": "x{n}", "password": "x"}}'.encode()
        headers = {"Content-Type": "application/json", "X-Forwarded-For": f"203.0.113.{n}"}
        assert fetch(nginx, "/api/auth/token/", "POST", wrong, **headers)[0] == 400
    right = f'{{"username": "carol", "password": "{password}"}}'.encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": "198.51.100.9"}
    assert fetch(nginx, "/api/auth/token/", "POST", right, **headers)[0] == 429


def test_a_voice_clip_and_a_video_answer_ranges_through_nginx(nginx, chat_photo):
    """A player seeking: the worker checks, nginx answers the range from the file; If-Range is held
    against the worker's ETag (nginx's own are off); a stranger's range request gets the 404."""
    from .av_files import stored_variant, stored_video, stored_voice

    message, _ = chat.message_send(sender=chat_photo.sender, conversation=chat_photo.conversation, body="clips")
    clips = [
        stored_video(chat_photo.sender, attach_to=("message", message.pk), padding=200_000),
        stored_voice(chat_photo.sender, attach_to=("message", message.pk), padding=200_000),
    ]
    member, stranger = token(chat_photo.member), token(chat_photo.stranger)
    for clip in clips:
        whole, etag = stored_variant(clip), f'"{clip.key}.display"'
        size = len(whole)
        status, headers, body = fetch(nginx, url(clip), **member)
        assert (status, body, headers["Accept-Ranges"]) == (200, whole, "bytes")
        assert headers["Content-Type"] == clip.display_type and headers["ETag"] == etag
        for asked, (first, last) in {
            "bytes=0-9": (0, 9),
            "bytes=70000-199999": (70000, 199999),
            "bytes=150000-": (150000, size - 1),
            "bytes=-1000": (size - 1000, size - 1),
        }.items():
            status, headers, body = fetch(nginx, url(clip), Range=asked, **member)
            assert (status, headers["Content-Range"]) == (206, f"bytes {first}-{last}/{size}"), asked
            assert body == whole[first : last + 1] and headers["Content-Type"] == clip.display_type
            assert headers["ETag"] == etag and headers["Cache-Control"] == "private, no-cache"
        status, headers, _ = fetch(nginx, url(clip), Range=f"bytes={size}-", **member)
        assert (status, headers["Content-Range"]) == (416, f"bytes */{size}")
        assert fetch(nginx, url(clip), Range="bytes=10-19", **{"If-Range": etag}, **member)[::2] == (206, whole[10:20])
        assert fetch(nginx, url(clip), Range="bytes=10-19", **{"If-Range": '"other"'}, **member)[::2] == (200, whole)
        for credentials in (stranger, {}):
            for asked in ("bytes=0-9", f"bytes={size}-"):
                refused = fetch(nginx, url(clip), Range=asked, **credentials)
                missing = fetch(nginx, "/media/no-such-key-at-all/display", Range=asked, **credentials)
                assert refused[0] == 404
                assert (refused[0], comparable(refused[1]), refused[2]) == (
                    missing[0],
                    comparable(missing[1]),
                    missing[2],
                )

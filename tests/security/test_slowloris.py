"""Slow clients are cut off: by daphne itself (config.serve's read deadlines) and by nginx in front.

The servers here run with 2-second deadlines so the module takes seconds; `make run` and
`make run-nginx` use the same mechanism with longer ones (SECURITY.md, "Slow clients"). Stock
daphne and nginx's defaults held every one of these clients past the 15 s this module waits.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest
from django.conf import settings
from websockets.sync.client import connect

from accounts.services import token_for
from tests import live as shared
from tests.conftest import skip_or_fail
from tests.live import ROOT, LiveDaphne, daphne_env, free_port, wait_listening

from .conftest import FIGURES

pytestmark = pytest.mark.live

NGINX = "/usr/sbin/nginx"
DEADLINE = 2.0  # seconds, for daphne's header and body deadlines and nginx's header and body timeouts
LATE = 1.5  # how far past a deadline the cut may come on a busy machine
GIVE_UP = 15.0  # still open after this long: no deadline at all

REQUEST_LINE = b"GET /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
POST_HEADERS = (
    b"POST /api/posts/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
)


@pytest.fixture(scope="module")
def quick_daphne(django_db_setup):
    """A daphne started as the Makefile starts it, with the two read deadlines shortened to DEADLINE."""
    server = LiveDaphne(daphne_env())
    short = ["--http-header-timeout", str(DEADLINE), "--http-body-timeout", str(DEADLINE)]
    with pytest.MonkeyPatch.context() as patch:
        # The same command line, these last: argparse keeps the last value of a flag.
        patch.setattr(shared, "DAPHNE_FLAGS", [*shared.DAPHNE_FLAGS, *short])
        server.start()
    yield server
    server.stop()


@contextmanager
def running_nginx(prefix, upstreams: list[int]):
    """deploy/nginx rendered as `make run-nginx` renders it, with DEADLINE timeouts; yields its port."""
    if not os.access(NGINX, os.X_OK):
        skip_or_fail(f"{NGINX} is not installed (apt-get install nginx)", "REQUIRE_SERVICES")
    port = free_port()
    render = [sys.executable, str(ROOT / "deploy/nginx/render.py"), "--prefix", str(prefix)]
    render += ["--listen", f"127.0.0.1:{port}", "--static-root", str(ROOT / "static")]
    render += [argument for upstream in upstreams for argument in ("--upstream", f"127.0.0.1:{upstream}")]
    render += ["--header-timeout", str(DEADLINE), "--body-timeout", str(DEADLINE)]
    subprocess.run(render, check=True, capture_output=True)
    command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
    wait_listening(port, process, "nginx", timeout=10)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def nginx(quick_daphne, daphne_server, tmp_path_factory):
    """nginx in front of two workers."""
    with running_nginx(tmp_path_factory.mktemp("nginx"), [quick_daphne.port, daphne_server.port]) as port:
        yield port


def held_open(port: int, opening: bytes, trickle: bytes, gap: float) -> tuple[float | None, bytes]:
    """Sends `opening`, then `trickle` one byte every `gap` seconds, reading all the while.

    Returns (seconds from connecting until the server closed the connection, what it answered);
    None for the seconds if it was still open after GIVE_UP.
    """
    started = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(opening)
        for byte in trickle:
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                return time.monotonic() - started, answer
            next_byte = time.monotonic() + gap
            while (left := next_byte - time.monotonic()) > 0:
                connection.settimeout(left)
                try:
                    chunk = connection.recv(4096)
                except TimeoutError:
                    break
                except OSError:
                    return time.monotonic() - started, answer
                if not chunk:
                    return time.monotonic() - started, answer
                answer += chunk
            if time.monotonic() - started > GIVE_UP:
                return None, answer
    return None, answer


def assert_cut_at_the_deadline(seconds: float | None, answer: bytes, figure: str) -> None:
    assert seconds is not None, f"still open after {GIVE_UP:.0f} s: no deadline"
    FIGURES[figure] = round(seconds, 1)
    assert DEADLINE - 0.2 <= seconds <= DEADLINE + LATE
    # daphne tells a client it cut off why; nginx just closes.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")


def test_daphne_cuts_off_headers_trickled_a_byte_at_a_time(quick_daphne):
    seconds, answer = held_open(quick_daphne.port, REQUEST_LINE, b"X-Slow: " + b"a" * 200, gap=0.25)
    assert_cut_at_the_deadline(seconds, answer, "slow-loris headers, daphne: cut off after (s, deadline 2 s)")
    assert answer.startswith(b"HTTP/1.1 408")


def test_daphne_cuts_off_a_body_trickled_a_byte_at_a_time(quick_daphne):
    """The body deadline is a total: bytes arriving every quarter second do not extend it."""
    seconds, answer = held_open(quick_daphne.port, POST_HEADERS, b"x" * 1000, gap=0.25)
    assert_cut_at_the_deadline(seconds, answer, "slow-loris body, daphne: cut off after (s, deadline 2 s)")
    assert answer.startswith(b"HTTP/1.1 408")


def test_daphne_keeps_a_connection_alive_between_requests_and_closes_it_idle(quick_daphne):
    """The header deadline starts again after each answer; a quiet kept-alive connection just closes."""
    with socket.create_connection(("127.0.0.1", quick_daphne.port), timeout=5) as connection:
        for _ in range(2):
            time.sleep(DEADLINE / 2)
            connection.sendall(REQUEST_LINE + b"\r\n")
            answer = b""
            while b"</html>" not in answer:
                chunk = connection.recv(65536)
                assert chunk, "closed while a request was being answered"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
        started = time.monotonic()
        connection.settimeout(DEADLINE + LATE + 1)
        assert connection.recv(4096) == b""  # closed, and without a 408 nobody asked for
        assert time.monotonic() - started <= DEADLINE + LATE


def test_nginx_cuts_off_headers_trickled_a_byte_at_a_time(nginx):
    """client_header_timeout is a total: it runs from the connection to the last header byte."""
    seconds, answer = held_open(nginx, REQUEST_LINE, b"X-Slow: " + b"a" * 200, gap=0.25)
    assert_cut_at_the_deadline(seconds, answer, "slow-loris headers, nginx: cut off after (s, timeout 2 s)")


def test_nginx_cuts_off_a_body_that_pauses_longer_than_the_body_timeout(nginx):
    """client_body_timeout is the longest pause between reads (the issue's client paused 10 s)."""
    seconds, answer = held_open(nginx, POST_HEADERS, b"x" * 1000, gap=DEADLINE + 1)
    assert_cut_at_the_deadline(seconds, answer, "slow-loris body, nginx: cut off after (s, timeout 2 s)")


def test_nginx_refuses_a_body_past_the_limit_with_413_before_it_is_sent(nginx):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    with socket.create_connection(("127.0.0.1", nginx), timeout=5) as connection:
        connection.sendall(POST_HEADERS.replace(b"Content-Length: 1000", f"Content-Length: {limit + 1}".encode()))
        answer = connection.recv(65536)  # answered on the headers alone: not one body byte sent
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert body == f"Request bodies are limited to {limit} bytes.\n".encode()
    assert b"\r\nContent-Security-Policy: " in head and b"frame-ancestors 'none'" in head


@pytest.mark.django_db(transaction=True)
def test_a_body_at_the_limit_passes_nginx_to_tandem(nginx, alice):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    payload = json.dumps({"body": "x"}).encode().ljust(limit, b" ")
    request = POST_HEADERS.replace(b"Content-Length: 1000", f"Content-Length: {limit}".encode())
    request = request.replace(b"\r\n\r\n", f"\r\nAuthorization: Token {token_for(user=alice).key}\r\n\r\n".encode())
    with socket.create_connection(("127.0.0.1", nginx), timeout=10) as connection:
        connection.sendall(request + payload)
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:200]


@pytest.mark.django_db(transaction=True)
def test_sockets_pages_and_static_files_pass_through_nginx(nginx, alice):
    base = f"127.0.0.1:{nginx}"
    with connect(f"ws://{base}/ws/?token={token_for(user=alice).key}", open_timeout=5) as live:
        live.send(json.dumps({"type": "ping"}))
        while json.loads(live.recv(timeout=5))["type"] != "pong":
            pass
    with urllib.request.urlopen(f"http://{base}/login/", timeout=5) as page:
        assert page.status == 200 and b"<form" in page.read()
    with urllib.request.urlopen(f"http://{base}/static/css/site.css", timeout=5) as asset:
        # Only nginx's `expires` sets Expires; a worker's answer would not carry it.
        assert asset.status == 200 and asset.headers["Expires"] and asset.headers["Content-Type"] == "text/css"


def test_nginx_says_the_workers_are_unavailable_with_the_same_headers(tmp_path):
    with running_nginx(tmp_path, [free_port()]) as port:  # a worker that is not there
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 503 and body == b"Tandem is unavailable for a moment; try again shortly.\n"
    assert "frame-ancestors 'none'" in response.getheader("Content-Security-Policy")
    assert response.getheader("X-Frame-Options") == "DENY"
    assert response.getheader("X-Content-Type-Options") == "nosniff"

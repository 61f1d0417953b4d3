"""Cross-site WebSocket hijacking and CSRF: the session cookie alone never acts for its user.

A browser sends the session cookie with a WebSocket handshake from any page of the same
site, other ports included, so `/ws/` checks the Origin of cookie sockets (4403). Every
state-changing page and session-authenticated API call needs the CSRF token.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.live import Socket, log_in

pytestmark = pytest.mark.django_db(transaction=True)

UNSAFE_METHODS = ("post", "put", "patch", "delete")
# The two API calls that take no session (authentication_classes = []): no cookie to ride.
NO_SESSION = {"/api/auth/register/", "/api/auth/token/"}
SAMPLE_ARGUMENTS = {"int": "1", "str": "bob", "path": "bob", "slug": "bob"}


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://127.0.0.1:1", "http://localhost:{port}", "null"],
)
def test_a_cookie_socket_from_any_other_origin_is_closed_with_4403(live_daphne, alice, origin):
    origin = origin.format(port=live_daphne.port)
    headers = {"Cookie": f"sessionid={log_in(live_daphne, alice).session_key}"}
    refused = Socket.open(live_daphne, origin=origin, additional_headers=headers)
    assert refused.wait_closed()[:2] == (4403, [])


class _ForeignPage(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<!doctype html><title>elsewhere</title><p>A page on another origin."
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def foreign_site():
    """A page on 127.0.0.1 at another port: the same site for cookies, another origin."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ForeignPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_a_page_on_another_origin_cannot_open_the_users_socket(new_page, live_daphne, alice, foreign_site):
    page = log_in(new_page(), alice)  # signed in at Tandem in this browser
    page.goto(foreign_site)
    outcome = page.evaluate(
        """url => new Promise(resolve => {
            const socket = new WebSocket(url);
            const frames = [];
            socket.onopen = () => socket.send(JSON.stringify({type: "resume", after: 0}));
            socket.onmessage = event => frames.push(event.data);
            socket.onclose = event => resolve({code: event.code, frames});
        })""",
        live_daphne.ws_url,
    )
    # 4403, not 4401: the browser did send the cookie, and the Origin rule refused it.
    assert outcome == {"code": 4403, "frames": []}


def _routes(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith("admin/"):
                yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and not route.startswith("^"):
            yield route


def _concrete(route: str) -> str:
    """The route with a sample value for each argument (the CSRF check runs before any lookup)."""
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_ARGUMENTS[m[1] or "str"], route)


def test_every_state_changing_route_refuses_a_session_request_without_the_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    checked, refused, not_allowed = [], [], []
    for route in _routes(get_resolver().url_patterns):
        path = _concrete(route)
        if path in NO_SESSION:
            continue
        for method in UNSAFE_METHODS:
            response = getattr(client, method)(path, data=json.dumps({}), content_type="application/json")
            pair = f"{method.upper()} {path}"
            if response.status_code == 405:  # the route has no such method: nothing to change
                not_allowed.append(pair)
                continue
            checked.append(pair)
            if response.status_code == 403:  # the API says "CSRF Failed", pages "CSRF verification failed"
                refused.append(pair)
    print(
        f"\nCSRF: {len(checked)} state-changing method x route pairs sent with a session and no token,"
        f" {len(refused)} refused (403), {len(not_allowed)} more answered 405"
    )
    assert sorted(set(checked) - set(refused)) == [], sorted(set(checked) - set(refused))
    assert len({c.split(" ", 1)[1] for c in checked}) > 40  # the walk found the routes

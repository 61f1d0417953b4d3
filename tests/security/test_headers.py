"""The same security headers on every answer, error answers included, and no-store on per-user ones.

Asked over HTTP of a live daphne twice: as `make run` serves (DEBUG on, Django's debug pages) and
with DEBUG off (Tandem's own error pages). A server error cannot be caused over HTTP, so that
row goes through the whole middleware stack in-process, with a view that raises.
"""

import http.client
import json

import pytest
from csp.utils import build_policy
from django.conf import settings
from django.test import Client
from django.urls import include, path

from accounts.services import token_for
from config import urls as project_urls
from tests.live import LiveDaphne, daphne_env, log_in

PAST_THE_LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1


def directives(policy: str | None) -> dict[str, str] | None:
    """A CSP as {directive: sources}: django-csp writes the directives in no fixed order."""
    if policy is None:
        return None
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def security_headers(headers=None) -> dict[str, object]:
    """What every answer must carry, whatever its status (with no argument: the expected values)."""
    if headers is None:
        headers = {
            "Content-Security-Policy": build_policy(),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cross-Origin-Opener-Policy": "same-origin",
        }
    names = ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy")
    return {
        "Content-Security-Policy": directives(headers.get("Content-Security-Policy")),
        **{name: headers.get(name) for name in names},
    }


# (surface, credentials, method, path, body, extra headers, status). Credentials: "session" is a
# signed-in browser, "token" an API client, None nobody; either credential makes the answer per-user.
SURFACES = [
    ("page", "session", "GET", "/", None, {}, 200),
    ("API", "token", "GET", "/api/me/", None, {}, 200),
    ("404 page", "session", "GET", "/no-such-page/", None, {}, 404),
    ("404 page, signed out", None, "GET", "/no-such-page/", None, {}, 404),
    ("API 404", "token", "GET", "/api/no-such-thing/", None, {}, 404),
    ("API 404, signed out", None, "GET", "/api/no-such-thing/", None, {}, 404),
    ("413 page", "session", "POST", "/settings/", b"bio=" + b"x" * PAST_THE_LIMIT, {}, 413),
    ("413 API", "token", "POST", "/api/posts/", b"x" * PAST_THE_LIMIT, {}, 413),
    ("413 API, signed out", None, "POST", "/api/posts/", b"x" * PAST_THE_LIMIT, {}, 413),
    ("403 page (no CSRF token)", "session", "POST", "/settings/", b"bio=x", {}, 403),
    ("400 page (unknown host)", "session", "GET", "/", None, {"Host": "evil.example"}, 400),
    ("400 API (unknown host)", "token", "GET", "/api/me/", None, {"Host": "evil.example"}, 400),
]


@pytest.fixture(scope="module")
def no_debug_server(django_db_setup):
    """One more live daphne, with DEBUG off: Tandem's own error pages."""
    server = LiveDaphne({**daphne_env(), "DEBUG": "false"})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["debug", "no-debug"])
def server(request):
    """The live daphne as `make run` starts it (DEBUG on), then the one with DEBUG off."""
    return request.getfixturevalue("daphne_server" if request.param == "debug" else "no_debug_server")


def ask(server, credentials, method, path, body, headers, user):
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    if credentials == "session":
        headers["Cookie"] = f"sessionid={log_in(server, user).session_key}"
    elif credentials == "token":
        headers["Authorization"] = f"Token {token_for(user=user).key}"
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("surface", "credentials", "method", "path", "body", "headers", "status"),
    SURFACES,
    ids=[row[0] for row in SURFACES],
)
def test_every_surface_carries_the_security_headers(
    server, alice, surface, credentials, method, path, body, headers, status
):
    got_status, got, _ = ask(server, credentials, method, path, body, headers, alice)
    assert got_status == status
    assert security_headers(got) == security_headers()
    if credentials or path.startswith("/api/"):
        assert "no-store" in got.get("Cache-Control", ""), got.get("Cache-Control")


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_signed_in_answers_are_no_store_and_public_ones_are_left_alone(server, alice):
    """no-store follows the person, not the page: the same public page, signed in and signed out."""
    public_post = "/explore/"
    _, signed_in, _ = ask(server, "session", "GET", public_post, None, {}, alice)
    _, signed_out, _ = ask(server, None, "GET", public_post, None, {}, alice)
    assert "no-store" in signed_in["Cache-Control"]
    assert "Cache-Control" not in signed_out


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_error_answers_are_tandems_own_without_debug(no_debug_server, alice):
    server = no_debug_server
    _, _, page = ask(server, "session", "GET", "/no-such-page/", None, {}, alice)
    assert b"This page isn't here</h1>" in page and b'data-me="alice"' in page
    _, _, answer = ask(server, None, "GET", "/api/no-such-thing/", None, {}, alice)
    assert json.loads(answer) == {"detail": "Not found."}


def explode(request):
    raise RuntimeError("a bug")


# The project's URLs and error handlers, plus two views that fail (this module is the URLconf below).
urlpatterns = [
    path("explode/", explode),
    path("api/explode/", explode),
    path("", include(project_urls)),
]
handler500 = project_urls.handler500


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
@pytest.mark.parametrize("where", ["/explode/", "/api/explode/"])
def test_a_server_error_carries_the_security_headers(settings, alice, debug, where):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.get(where)
    assert response.status_code == 500
    assert security_headers(response.headers) == security_headers()
    assert "no-store" in response["Cache-Control"]
    if not debug:
        if where.startswith("/api/"):
            assert response.json() == {"detail": "Server error."}
        else:
            assert b"Something went wrong on our side</h1>" in response.content

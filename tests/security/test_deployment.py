"""Production settings as a browser meets them: HTTPS only, HSTS, secure cookies, a CSP with no inline script."""

import json
import re
from pathlib import Path

from tests.test_project import PROD_ENV, manage

ROOT = Path(__file__).resolve().parent.parent.parent

# Run under config.settings.prod: a signed-out page and a login form, over HTTPS, as the browser sees them.
PROBE = """
import json
from django.test import Client
client = Client(HTTP_HOST="tandem.example")
page = client.get("/login/", secure=True)
plain = client.get("/login/")
print(json.dumps({
    "csp": page["Content-Security-Policy"],
    "hsts": page.get("Strict-Transport-Security", ""),
    "csrf_cookie_secure": bool(page.cookies["csrftoken"]["secure"]),
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location", ""),
}))
from django.conf import settings
print(json.dumps({
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
}))
"""


def test_prod_pages_are_https_only_with_hsts_secure_cookies_and_a_script_tight_csp():
    result = manage("shell", "--settings=config.settings.prod", "-c", PROBE, env=PROD_ENV)
    assert result.returncode == 0, result.stderr
    page, cookies = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    directives = dict(part.strip().split(" ", 1) for part in page["csp"].split(";"))
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no other origin
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "max-age=31536000" in page["hsts"] and "includeSubDomains" in page["hsts"]
    assert page["csrf_cookie_secure"] and cookies == {"session_secure": True, "session_httponly": True}
    assert page["plain_status"] == 301 and page["plain_location"].startswith("https://")


def test_templates_hold_no_inline_script_or_event_handler():
    """What the CSP would block anyway, kept out of the markup so nothing breaks when it does."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        offenders += [f"{template.name}: {m[0]}" for m in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>", text)]
        offenders += [f"{template.name}: {m[0]}" for m in re.finditer(r"\son[a-z]+\s*=", text)]
    assert offenders == []


def test_the_tests_run_daphne_as_the_makefile_does():
    """Same entry point (daphne with read deadlines), same flags: what the tests prove is what `make run` runs."""
    from tests.live import DAPHNE_FLAGS, WEBSOCKET_MAX_MESSAGE_SIZE

    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("DAPHNE :="))
    command = line.split(":=", 1)[1].split()
    assert command[:3] == ["$(BIN)/python", "-m", "config.serve"]
    assert command[3:] == ["--websocket-max-message-size", str(WEBSOCKET_MAX_MESSAGE_SIZE), *DAPHNE_FLAGS]

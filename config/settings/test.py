"""Settings for the test suite: the defaults, plus a file-backed SQLite test database.

A daphne started by a test runs in another process, and cannot see an in-memory
SQLite database, so the test database gets a file name.
"""

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}

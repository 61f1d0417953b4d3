"""Settings for the test suite: the defaults, plus a file-backed SQLite test database and media files of its own.

A daphne started by a test runs in another process, and cannot see an in-memory
SQLite database, so the test database gets a file name. The same goes for uploads: the test
process and the daphnes it starts share MEDIA_ROOT (emptied around each media test by
tests/media/conftest.py). Uploads are processed in the request ("inline") so a test sees the
result at once; a test of another mode overrides MEDIA_PROCESSING (or a daphne's environment does).
"""

import os
from datetime import timedelta
from pathlib import Path

from .base import *  # noqa: F403
from .base import BASE_DIR, DATABASES, SQLITE_ENGINE

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The live daphnes of the browser tests run with DEBUG off, as `make run` does, and serve static/
# through the finders, so no collectstatic is needed before a test run.
WHITENOISE_USE_FINDERS = True

if DATABASES["default"]["ENGINE"] == SQLITE_ENGINE:
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}

# Never the environment's MEDIA_ROOT: the media tests empty this directory. A daphne a test starts
# with a directory of its own gets it as TEST_MEDIA_ROOT.
MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT", BASE_DIR / "test-media-files"))
MEDIA_PROCESSING = os.environ.get("MEDIA_PROCESSING", "inline")

# Reads fold only when a test asks (microblog.reads.reads_fold): a fold of whatever earlier tests
# left waiting, inside another test's request, would add queries to it at random.
READS_FOLD_INTERVAL = timedelta(days=1)
READS_FOLD_THRESHOLD = 10**9
# The crawls (leak canaries, the authz matrix) search hundreds of times a minute from one address;
# tests/search sets these lower where it tests the limit itself.
SEARCH_LIMIT_PER_ADDRESS = (100_000, SEARCH_LIMIT_PER_ADDRESS[1])  # noqa: F405
SEARCH_LIMIT_PER_USER = (100_000, SEARCH_LIMIT_PER_USER[1])  # noqa: F405

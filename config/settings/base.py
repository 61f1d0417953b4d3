"""Settings shared by every environment, read from the environment with a zero-set-up default.

With nothing set, Tandem runs on SQLite (WAL, IMMEDIATE transactions) and Channels'
in-memory layer in one daphne process. `DATABASE_URL` and `REDIS_URL` switch to the
scale-out setup (PostgreSQL, channels-redis, Redis cache) with no code change.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SQLITE_ENGINE = "common.sqlite"


# A database connection is kept as long as it works (CONN_MAX_AGE None), not reopened every minute:
# every thread that holds one lives as long as the worker (config.pooled's, common.hops', the chat
# writer's), and on PostgreSQL a new connection cost about 7 ms, and its new backend's cold caches
# more: the first request after a quiet minute paid about 20 ms for it (bench/RESULTS.md, "HTTP:
# every request on a kept connection"). One that broke while idle (a restart of the server) is
# found by CONN_HEALTH_CHECKS' ping before a request's first query, and opened anew.
KEPT_AS_LONG_AS_IT_WORKS = None


def database_from_url(url: str | None) -> dict:
    """A DATABASES entry for `url`, or the embedded SQLite file when there is none.

    SQLite gets WAL and IMMEDIATE transactions whichever way it is named: without
    IMMEDIATE, a read-then-write transaction fails with "database is locked" as soon
    as two daphne handlers write at once.
    """
    if url:
        database = dj_database_url.parse(url, conn_max_age=KEPT_AS_LONG_AS_IT_WORKS, conn_health_checks=True)
        if database["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_PREPARED_STATEMENTS", True):
            # Parameters bound by the server, and a statement run 5 times on a connection prepared
            # there: PostgreSQL then skips parsing and planning it on every later run. A chat send
            # is a dozen statements, the same few again and again; parsed and planned every time
            # they took over a third of the writer's time (bench/RESULTS.md, "Chat: the idle floor, fourth
            # pass"). Behind a pooler that hands a connection to another client between
            # transactions (PgBouncer's transaction mode), set DATABASE_PREPARED_STATEMENTS=0.
            database.setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    else:
        database = {"ENGINE": SQLITE_ENGINE, "NAME": str(BASE_DIR / "db.sqlite3")}
    if database["ENGINE"] in ("django.db.backends.sqlite3", SQLITE_ENGINE):
        # Django's backend, with its placeholders converted once per statement (common.sqlite).
        database["ENGINE"] = SQLITE_ENGINE
        # Kept open like PostgreSQL's: reopening per request re-runs the PRAGMAs, and the
        # last connection to close checkpoints the WAL (measured: ~12 ms a close, 1.5x the
        # chat throughput when kept).
        database["CONN_MAX_AGE"] = KEPT_AS_LONG_AS_IT_WORKS
        database["CONN_HEALTH_CHECKS"] = True
        database["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return database


SECRET_KEY = os.environ.get("SECRET_KEY", "django-insecure-tandem-development-only")
# Off unless asked for: `make run` shows the product (Tandem's own error pages, no URL list on a
# 404); `make dev` sets DEBUG=1 for Django's debug pages and reloading.
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "csp",
    "accounts",
    "realtime",
    "media",
    "microblog",
    "chat",
    "search",
    "articles",
]

# The header-setting middleware comes first (outermost), so answers made further in without
# reaching a view (a 413, a static file, a CSRF refusal, an error page) carry the same headers.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.NoStoreMiddleware",
    "config.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.ServiceErrorMiddleware",
]

# Django's database sessions, their row read by a query built once (accounts/sessions.py).
SESSION_ENGINE = "accounts.sessions"

# No request body of Tandem's comes near this (a post or a message is a few KB of JSON).
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chat.context_processors.inbox",
                # The theme cookie, for <html data-theme> (config/theme.py).
                "config.theme.theme",
            ],
            # {% when %}: one way to show times on every page (common/times.py, static/js/times.js).
            "builtins": ["common.templatetags.times"],
        },
    },
]

DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
# Which channels-redis layer carries pushes between workers. pubsub by default: lower
# latency and memory per socket in `make bench-scale`, no group expiry, and it subscribes
# again by itself after a Redis restart (bench/RESULTS.md, "Channel layer").
CHANNEL_LAYER_BACKENDS = {
    "core": "channels_redis.core.RedisChannelLayer",
    # channels-redis' pub/sub layer, with a batch's pushes published in one round trip (realtime/layers.py).
    "pubsub": "realtime.layers.RedisPubSubChannelLayer",
}
CHANNEL_LAYER = os.environ.get("CHANNEL_LAYER", "pubsub")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": CHANNEL_LAYER_BACKENDS[CHANNEL_LAYER],
            "CONFIG": {
                # redis-py 8 gives up reading after 5 s by default, the very time channels-redis
                # blocks waiting for a message: every socket idle for 5 s then died with 1011.
                # (BZPOPMIN in RedisChannelLayer; the read must outwait the block.)
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "prefix": os.environ.get("CHANNEL_PREFIX", "tandem"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.SharedClientRedisCache",  # one redis-py client, not one a call
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "tandem"),
        }
    }
else:
    # Channels' in-memory layer, with expiry that does not scan every socket on each call (realtime/layers.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "realtime.layers.InMemoryChannelLayer"}}
    # Django's local-memory cache, with a rate limit's count in one step (config/local_cache.py).
    # It holds every online user's presence count and every limit's window, so far more than
    # Django's default of 300 entries (config/local_cache.py).
    CACHES = {
        "default": {
            "BACKEND": "config.local_cache.CountingLocMemCache",
            "OPTIONS": {"MAX_ENTRIES": int(os.environ.get("LOCAL_CACHE_MAX_ENTRIES", 100_000))},
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Failed logins, fixed windows kept in the cache with atomic increments (accounts/limits.py).
# Hard limits count per (account, address) and per address, so a stranger's failures never
# lock the owner out from elsewhere; unknown usernames count alike.
LOGIN_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS = int(os.environ.get("LOGIN_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS", 5))
LOGIN_FAILURE_LIMIT_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURE_LIMIT_PER_ADDRESS", 50))
LOGIN_FAILURE_WINDOW = timedelta(minutes=30)
# Against guessing from many addresses: past this many failures for one account from all
# addresses together, attempts pass one at a time, each followed by a wait that doubles
# (LOGIN_SLOWDOWN_FIRST, then twice that, ... up to LOGIN_SLOWDOWN_LONGEST). A slowdown, not
# a lock, and addresses the account has signed in from (for LOGIN_KNOWN_ADDRESS_FOR) skip it.
LOGIN_FAILURE_CEILING_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURE_CEILING_PER_ACCOUNT", 100))
LOGIN_FAILURE_CEILING_WINDOW = timedelta(hours=24)
LOGIN_SLOWDOWN_FIRST = timedelta(seconds=int(os.environ.get("LOGIN_SLOWDOWN_FIRST_SECONDS", 1)))
LOGIN_SLOWDOWN_LONGEST = timedelta(seconds=int(os.environ.get("LOGIN_SLOWDOWN_LONGEST_SECONDS", 900)))
LOGIN_KNOWN_ADDRESS_FOR = timedelta(days=90)
REGISTRATIONS_PER_ADDRESS = int(os.environ.get("REGISTRATIONS_PER_ADDRESS", 20))
REGISTRATION_WINDOW = timedelta(hours=1)
# Per user: (most actions, window). Chat sockets also have their own rates (CHAT_*_PER_SECOND).
ACTION_LIMITS = {
    "post": (int(os.environ.get("POSTS_PER_HOUR", 100)), timedelta(hours=1)),
    # One count of a user's messages, REST and every socket on every worker together (both call
    # accounts.services.action_take). CHAT_MESSAGES_PER_SECOND, which the benchmarks raise, sets it
    # at 60 times that when MESSAGES_PER_MINUTE is not given.
    "message": (
        int(os.environ.get("MESSAGES_PER_MINUTE", 60 * float(os.environ.get("CHAT_MESSAGES_PER_SECOND", 20)))),
        timedelta(minutes=1),
    ),
    "contact-request": (int(os.environ.get("CONTACT_REQUESTS_PER_HOUR", 30)), timedelta(hours=1)),
    "follow": (int(os.environ.get("FOLLOWS_PER_HOUR", 200)), timedelta(hours=1)),
}
# A declined contact request holds off the same person asking again for this long (answered 429).
CONTACT_REQUEST_DECLINE_HOLD = timedelta(days=int(os.environ.get("CONTACT_REQUEST_DECLINE_HOLD_DAYS", 7)))
# How many proxies in front of daphne append to X-Forwarded-For; 0 trusts none and uses the peer address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves static files from daphne itself. With DEBUG off (`make run`) it serves the copies
# `collectstatic` made in STATIC_ROOT (compressed, as in production; `make run` collects them at every
# start, so an edit under static/ shows after a restart); with DEBUG on (`make dev`) it reads static/
# directly through the finders and sees edits at once (autorefresh follows DEBUG). The test settings
# use the finders too: a test run needs no collectstatic.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", DEBUG)
STORAGES = {
    # Media (media/): see MEDIA_* at the end; media.storage swaps in S3 when MEDIA_S3_BUCKET is set.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # orjson rejects what would crash later: lone surrogates, NaN, absurd nesting.
    # No multipart: the API takes no files, and daphne (Twisted) parses a multipart body
    # itself before Django sees it, answering a malformed one with a bare 400.
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.StrictJSONParser",
        "config.parsers.BoundedFormParser",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.CursorPagination",
    "PAGE_SIZE": 20,
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append("rest_framework.renderers.BrowsableAPIRenderer")

SPECTACULAR_SETTINGS = {
    "TITLE": "Tandem API",
    "DESCRIPTION": "Chat (private, mutual contacts) and microblog (public, follows) on one account.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.document_error_responses",
        "config.schema.document_length_patterns",
    ],
}

# Swagger UI (the /api/docs/ page) needs inline styles; scripts stay same-origin only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        # blob: a photo picked for a post or a message, shown from the file itself while it uploads.
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # The level on every line, so an operator (and the fuzzing test) can pick out errors.
    "formatters": {"leveled": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "leveled"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # While Redis is down the pub/sub layer logs a traceback a second; one a minute says as much.
    "filters": {"once_a_minute": {"()": "realtime.log_filters.OncePerInterval", "seconds": 60}},
    "loggers": {"channels_redis.pubsub": {"filters": ["once_a_minute"]}},
}

# Chat: typing frames a second per user and conversation, counted in the cache (every worker, every
# socket). The socket's message rate is ACTION_LIMITS["message"], shared with REST.
CHAT_TYPING_PER_SECOND = float(os.environ.get("CHAT_TYPING_PER_SECOND", 5))
# PostgreSQL: whether a chat send's COMMIT waits for its log to reach the disk (synchronous_commit,
# for the send's transaction only). "off" by default: the message is acknowledged once committed, and
# PostgreSQL's WAL writer flushes it within 0.6 s (3 x wal_writer_delay). A worker's restart, or a
# clean one of PostgreSQL, loses nothing. A crash of PostgreSQL or of its machine may lose what was
# acknowledged in that last fraction of a second, as the embedded default's SQLite
# (synchronous=NORMAL, synced at checkpoints within 5 s) may on a crash of the machine. The lost seqs
# are then numbered again; the store's epoch changes with such a crash (common.store_epoch), so the
# clients that had them resync rather than take the new events for ones they have (the sender's
# client then no longer shows the lost message). At idle the flush was most of a send's last round
# trip here (1.5-1.7 ms against 0.6-0.8; bench/RESULTS.md, "Chat: the idle commit on PostgreSQL").
# "on" (or "remote_apply" and the others PostgreSQL knows) waits, for every send.
_SYNCHRONOUS_COMMIT_LEVELS = ("off", "local", "on", "remote_write", "remote_apply")
CHAT_SYNCHRONOUS_COMMIT = os.environ.get("CHAT_SYNCHRONOUS_COMMIT", "off")
if CHAT_SYNCHRONOUS_COMMIT not in _SYNCHRONOUS_COMMIT_LEVELS:
    raise ImproperlyConfigured(
        f"CHAT_SYNCHRONOUS_COMMIT={CHAT_SYNCHRONOUS_COMMIT!r}: one of {', '.join(_SYNCHRONOUS_COMMIT_LEVELS)}"
    )
# Sockets one user may hold open at once, across workers (the presence count); past it 4429.
MAX_SOCKETS_PER_USER = int(os.environ.get("MAX_SOCKETS_PER_USER", 20))
# WebSocket handshakes a worker works on at once (config/connect_gate.py); the rest wait their turn.
WS_CONNECTS_AT_ONCE = int(os.environ.get("WS_CONNECTS_AT_ONCE", 16))
# Past WS_CONNECTS_WAITING_FREE handshakes waiting, a new one is refused at once (HTTP 503, Retry-After)
# when those waiting would need more than WS_CONNECT_WAIT_MOST seconds to get in at the gate's recent
# pace: they would run into daphne's 30 s handshake deadline (`--websocket_connect_timeout`) instead.
WS_CONNECTS_WAITING_FREE = int(os.environ.get("WS_CONNECTS_WAITING_FREE", 2048))
WS_CONNECT_WAIT_MOST = float(os.environ.get("WS_CONNECT_WAIT_MOST", 25))
# `resume` frames per user a minute (one runs at a time per socket).
CHAT_RESUMES_PER_MINUTE = int(os.environ.get("CHAT_RESUMES_PER_MINUTE", 30))
# Bytes a worker holds for a socket whose client does not read; past it the socket closes (4008).
CHAT_UNREAD_BYTES = int(os.environ.get("CHAT_UNREAD_BYTES", 1024 * 1024))
# Calls (chat.calls): seconds a call rings unanswered before it is missed; how often each worker
# sweeps the calls in progress (missed ones, and those of a worker that died: failed); ICE
# candidates one user may send a minute in one call (past it they are dropped, not relayed).
CALL_RING_SECONDS = float(os.environ.get("CALL_RING_SECONDS", 45))
CALL_SWEEP_SECONDS = float(os.environ.get("CALL_SWEEP_SECONDS", 5))
CALL_ICE_PER_MINUTE = int(os.environ.get("CALL_ICE_PER_MINUTE", 200))
# STUN/TURN servers handed to browsers, as RTCPeerConnection's `iceServers` (JSON); none by
# default: browsers on one network or one machine need none. With TURN_SECRET set, the servers
# of TURN_URLS get credentials minted per call (coturn's `use-auth-secret`, the TURN REST API
# scheme), valid TURN_CREDENTIAL_SECONDS; no static TURN password is ever put in a page.
try:
    ICE_SERVERS = json.loads(os.environ.get("ICE_SERVERS", "[]"))
except json.JSONDecodeError as error:
    raise ImproperlyConfigured(f"ICE_SERVERS must be JSON: {error}") from None
if not isinstance(ICE_SERVERS, list) or not all(isinstance(server, dict) for server in ICE_SERVERS):
    raise ImproperlyConfigured('ICE_SERVERS must be a JSON list of {"urls": ...} objects.')
TURN_SECRET = os.environ.get("TURN_SECRET", "")
TURN_URLS = env_list("TURN_URLS", "")
TURN_CREDENTIAL_SECONDS = int(os.environ.get("TURN_CREDENTIAL_SECONDS", 12 * 60 * 60))
# Seconds a user's presence count lives unless the workers holding their sockets refresh it
# (a third of this apart): a killed worker's sockets stop counting within this time.
PRESENCE_TTL = int(os.environ.get("PRESENCE_TTL", 90))
# Events are replayable for at least this long; `manage.py prune_events` drops older ones.
EVENT_RETENTION = timedelta(days=int(os.environ.get("EVENT_RETENTION_DAYS", 7)))

# The home feed. `order=ranked` uses FEED_RANKER (a class with `page(viewer=, cursor=, limit=)`);
# set it to "microblog.ranking.rankers.ChronologicalRanker" to serve newest-first for both orders.
FEED_RANKER = os.environ.get("FEED_RANKER", "microblog.ranking.rankers.WeightedRanker")
# Search's index (search.backends): "" picks SQLite FTS5 or PostgreSQL tsvector + GIN by database;
# a dotted path names another class with the same methods (search.backends.base.SearchBackend).
SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "")
# Searches (suggestions as you type count too): (most, window) per client address and per user.
SEARCH_LIMIT_PER_ADDRESS = (int(os.environ.get("SEARCHES_PER_MINUTE_PER_ADDRESS", 120)), timedelta(minutes=1))
SEARCH_LIMIT_PER_USER = (int(os.environ.get("SEARCHES_PER_MINUTE_PER_USER", 120)), timedelta(minutes=1))
# Candidates: the newest posts of the people followed within FEED_WINDOW, 600 shared among them
# (at least FEED_PER_AUTHOR each), so a page costs what the viewer follows, not what exists;
# out-of-network posts need this many followed likers (trending-tag posts come in too), and make
# up at most 1 in 5 items.
FEED_WINDOW = timedelta(hours=int(os.environ.get("FEED_WINDOW_HOURS", 72)))
FEED_PER_AUTHOR = 3
FEED_MIN_FOLLOWED_LIKERS = 2
# The viewer's own likes, replies and reposts over this period make up their affinity to an author.
FEED_AFFINITY_WINDOW = timedelta(days=30)
# What a ranking reads about the viewer that changes slowly (whom they follow, their recent likes,
# reposts and replies, people of their taste, posts their network liked) is kept this long between
# first pages; the viewer's own likes, reposts, posts and follows renew it at once
# (microblog.ranking.candidates.viewer_inputs). Others' likes reach it within this time.
FEED_INPUTS_TTL = timedelta(seconds=int(os.environ.get("FEED_INPUTS_TTL_SECONDS", 60)))
# A ranked order is kept this long (in the cache) so its pages neither repeat nor skip;
# past FEED_SNAPSHOT_SIZE items the ranked feed ends (Latest goes on).
FEED_SNAPSHOT_TTL = timedelta(minutes=10)
FEED_SNAPSHOT_SIZE = 500
# Overrides of microblog.ranking.scoring.Weights (engagement, affinity, gravity, diversity, ...).
FEED_WEIGHTS: dict[str, float] = {}

# Reads (microblog.reads): who each post was shown to, buffered ("redis": a hash in Redis, the
# default with REDIS_URL; "memory": in this process) and folded into PostRead rows in batches:
# by beat every READS_FOLD_INTERVAL (fold_reads), or in process once READS_FOLD_THRESHOLD pairs
# wait or the oldest has waited READS_FOLD_INTERVAL.
READS_BUFFER = os.environ.get("READS_BUFFER", "redis" if REDIS_URL else "memory")
READS_REDIS_KEY = os.environ.get("CACHE_PREFIX", "tandem") + ":reads"
READS_FOLD_INTERVAL = timedelta(seconds=int(os.environ.get("READS_FOLD_INTERVAL_SECONDS", 30)))
READS_FOLD_THRESHOLD = int(os.environ.get("READS_FOLD_THRESHOLD", 5000))
# Earned badges (microblog.reach_tiers, daily): reads of a person's posts over 30 days and their
# followers, both at least these. Scaled for a young site (a few hundred active people).
REACH_INFLUENCER_READS = int(os.environ.get("REACH_INFLUENCER_READS", 500))
REACH_INFLUENCER_FOLLOWERS = int(os.environ.get("REACH_INFLUENCER_FOLLOWERS", 50))
REACH_TOP_INFLUENCER_READS = int(os.environ.get("REACH_TOP_INFLUENCER_READS", 5000))
REACH_TOP_INFLUENCER_FOLLOWERS = int(os.environ.get("REACH_TOP_INFLUENCER_FOLLOWERS", 500))

# Mentions: every @name of a post is a link, but only the first MENTIONS_NOTIFIED_PER_POST may
# notify; and an author's mentions notify at most MENTION_NOTIFICATIONS_TO_STRANGERS_PER_HOUR people
# who do not follow them (accounts/limits.py; past it the mention stays a link).
MENTIONS_NOTIFIED_PER_POST = int(os.environ.get("MENTIONS_NOTIFIED_PER_POST", 20))
MENTION_NOTIFICATIONS_TO_STRANGERS_PER_HOUR = int(os.environ.get("MENTION_NOTIFICATIONS_TO_STRANGERS_PER_HOUR", 50))

# Media (media/): photos now, voice and video later. Files go to STORAGES["default"]: MEDIA_ROOT on
# disk by default, S3-compatible storage when MEDIA_S3_BUCKET is set (media.storage).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media-files"))
# Past this many bytes an upload gets 413; the upload path's body limit (config.middleware) is this
# plus room for the multipart envelope, and nginx's client_max_body_size matches it.
MEDIA_IMAGE_MAX_BYTES = int(os.environ.get("MEDIA_IMAGE_MAX_BYTES", 20 * 1024 * 1024))
# Past this many pixels (width x height, per frame) an image is refused before it is decoded.
MEDIA_IMAGE_MAX_PIXELS = int(os.environ.get("MEDIA_IMAGE_MAX_PIXELS", 50_000_000))
# Frames of an animated GIF or WebP kept; past it the upload is refused.
MEDIA_IMAGE_MAX_FRAMES = int(os.environ.get("MEDIA_IMAGE_MAX_FRAMES", 300))
# Voice messages (media.audiovisual: Opus or AAC) and videos (H.264 MP4, VP8/VP9/AV1 WebM): past the
# bytes 413, past the seconds 400. The upload path's body limit is the largest kind's (config.middleware).
MEDIA_AUDIO_MAX_BYTES = int(os.environ.get("MEDIA_AUDIO_MAX_BYTES", 2 * 1024 * 1024))
MEDIA_AUDIO_MAX_SECONDS = int(os.environ.get("MEDIA_AUDIO_MAX_SECONDS", 60))
MEDIA_VIDEO_MAX_BYTES = int(os.environ.get("MEDIA_VIDEO_MAX_BYTES", 100 * 1024 * 1024))
MEDIA_VIDEO_MAX_SECONDS = int(os.environ.get("MEDIA_VIDEO_MAX_SECONDS", 180))
MEDIA_ALT_MAX_LENGTH = 1500
# Photos on one post or message.
MEDIA_PER_ITEM = 9
# The display image fits this many pixels on its long side; the thumbnail is a square this wide.
MEDIA_DISPLAY_SIDE = 2048
MEDIA_THUMBNAIL_SIDE = 400
# An upload nobody attached is deleted after this; a deleted post's or recalled message's files
# (already served to nobody) are removed this long after (manage.py prune_media).
MEDIA_UNATTACHED_TTL = timedelta(hours=int(os.environ.get("MEDIA_UNATTACHED_TTL_HOURS", 24)))
MEDIA_RETENTION = timedelta(hours=int(os.environ.get("MEDIA_RETENTION_HOURS", 24)))
# Where processing runs: "thread" (a pool in this process, the embedded default), "celery" (background
# workers on Redis; the default when REDIS_URL is set), or "inline" (in the request: tests and tools).
MEDIA_PROCESSING = os.environ.get("MEDIA_PROCESSING", "celery" if REDIS_URL else "thread")
# How an authorized fetch gets its bytes: "direct" (the worker streams them), "accel" (X-Accel-Redirect
# to nginx's internal location MEDIA_ACCEL_PREFIX), "redirect" (a presigned S3 URL, S3 only).
MEDIA_SERVE = os.environ.get("MEDIA_SERVE", "direct")
MEDIA_ACCEL_PREFIX = "/_protected-media/"
# Threads of a worker that answer HTTP requests (config.pooled), each holding a database connection:
# HTTP_FETCH_THREADS for GETs of /media/, /api/feed/ and /api/search/, HTTP_THREADS for the rest.
# MEDIA_SERVE_THREADS is HTTP_FETCH_THREADS's name before 2026-12-03, still read so a deployment
# that set it keeps its figure.
HTTP_FETCH_THREADS = int(os.environ.get("HTTP_FETCH_THREADS") or os.environ.get("MEDIA_SERVE_THREADS") or 4)
HTTP_THREADS = int(os.environ.get("HTTP_THREADS", 8))
MEDIA_PRESIGNED_SECONDS = 60
ACTION_LIMITS["media-upload"] = (int(os.environ.get("MEDIA_UPLOADS_PER_HOUR", 300)), timedelta(hours=1))

# Uploads in an S3 (or S3-compatible) bucket instead of MEDIA_ROOT when MEDIA_S3_BUCKET is set
# (media.storage: private objects, presigned reads that expire after MEDIA_PRESIGNED_SECONDS).
MEDIA_S3_BUCKET = os.environ.get("MEDIA_S3_BUCKET", "")
# Another server than AWS (MinIO, Ceph), e.g. http://127.0.0.1:9000; reached by path.
MEDIA_S3_ENDPOINT_URL = os.environ.get("MEDIA_S3_ENDPOINT_URL", "")
MEDIA_S3_REGION = os.environ.get("MEDIA_S3_REGION", "")
# Without them boto3 finds credentials itself (AWS_* variables, an instance role).
MEDIA_S3_ACCESS_KEY_ID = os.environ.get("MEDIA_S3_ACCESS_KEY_ID", "")
MEDIA_S3_SECRET_ACCESS_KEY = os.environ.get("MEDIA_S3_SECRET_ACCESS_KEY", "")
if MEDIA_S3_BUCKET:
    from media.storage import s3_storage

    STORAGES["default"] = s3_storage(
        bucket=MEDIA_S3_BUCKET,
        endpoint_url=MEDIA_S3_ENDPOINT_URL,
        region=MEDIA_S3_REGION,
        access_key_id=MEDIA_S3_ACCESS_KEY_ID,
        secret_access_key=MEDIA_S3_SECRET_ACCESS_KEY,
        presigned_seconds=MEDIA_PRESIGNED_SECONDS,
    )

# Background work (config/celery.py, media/tasks.py): Celery workers on Redis process uploads when
# MEDIA_PROCESSING is "celery", and beat runs `prune_media` every MEDIA_PRUNE_INTERVAL. `make run`
# (no REDIS_URL) needs none of it: uploads are processed in a thread pool of daphne's.
if MEDIA_PROCESSING == "celery" and not REDIS_URL:
    raise ImproperlyConfigured('MEDIA_PROCESSING="celery" needs REDIS_URL (the workers\' queue)')
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Its keys in Redis, so several deployments (or test runs) can share one server.
    "global_keyprefix": os.environ.get("CELERY_PREFIX", "tandem") + ":",
    # A task taken by a worker that died before finishing goes back on the queue after this long.
    # Longer than any task may run (CELERY_TASK_TIME_LIMIT), or a slow one would run twice.
    "visibility_timeout": 300,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Nobody waits on a task's result: its effect is in the database (Media.status).
CELERY_TASK_IGNORE_RESULT = True
# Acknowledged once done, not when taken: a worker stopped mid-task leaves the task to another.
CELERY_TASK_ACKS_LATE = True
# A worker process takes one task at a time, so a big photo does not hold others queued behind it
# while another process is idle.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A photo within MEDIA_IMAGE_MAX_PIXELS takes seconds. Past the soft limit the task is interrupted
# and the upload marked failed; past the hard one the worker process is killed and replaced (the
# upload stays "processing" until prune_media removes it, MEDIA_UNATTACHED_TTL later). Only the
# prefork pool, the worker's default, enforces them.
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
MEDIA_PRUNE_INTERVAL = timedelta(seconds=int(os.environ.get("MEDIA_PRUNE_INTERVAL_SECONDS", 3600)))
CELERY_BEAT_SCHEDULE = {
    "prune-media": {"task": "media.tasks.prune_media", "schedule": MEDIA_PRUNE_INTERVAL},
    "fold-reads": {"task": "microblog.tasks.fold_reads", "schedule": READS_FOLD_INTERVAL},
    "compute-reach": {"task": "microblog.tasks.compute_reach", "schedule": timedelta(days=1)},
}
# Beat remembers when each periodic task last ran here, across restarts.
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get("CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / "celerybeat-schedule"))

# Channels (chat.services.channels): broadcasts per channel in any 24 hours (WeChat's subscription
# accounts send one a day); past it 429 with Retry-After.
BROADCASTS_PER_DAY = int(os.environ.get("BROADCASTS_PER_DAY", 1))

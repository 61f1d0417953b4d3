"""ASGI entry point: daphne serves HTTP (Django) and WebSockets (Channels) from one process."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup(set_prefix=False)  # what get_asgi_application() does before making its handler

from django.conf import settings  # noqa: E402

from config.pooled import FETCH_PREFIXES, PooledHandler  # noqa: E402

# Every HTTP request is answered in one hop to a pool thread that keeps its database connection
# (config.pooled): under Django's own ASGI handler each request opened a new one, about 20 ms on
# PostgreSQL, more than a small request's queries. Photo fetches, feed pages and searches
# (read-mostly GETs asked all the time) have a pool of their own.
django_asgi_app = PooledHandler(
    fetch_prefixes=FETCH_PREFIXES, fetch_threads=settings.HTTP_FETCH_THREADS, threads=settings.HTTP_THREADS
)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.ws_auth import TokenOrSessionAuthStack  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402
from config.connect_gate import ConnectGate  # noqa: E402

# No AllowedHostsOriginValidator around the stack: it would refuse token clients
# that send no Origin, and answer refusals with HTTP 403 instead of close code 4403.
# The consumer applies the Origin rule to cookie-authenticated sockets itself.
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ConnectGate(TokenOrSessionAuthStack(URLRouter(websocket_urlpatterns))),
    }
)

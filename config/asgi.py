"""ASGI entry point: daphne serves HTTP (Django) and WebSockets (Channels) from one process."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django.setup(set_prefix=False)  # what get_asgi_application() does before making its handler

from django.conf import settings  # noqa: E402

from config.pooled import POOLED_PREFIXES, PooledPathsHandler  # noqa: E402

# Photo fetches (/media/<key>/<variant>: a check of a few small queries, then X-Accel-Redirect or
# the file), feed pages and searches (read-mostly GETs asked all the time) skip the ASGI handler's
# thread hops and keep their database connections (config.pooled): a new connection per request
# cost a feed page more than its queries on PostgreSQL (bench/RESULTS.md, "## Feed").
django_asgi_app = PooledPathsHandler(prefixes=POOLED_PREFIXES, threads=settings.MEDIA_SERVE_THREADS)

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

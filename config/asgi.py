"""ASGI entry point: daphne serves HTTP (Django) and WebSockets (Channels) from one process."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.ws_auth import TokenOrSessionAuthStack  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402

# No AllowedHostsOriginValidator around the stack: it would refuse token clients
# that send no Origin, and answer refusals with HTTP 403 instead of close code 4403.
# The consumer applies the Origin rule to cookie-authenticated sockets itself.
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TokenOrSessionAuthStack(URLRouter(websocket_urlpatterns)),
    }
)

from django.urls import path

from .consumers import TandemConsumer

websocket_urlpatterns = [path("ws/", TandemConsumer.as_asgi())]

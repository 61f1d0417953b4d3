import os

SECRET_KEY = "x"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["daphne", "django.contrib.contenttypes", "django.contrib.auth", "channels", "rooms"]
ROOT_URLCONF = "urls"
ASGI_APPLICATION = "asgi.application"
DATABASES = {}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Not the tutorial's: `make bench-chat ARGS=--services` runs the peer over the Redis pub/sub layer
# Tandem uses there, so the two are compared over the same layer.
if os.environ.get("REDIS_URL"):
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": os.environ["REDIS_URL"], "socket_timeout": 15}], "prefix": "peer"},
        }
    }
USE_TZ = True

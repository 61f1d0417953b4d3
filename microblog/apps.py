from django.apps import AppConfig


class MicroblogConfig(AppConfig):
    name = "microblog"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from realtime.renderers import register

        from . import receivers  # noqa: F401  (connects signal receivers)
        from .serializers import render_notification_events
        from .services import NOTIFICATION_EVENT

        register(NOTIFICATION_EVENT, render_notification_events)

        from media import access

        from .selectors import media_audience

        access.register("post", media_audience)

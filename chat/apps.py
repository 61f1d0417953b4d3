from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import (
            receivers,  # noqa: F401  (connects signal receivers)
            renderers,
        )

        renderers.register()

        from media import access

        from .visibility import media_audience

        access.register("message", media_audience)

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from common import store_epoch  # noqa: F401  (reads the epoch of every new database connection)

        from . import receivers  # noqa: F401  (connects signal receivers)

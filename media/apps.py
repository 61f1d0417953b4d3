from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "media"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # accounts sits below media and sets avatars through this hook (accounts.avatars).
        from accounts import avatars

        from .attach import avatar_set

        avatars.register_setter(avatar_set)

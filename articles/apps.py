from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from media import access

        from .selectors import media_audience

        # A cover's or an inline image's bytes: whoever may read the article.
        access.register("article", media_audience)

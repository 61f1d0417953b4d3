"""API shapes for articles. Serializers parse and present; services check the rules and write."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from media.serializers import MediaSerializer
from microblog.models import Visibility

from . import render
from .models import MAX_BODY_CHARS, MAX_TITLE_CHARS, Article

MAX_ID = 2**63 - 1


@extend_schema_field({"type": "string", "pattern": "^(draft|published)$", "description": "`draft` or `published`."})
class StatusField(serializers.CharField):
    """An article's status. Spelled as a pattern: drf-spectacular names every enum it finds, and one
    `status` enum in two article components collides with the media's and contact requests'."""


class ArticleSerializer(serializers.ModelSerializer):
    """An article as its reader may see it; `html` is rendered and sanitised now, never read from storage."""

    author = UserSummarySerializer(read_only=True)
    html = serializers.SerializerMethodField(help_text="The body as sanitised HTML (articles.render's allow-list).")
    cover = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField(help_text="The reading page, /a/{id}/.")
    status = StatusField(read_only=True)
    post = serializers.SerializerMethodField(
        help_text="The post that carries the article, if any (its likes and reposts)."
    )

    class Meta:
        model = Article
        fields = (
            "id",
            "author",
            "title",
            "body",
            "html",
            "excerpt",
            "cover",
            "visibility",
            "status",
            "read_count",
            "created_at",
            "updated_at",
            "published_at",
            "url",
            "post",
        )
        read_only_fields = fields

    def get_html(self, article: Article) -> str:
        return render.render(article.body)

    @extend_schema_field(MediaSerializer(allow_null=True))
    def get_cover(self, article: Article) -> dict | None:
        return MediaSerializer(article.cover).data if article.cover_id is not None else None

    def get_url(self, article: Article) -> str:
        return reverse("article", args=[article.pk])

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_post(self, article: Article) -> int | None:
        return getattr(article, "carrying_post_id", None)


class ArticleSummarySerializer(ArticleSerializer):
    """An article in a list (the author's own, search results): everything but the body and its HTML,
    which a 50,000-character article makes costly to render twenty times (bench/RESULTS.md, "Articles")."""

    class Meta(ArticleSerializer.Meta):
        fields = tuple(name for name in ArticleSerializer.Meta.fields if name not in {"body", "html"})
        read_only_fields = fields


def _text_field(max_length: int, **kwargs) -> serializers.CharField:
    # The service trims, normalises and applies the rules; the schema states the bound.
    return serializers.CharField(max_length=max_length, trim_whitespace=False, **kwargs)


class ArticleWriteSerializer(serializers.Serializer):
    title = _text_field(MAX_TITLE_CHARS, help_text="1–120 characters.")
    body = _text_field(MAX_BODY_CHARS, required=False, allow_blank=True, default="", help_text="Markdown.")
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PUBLIC)
    cover = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="An upload id (POST /api/media/): your own photo, ready and not attached to anything yet.",
    )


class ArticlePatchSerializer(ArticleWriteSerializer):
    title = _text_field(MAX_TITLE_CHARS, required=False, help_text="1–120 characters.")
    body = _text_field(MAX_BODY_CHARS, required=False, allow_blank=True, help_text="Markdown.")
    visibility = serializers.ChoiceField(
        choices=Visibility.choices, required=False, help_text="Fixed once the article is published."
    )


class PreviewSerializer(serializers.Serializer):
    body = _text_field(MAX_BODY_CHARS, allow_blank=True)


class PreviewAnswerSerializer(serializers.Serializer):
    html = serializers.CharField()


class ArticleSearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")

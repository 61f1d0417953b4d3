"""Long-form articles (Weibo's headline articles, the pieces of a channel's broadcast).

An article stands on its own: a post may carry one (`microblog.Post.article`), a chat message may
share one, a channel's broadcast may list several; none of them is needed for it to exist.

Who may read it is the posts' rule, spelled once in `microblog.models._audience_q` (public,
followers, contacts; blocks cut both ways), applied to the article's own author and visibility,
and only once it is published: a draft is its author's alone. `ArticleQuerySet.visible_to` is
where every surface starts (the API, /a/, cards in posts and chats, search, the cover's fetch).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from microblog.models import Visibility, _audience_q

MAX_TITLE_CHARS = 120
MAX_BODY_CHARS = 50_000


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Article.Status.PUBLISHED)

    def visible_to(self, viewer):
        """Articles `viewer` (None or anonymous: a visitor) may read: published ones whose audience
        holds the viewer (no block between them and the author), and the viewer's own drafts."""
        readable = Q(status=Article.Status.PUBLISHED) & _audience_q(viewer)
        if viewer is not None and viewer.is_authenticated:
            readable |= Q(author_id=viewer.pk)
        return self.filter(readable)


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        PUBLISHED = "published"

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=MAX_TITLE_CHARS)
    # Markdown as written; rendered (and sanitised) on every read by articles.render.
    body = models.TextField(blank=True)
    # The first words as plain text, for cards: kept with the body so a list of cards renders no Markdown.
    excerpt = models.CharField(max_length=300, blank=True)
    cover = models.ForeignKey("media.Media", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Fixed once published, as a post's is: a post carrying it was shown to that audience.
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Distinct signed-in readers other than the author (ArticleRead), counted once each.
    read_count = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["author", "-updated_at"], name="articles_author_updated"),
            models.Index(fields=["status", "visibility", "-published_at"], name="articles_published"),
        ]

    def __str__(self) -> str:
        return f"article {self.pk} by {self.author_id}"

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class ArticleRead(models.Model):
    """One signed-in reader of an article: the unique pair makes `read_count` count each reader once."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="articles_read_once")]

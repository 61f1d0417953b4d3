"""Reads for articles. Every one starts from `Article.objects.visible_to(viewer)`."""

from django.db.models import QuerySet

from media import access
from microblog.selectors import posts_visible

from .models import Article

MAX_ID = 2**63 - 1


def _id(value) -> int | None:
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= MAX_ID else None


def articles_visible(viewer) -> QuerySet[Article]:
    return Article.objects.visible_to(viewer).select_related("author__avatar", "cover")


def article_visible(viewer, article_id) -> Article | None:
    """The article if it exists and the viewer may read it (a draft: its author only); None alike otherwise."""
    article_id = _id(article_id)
    if article_id is None:
        return None
    return articles_visible(viewer).filter(pk=article_id).first()


def articles_by_id(viewer, ids) -> dict[int, Article]:
    """The articles among `ids` the viewer may read, published ones only (cards never show drafts): one query."""
    ids = [i for i in map(_id, ids) if i is not None]
    if not ids:
        return {}
    return {a.pk: a for a in articles_visible(viewer).filter(pk__in=ids, status=Article.Status.PUBLISHED)}


def with_carrying_posts(viewer, articles) -> list[Article]:
    """Each article with `carrying_post_id`: the post carrying it, when the viewer may see that post
    (its likes and reposts are the article's), else None. One query for the lot."""
    articles = list(articles)
    ids = [a.pk for a in articles if a.is_published]
    found = dict(posts_visible(viewer).filter(article_id__in=ids).values_list("article_id", "pk")) if ids else {}
    for article in articles:
        article.carrying_post_id = found.get(article.pk)
    return articles


def articles_of_author(author) -> QuerySet[Article]:
    """The author's own articles, drafts too, latest edited first."""
    return (
        Article.objects.filter(author=author).select_related("author__avatar", "cover").order_by("-updated_at", "-id")
    )


def _articles_visible(viewer, ids: list[int]) -> set[int]:
    return set(Article.objects.visible_to(viewer).filter(pk__in=ids).values_list("pk", flat=True))


def _articles_public(ids: list[int]) -> set[int]:
    return set(Article.objects.published().filter(pk__in=ids, visibility="public").values_list("pk", flat=True))


# A cover's or an inline image's bytes: whoever may read the article (a draft's: its author).
media_audience = access.Audience(visible=_articles_visible, public=_articles_public)

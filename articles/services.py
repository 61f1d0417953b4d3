"""Writes for articles: create, edit (the editor's autosave), publish, delete, and counting a read.

The API and the pages call these; these own every rule (lengths, valid text, whose article,
visibility fixed once published, which uploads may be its cover and images) and raise an
`ArticleError` (or `NotFound`), mapped once per transport.
"""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import limits
from common.errors import NotFound, RateLimited, ServiceError
from common.text import is_blank
from media.attach import media_attach, media_claim, media_detach
from media.models import Media
from microblog.models import Visibility
from microblog.text import has_surrogates, normalize

from . import render
from .models import MAX_BODY_CHARS, MAX_TITLE_CHARS, Article, ArticleRead
from .selectors import article_visible

# What media.access knows an article's uploads by (its cover and inline images).
MEDIA_KIND = "article"
# Live previews a writer may ask for: the editor asks at most about twice a second while typing.
PREVIEWS_PER_MINUTE = getattr(settings, "ARTICLE_PREVIEWS_PER_MINUTE", 120)


class ArticleError(ServiceError):
    def __init__(self, detail: str, *, code: str = "invalid", status: int = 400):
        super().__init__(code, detail, status)


def _text(value, *, field: str) -> str:
    if not isinstance(value, str) or has_surrogates(value) or "\x00" in value:
        raise ArticleError(f"The {field} must be valid text.", code="invalid_text")
    return normalize(value)


def _title_clean(title) -> str:
    title = " ".join(_text(title, field="title").split())
    if is_blank(title):
        raise ArticleError("Give the article a title.", code="blank_title")
    if len(title) > MAX_TITLE_CHARS:
        raise ArticleError(f"Titles are limited to {MAX_TITLE_CHARS} characters.", code="title_too_long")
    return title


def _body_clean(body) -> str:
    body = _text(body, field="body").strip()
    if len(body) > MAX_BODY_CHARS:
        raise ArticleError(f"Articles are limited to {MAX_BODY_CHARS:,} characters.", code="too_long")
    return body


def _visibility_clean(visibility) -> str:
    if visibility not in Visibility.values:
        raise ArticleError("Choose public, followers or contacts.", code="invalid_visibility")
    return visibility


def _own(author, article: Article | int) -> Article:
    """The author's own article, locked for the write; NotFound for anyone else's (they may not learn of drafts)."""
    article_id = article.pk if isinstance(article, Article) else article
    found = article_visible(author, article_id)
    if found is None:
        raise NotFound()
    if found.author_id != author.pk:
        raise ArticleError("Only the author may change an article.", code="not_author", status=403)
    return Article.objects.select_for_update().get(pk=found.pk)


def _cover_set(article: Article, media_id: int | None) -> None:
    """Makes the upload `media_id` (the author's own, unattached, a ready image) the cover, or none."""
    if media_id == article.cover_id:
        return
    new = None
    if media_id is not None:
        [new] = media_claim(owner=article.author, ids=[media_id], kind=MEDIA_KIND)
        if new.kind != Media.Kind.IMAGE:
            raise ArticleError("A cover must be a photo.", code="invalid_cover")
    if article.cover_id is not None:
        Media.objects.filter(pk=article.cover_id, detached_at__isnull=True).update(detached_at=timezone.now())
    if new is not None:
        media_attach([new], kind=MEDIA_KIND, target_id=article.pk)
    article.cover = new


def _images_attach(article: Article) -> None:
    """Attaches the author's own unattached photos the body shows, so its readers may fetch them.

    Photos attached elsewhere (a post's) keep their own rule; an image the body no longer shows
    stays attached (an editor's autosave may catch a cut before its paste).
    """
    keys = render.media_keys(article.body)
    if not keys:
        return
    photos = list(
        Media.objects.select_for_update().filter(
            key__in=keys,
            owner_id=article.author_id,
            attached_kind="",
            detached_at__isnull=True,
            status=Media.Status.READY,
            kind=Media.Kind.IMAGE,
        )
    )
    if photos:
        media_attach(photos, kind=MEDIA_KIND, target_id=article.pk)


def _save(article: Article, fields: list[str]) -> None:
    article.excerpt = render.excerpt(article.body)
    article.save(update_fields=[*fields, "excerpt", "updated_at"])
    _images_attach(article)


@transaction.atomic
def article_create(*, author, title, body="", visibility: str = Visibility.PUBLIC, cover: int | None = None) -> Article:
    """A new draft by `author`: title 1–120 characters, a Markdown body up to 50,000, an optional cover."""
    article = Article.objects.create(
        author=author,
        title=_title_clean(title),
        body=_body_clean(body),
        visibility=_visibility_clean(visibility),
    )
    if cover is not None:
        _cover_set(article, cover)
    _save(article, ["cover"])
    return article


_UNSET = object()


@transaction.atomic
def article_update(*, author, article: Article | int, title=_UNSET, body=_UNSET, visibility=_UNSET, cover=_UNSET):
    """Changes what is given (the editor's autosave sends what changed). The visibility is fixed
    once published: those who saw it in a post were chosen by it."""
    article = _own(author, article)
    fields = []
    if title is not _UNSET:
        article.title = _title_clean(title)
        fields.append("title")
    if body is not _UNSET:
        article.body = _body_clean(body)
        fields.append("body")
    if visibility is not _UNSET:
        visibility = _visibility_clean(visibility)
        if article.is_published and visibility != article.visibility:
            raise ArticleError("A published article keeps its visibility.", code="visibility_fixed")
        article.visibility = visibility
        fields.append("visibility")
    if cover is not _UNSET:
        _cover_set(article, cover)
        fields.append("cover")
    _save(article, fields)
    return article


@transaction.atomic
def article_publish(*, author, article: Article | int) -> Article:
    """Publishes the author's draft (publishing a published article changes nothing)."""
    article = _own(author, article)
    if not article.is_published:
        if is_blank(render.plain_text(article.body)) and article.cover_id is None:
            raise ArticleError("Write something before publishing.", code="blank")
        article.status = Article.Status.PUBLISHED
        article.published_at = timezone.now()
        article.save(update_fields=["status", "published_at", "updated_at"])
    return article


@transaction.atomic
def article_delete(*, author, article: Article | int) -> None:
    """Deletes the author's article; its cover and images are served to nobody from now on, and a post
    that carried it keeps its own words."""
    article = _own(author, article)
    media_detach(kind=MEDIA_KIND, ids=[article.pk])
    article.delete()


def article_read(*, reader, article: Article) -> bool:
    """Counts `reader` (signed in, not the author) as a reader of the published `article`, once ever.
    True when this was their first read."""
    if reader is None or not reader.is_authenticated or reader.pk == article.author_id or not article.is_published:
        return False
    try:
        with transaction.atomic():
            ArticleRead.objects.create(article=article, user=reader)
            Article.objects.filter(pk=article.pk).update(read_count=F("read_count") + 1)
    except IntegrityError:
        return False
    article.read_count += 1
    return True


def article_preview(*, author, body) -> str:
    """The editor's live preview: the body rendered by the same code as the page (rate-limited per writer)."""
    wait = limits.take("article-preview", str(author.pk), limit=PREVIEWS_PER_MINUTE, window=timedelta(minutes=1))
    if wait is not None:
        raise RateLimited(retry_after=wait, detail="Too many previews. Try again in a moment.")
    return render.render(_body_clean(body))

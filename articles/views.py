"""The article pages: the editor (/write/, /write/{id}/) and the reading page (/a/{id}/).

Plain forms that work without JavaScript (static/js/write.js adds autosave and the live
preview over the API); every write goes through `services`, every read through `selectors`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.services import action_take
from common.errors import ServiceError
from microblog import selectors as microblog_selectors
from microblog import services as microblog_services

from . import render as article_render
from . import selectors, services
from .forms import ArticleForm
from .models import Article


def _own_article(request, pk: int) -> Article:
    article = selectors.article_visible(request.user, pk)
    if article is None or article.author_id != request.user.pk:
        raise Http404("No such article.")
    return article


def _save(request, article: Article | None, data: dict) -> Article:
    fields = {"title": data["title"], "body": data["body"], "cover": data["cover"]}
    if article is None:
        return services.article_create(author=request.user, visibility=data["visibility"], **fields)
    if not article.is_published:
        fields["visibility"] = data["visibility"]
    return services.article_update(author=request.user, article=article, **fields)


@login_required
def write(request, pk: int | None = None):
    """The editor: a new article, or one of the author's own (anyone else's is 404, drafts being private)."""
    article = _own_article(request, pk) if pk is not None else None
    initial = (
        {"title": article.title, "body": article.body, "visibility": article.visibility, "cover": article.cover_id}
        if article is not None
        else None
    )
    form = ArticleForm(request.POST or None, initial=initial)
    if article is not None and article.is_published:
        form.fields["visibility"].disabled = True  # fixed once published (the service's rule)
        form.fields["share"].widget = form.fields["share"].hidden_widget()
    if request.method == "POST" and form.is_valid():
        try:
            article = _save(request, article, form.cleaned_data)
            if "publish" in request.POST:
                return _publish(request, article, share=form.cleaned_data["share"])
        except ServiceError as error:
            if error.status == 429:
                raise
            form.add_error(None, error.detail)
        else:
            messages.success(request, "Draft saved.")
            return redirect("article-edit", pk=article.pk)
    preview = article_render.render(article.body) if article is not None else ""
    context = {"form": form, "article": article, "preview": preview}
    return render(request, "articles/write.html", context)


def _publish(request, article: Article, *, share: bool):
    already = article.is_published
    article = services.article_publish(author=request.user, article=article)
    if share and not already and not article_post_exists(article):
        action_take(action="post", user=request.user)
        microblog_services.post_create(author=request.user, body="", visibility=None, article=article.pk)
    messages.success(request, "Published." if not already else "Saved.")
    return redirect("article", pk=article.pk)


def article_post_exists(article: Article) -> bool:
    return selectors.with_carrying_posts(article.author, [article])[0].carrying_post_id is not None


def read(request, pk: int):
    """The reading page. A signed-in reader other than the author counts once in `read_count`."""
    article = selectors.article_visible(request.user, pk)
    if article is None:
        raise Http404("No such article.")
    services.article_read(reader=request.user, article=article)
    selectors.with_carrying_posts(request.user, [article])
    post = (
        microblog_selectors.post_visible(request.user, article.carrying_post_id)
        if article.carrying_post_id is not None
        else None
    )
    html = article_render.render(article.body)
    context = {
        "article": article,
        "html": html,
        "minutes": article_render.reading_minutes(html),
        "post": post,
        "following": request.user.is_authenticated and microblog_selectors.is_following(request.user, article.author),
    }
    return render(request, "articles/read.html", context)


@require_POST
@login_required
def delete(request, pk: int):
    services.article_delete(author=request.user, article=_own_article(request, pk))
    messages.success(request, "Article deleted.")
    return redirect("profile", username=request.user.username)

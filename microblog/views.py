"""Browser pages for the microblog: home feed, explore, profiles, posts, tags, notifications.

Plain forms that work without JavaScript; every write goes through `services`,
every read through `selectors`, exactly as the API does.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.selectors import contact_requests_for
from accounts.services import action_take
from media.attach import MediaRefused

# The search app sits above microblog and chat (it reads both); this page only shows its results.
from search.views import search_page

from . import ranking, reach, reads, selectors, services, trending
from .forms import PostForm, ReplyForm, RepostForm
from .models import Post
from .services import MicroblogError

PAGE_SIZE = 30
FEED_TABS = (("ranked", "Ranked"), ("latest", "Latest"), ("moments", "Moments"))
FEED_ORDERS = tuple(value for value, _ in FEED_TABS)


def _page(request, posts) -> tuple[list[Post], int | None]:
    """One page of a newest-first list, paged by `?before=<id>`; with the next page's `before`."""
    before = request.GET.get("before", "")
    if before.isdigit() and len(before) < 19:
        posts = posts.filter(pk__lt=int(before))
    page = list(posts.select_related("original__author__avatar")[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = selectors.posts_with_media(page[:PAGE_SIZE])
    reads.reads_record(request.user, page)
    return page, (page[-1].pk if more else None)


def _back(request, default: str):
    """Where a post's action bar sends the browser after a form post: the page it was on (`next`,
    a path on this site only), else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def _visible_post(request, pk: int) -> Post:
    post = selectors.post_visible(request.user, pk)
    if post is None:
        raise Http404("No such post.")
    return post


def _visible_user(request, username: str):
    user = selectors.user_visible(request.user, username)
    if user is None:
        raise Http404("No such person.")
    return user


def home(request):
    if not request.user.is_authenticated:
        return render(request, "home.html")
    order = request.GET.get("order") if request.GET.get("order") in FEED_ORDERS else "ranked"
    # Posting from the Moments tab shares with contacts unless the author picks otherwise.
    form = PostForm(request.POST or None, initial={"visibility": "contacts"} if order == "moments" else None)
    if request.method == "POST" and form.is_valid():
        action_take(action="post", user=request.user)
        try:
            services.post_create(
                author=request.user,
                body=form.cleaned_data["body"],
                visibility=form.cleaned_data["visibility"],
                media=form.cleaned_data["media"],
                article=form.cleaned_data["article"],
            )
        except (MicroblogError, MediaRefused) as error:
            form.add_error("body", error.detail)
        else:
            messages.success(request, "Posted.")
            return redirect(f"{reverse('home')}?order=moments" if order == "moments" else reverse("home"))
    try:
        page = ranking.feed_page(viewer=request.user, order=order, cursor=request.GET.get("cursor"), limit=PAGE_SIZE)
    except ranking.InvalidCursor:
        page = ranking.feed_page(viewer=request.user, order=order, limit=PAGE_SIZE)
    selectors.posts_with_media(item.post for item in page.items)
    reads.reads_record(request.user, (item.post for item in page.items))
    context = {"form": form, "order": order, "page": page, "feed_tabs": FEED_TABS}
    return render(request, "microblog/home.html", context)


def explore(request):
    query = request.GET.get("q", "").strip()
    posts, before = _page(request, selectors.public_timeline(request.user))
    context = {"posts": posts, "before": before, "trends": trending.trending_for(request.user), "query": query}
    if query:
        context.update(search_page(request, query))
    return render(request, "microblog/explore.html", context)


def tag(request, tag: str):
    posts, before = _page(request, selectors.tag_posts(request.user, tag))
    return render(request, "microblog/tag.html", {"tag": tag, "posts": posts, "before": before})


def profile(request, username: str):
    user = _visible_user(request, username)
    if user.is_channel:
        # A channel's page is its own (chat's /c/{username}/): subscribe, broadcasts, no follow button.
        return redirect(f"/c/{user.username}/")
    posts, before = _page(request, selectors.user_posts(request.user, user))
    context = {"profile": selectors.profile_of(request.user, user), "posts": posts, "before": before}
    return render(request, "microblog/profile.html", context)


def post_detail(request, pk: int):
    post = _visible_post(request, pk)
    reply_form = ReplyForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/login/?next=/p/{post.pk}/")
        if reply_form.is_valid():
            action_take(action="post", user=request.user)
            try:
                services.post_create(
                    author=request.user,
                    body=reply_form.cleaned_data["body"],
                    visibility=reply_form.cleaned_data["visibility"],
                    reply_to=post,
                    media=reply_form.cleaned_data["media"],
                )
            except (MicroblogError, MediaRefused) as error:
                reply_form.add_error("body", error.detail)
            else:
                messages.success(request, "Replied.")
                return _back(request, reverse("post", args=[post.pk]))
    reposts = selectors.post_reposts(request.user, post).select_related("original__author__avatar")[:20]
    context = {
        "post": selectors.posts_with_media([post])[0],
        "chain": selectors.repost_chain(post),
        "parent": selectors.thread_parent(request.user, post),
        "replies": selectors.posts_with_media(selectors.post_replies(request.user, post)[:100]),
        "reposts": selectors.posts_with_media(reposts),
        "reply_form": reply_form,
        "repost_form": RepostForm(),
    }
    # The post itself is read; the replies and reposts listed under it are shown too.
    reads.reads_record(request.user, [post, *context["replies"], *context["reposts"]])
    if request.user.is_authenticated and post.author_id == request.user.pk:
        context["reach"] = reach.reach_of(post)
    return render(request, "microblog/post.html", context)


@require_POST
@login_required
def post_repost(request, pk: int):
    post = _visible_post(request, pk)
    back = reverse("post", args=[post.pk])
    form = RepostForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Could not repost.")
        return _back(request, back)
    action_take(action="post", user=request.user)
    try:
        services.post_repost(author=request.user, post=post, comment=form.cleaned_data["comment"])
    except MicroblogError as error:
        messages.error(request, error.detail)
        return _back(request, back)
    # Back where the person was (the reposted post's page by default), not onto the new repost: a
    # repost is a side effect of reading, and its own page would greet them with a Delete button.
    messages.success(request, "Reposted.")
    return _back(request, back)


@require_POST
@login_required
def post_like(request, pk: int):
    post = _visible_post(request, pk)
    (services.post_unlike if post.viewer_liked else services.post_like)(user=request.user, post=post)
    return _back(request, f"{reverse('post', args=[post.pk])}#post-{post.pk}")


@require_POST
@login_required
def post_delete(request, pk: int):
    # Someone else's post answers 403 (`not_author`) through ServiceErrorMiddleware, as the API does.
    services.post_delete(actor=request.user, post=_visible_post(request, pk))
    messages.success(request, "Post deleted.")
    return redirect("profile", username=request.user.username)


def _toggle(request, username: str, *, is_on, turn_on, turn_off):
    """A profile button: turns the relation off when it is on, on when it is off."""
    user = _visible_user(request, username)
    try:
        (turn_off if is_on(request.user, user) else turn_on)(request.user, user)
    except MicroblogError as error:  # a refusal to show on the page; a rate limit answers 429
        messages.error(request, error.detail)
    # A button elsewhere ("Who to follow") comes back where it was pressed; only to this site.
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("profile", username=user.username)


def _follow(viewer, user) -> None:
    action_take(action="follow", user=viewer)
    services.user_follow(follower=viewer, followee=user)


@require_POST
@login_required
def user_follow(request, username: str):
    return _toggle(
        request,
        username,
        is_on=selectors.is_following,
        turn_on=_follow,
        turn_off=lambda viewer, user: services.user_unfollow(follower=viewer, followee=user),
    )


@require_POST
@login_required
def user_mute(request, username: str):
    return _toggle(
        request,
        username,
        is_on=selectors.is_muting,
        turn_on=lambda viewer, user: services.user_mute(user=viewer, muted=user),
        turn_off=lambda viewer, user: services.user_unmute(user=viewer, muted=user),
    )


NOTIFICATION_TABS = (("all", "All"), ("mentions", "Mentions"), ("requests", "Requests"))


@login_required
def notifications(request):
    tab = request.GET.get("tab") if request.GET.get("tab") in dict(NOTIFICATION_TABS) else "all"
    requests = list(contact_requests_for(request.user, direction="incoming")[:50])
    groups = []
    if tab != "requests":
        kinds = selectors.MENTION_KINDS if tab == "mentions" else None
        groups = selectors.notification_groups(request.user, kinds=kinds)
    # Opening the page is seeing them: every notification up to the newest one now is read, so the
    # badge clears (it is rendered after this). The lines above keep their unread mark for this view.
    newest = selectors.notifications_for(request.user).values_list("pk", flat=True).first()
    if newest is not None:
        services.notifications_mark_read(user=request.user, up_to=newest)
    context = {"tab": tab, "tabs": NOTIFICATION_TABS, "groups": groups, "requests": requests}
    return render(request, "microblog/notifications.html", context)


@require_POST
@login_required
def notifications_read(request):
    services.notifications_mark_read(user=request.user)
    return redirect("notifications")

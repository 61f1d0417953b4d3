"""Browser pages for channels: the channel's page, creating one, a person's Subscriptions, and for
the owner and editors the inbox and the dashboard. Plain forms over chat.services.channels; the
Subscriptions list updates live (static/js/subscriptions.js)."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from accounts.selectors import user_by_username
from articles.models import Article
from common.errors import ServiceError

from . import channel_data, charts, selectors
from .models import Conversation
from .serializers import conversation_title
from .services import channels as services


def _channel_or_404(request, username):
    channel = channel_data.channel_by_username(username, request.user)
    if channel is None:
        raise Http404("No such channel.")
    return channel


def _staff_channel_or_404(request, username):
    channel = _channel_or_404(request, username)
    if not channel_data.is_staff(request.user, channel):
        raise Http404("No such channel.")
    return channel


def channel_page(request, username):
    channel = _channel_or_404(request, username)
    broadcasts = channel_data.with_articles(channel_data.broadcasts_of(channel)[:20], request.user)
    context = {
        "channel": channel,
        "account": channel.account,
        "subscribed": channel_data.is_subscribed(request.user, channel),
        "staff": channel_data.is_staff(request.user, channel),
        "broadcasts": broadcasts,
    }
    return render(request, "channels/channel.html", context)


@login_required
@require_POST
def subscribe(request, username):
    channel = _channel_or_404(request, username)
    try:
        if request.POST.get("subscribe") == "0":
            services.channel_unsubscribe(user=request.user, channel=channel)
        else:
            services.channel_subscribe(user=request.user, channel=channel)
    except ServiceError as error:
        flash.error(request, error.detail)
    return redirect("channel", username=channel.account.username)


@login_required
@require_POST
def message_channel(request, username):
    channel = _channel_or_404(request, username)
    try:
        conversation = services.private_conversation(user=request.user, channel=channel)
    except ServiceError as error:
        flash.error(request, error.detail)
        return redirect("channel", username=channel.account.username)
    return redirect("chat-conversation", conversation_id=conversation.pk)


@login_required
@require_http_methods(["GET", "POST"])
def channel_create(request):
    status = 200
    values = {"username": "", "display_name": "", "bio": ""}
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in values}
        try:
            channel = services.channel_create(owner=request.user, **values)
        except ServiceError as error:
            flash.error(request, error.detail)
            status = error.status
        else:
            return redirect("channel-dashboard", username=channel.account.username)
    mine = channel_data.channels_of_staff(request.user)
    return render(request, "channels/create.html", {"values": values, "mine": mine}, status=status)


@login_required
def subscriptions_page(request):
    """A person's channels, folded out of the chat list: newest broadcast first, each with its unread count."""
    rows = selectors.with_last_messages(
        request.user, selectors.conversations_for(request.user).filter(kind=Conversation.Kind.CHANNEL)[:500]
    )
    context = {"conversations": [(row, conversation_title(row, request.user)) for row in rows]}
    return render(request, "channels/subscriptions.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def inbox_page(request, username):
    channel = _staff_channel_or_404(request, username)
    conversations = list(channel_data.inbox_of(channel)[:100])
    current = None
    wanted = request.GET.get("conversation") or request.POST.get("conversation")
    if wanted and wanted.isdigit() and len(wanted) < 19:
        current = next((c for c in conversations if c.pk == int(wanted)), None)
    status = 200
    if request.method == "POST":
        if current is None:
            raise Http404("No such conversation.")
        try:
            services.channel_reply(
                user=request.user, channel=channel, conversation_id=current.pk, body=request.POST.get("body", "")
            )
        except ServiceError as error:
            flash.error(request, error.detail)
            status = error.status
        else:
            return redirect(f"{request.path}?conversation={current.pk}")
    for conversation in conversations:
        conversation.subscriber = next(
            (m.user for m in conversation.memberships.all() if m.user_id != channel.account_id), None
        )
    page = []
    if current is not None:
        account = User(pk=channel.account_id)
        page = selectors.message_page(viewer=account, conversation=current, before=None, after=None, limit=50)[
            "results"
        ]
    context = {"channel": channel, "conversations": conversations, "current": current, "messages_page": page}
    return render(request, "channels/inbox.html", context, status=status)


def _publishable_articles(channel):
    writers = [channel.owner_id, *channel.editors.values_list("pk", flat=True)]
    return (
        Article.objects.published()
        .filter(author_id__in=writers, visibility="public")
        .select_related("author")
        .order_by("-published_at")[:50]
    )


def _ids(values) -> list[int]:
    return [int(value) for value in values if value.isascii() and value.isdigit() and len(value) < 19]


DASHBOARD_ACTIONS = {
    "broadcast": lambda user, channel, data: services.broadcast_create(
        sender=user,
        channel=channel,
        title=data.get("title", ""),
        body=data.get("body", ""),
        articles=_ids(data.getlist("articles")),
        media=_ids(data.getlist("media")),  # photos the page uploaded first (static/js/post-form.js)
    ),
    "editor-add": lambda user, channel, data: services.channel_editor_add(
        user=user, channel=channel, editor=_person(data.get("username"))
    ),
    "editor-remove": lambda user, channel, data: services.channel_editor_remove(
        user=user, channel=channel, editor=_person(data.get("username"))
    ),
    "auto-reply": lambda user, channel, data: services.auto_reply_set(
        user=user, channel=channel, keyword=data.get("keyword", ""), reply=data.get("reply", "")
    ),
}
DONE = {
    "broadcast": "Broadcast sent.",
    "editor-add": "Editor added.",
    "editor-remove": "Editor removed.",
    "auto-reply": "Auto-reply saved.",
}


def _person(username) -> User:
    person = user_by_username(username) if isinstance(username, str) and "\x00" not in username else None
    if person is None:
        raise services.NotFound()
    return person


@login_required
@require_http_methods(["GET", "POST"])
def dashboard_page(request, username):
    channel = _staff_channel_or_404(request, username)
    status = 200
    if request.method == "POST":
        action = DASHBOARD_ACTIONS.get(request.POST.get("action"))
        if action is None:
            flash.error(request, "Unknown action.")
            status = 400
        else:
            try:
                action(request.user, channel, request.POST)
            except ServiceError as error:
                flash.error(request, "No such person." if error.code == "not_found" else error.detail)
                status = error.status
            else:
                flash.success(request, DONE[request.POST["action"]])
                return redirect("channel-dashboard", username=channel.account.username)
    stats = channel_data.analytics(channel)
    context = {
        "channel": channel,
        "is_owner": channel.owner_id == request.user.pk,
        "editors": channel.editors.order_by("username"),
        "auto_replies": channel.auto_replies.order_by("keyword"),
        "articles": _publishable_articles(channel),
        "stats": stats,
        "subscribers_chart": charts.line_chart(stats["subscribers"], label="Subscribers, last 30 days"),
        "reads_chart": charts.bar_chart(
            [(row["broadcast"].title, row["reads"]) for row in reversed(stats["broadcasts"])],
            label="Reads per broadcast",
        ),
    }
    return render(request, "channels/dashboard.html", context, status=status)

"""Browser pages for chat: contacts and conversations. Forms work without JavaScript;
static/js/chat.js makes the conversation live over /ws/."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.selectors import (
    blocked_by,
    contact_requests_for,
    contacts_of,
    user_by_username,
)
from accounts.services import action_take
from articles.selectors import articles_by_id
from common.store_epoch import store_epoch
from microblog import services as microblog_services
from microblog.selectors import muted_by, post_visible
from realtime.selectors import last_seq

from . import selectors, services
from .cards import article_cards, post_cards
from .models import Conversation
from .serializers import conversation_title

# The refusals a chat page shows in its form: the chat services' own. RateLimited is not one of
# them: it goes on to config.middleware.ServiceErrorMiddleware, which answers 429 with
# Retry-After, as the API does, so a client knows when to try again.
FORM_ERRORS = (services.ChatError, services.NotFound)


def _contact_request(user, data):
    action_take(action="contact-request", user=user)
    return services.contact_request_send(sender=user, to_username=data.get("username", ""), note=data.get("note", ""))


CONTACT_ACTIONS = {
    "request": lambda user, data: _contact_request(user, data),
    "accept": lambda user, data: services.contact_request_accept(user=user, request_id=data.get("request")),
    "decline": lambda user, data: services.contact_request_decline(user=user, request_id=data.get("request")),
    "remove": lambda user, data: services.contact_remove(user=user, username=data.get("username")),
    "block": lambda user, data: services.block_create(user=user, username=data.get("username", "")),
    "unblock": lambda user, data: services.block_delete(user=user, username=data.get("username", "")),
    "group": lambda user, data: services.conversation_create(
        creator=user, usernames=data.getlist("members"), title=data.get("title", "") or "Group"
    ),
}
DONE = {
    "request": "Request sent.",
    "accept": "You are now contacts.",
    "decline": "Request declined.",
    "remove": "Contact removed.",
    "block": "Blocked.",
    "unblock": "Unblocked.",
}


@login_required
@require_http_methods(["GET", "POST"])
def contacts_page(request):
    status = 200
    if request.method == "POST":
        action = CONTACT_ACTIONS.get(request.POST.get("action"))
        if action is None:
            flash.error(request, "Unknown action.")
            status = 400
        else:
            try:
                result = action(request.user, request.POST)
            except FORM_ERRORS as error:
                detail = "No such user." if error.code == "not_found" else error.detail
                flash.error(request, detail)
                status = error.status
            else:
                if request.POST["action"] == "group":
                    return redirect("chat-conversation", conversation_id=result[0].pk)
                flash.success(request, DONE[request.POST["action"]])
                return redirect("contacts")
    context = {
        "contacts": contacts_of(request.user),
        "incoming": contact_requests_for(request.user, direction="incoming"),
        "outgoing": contact_requests_for(request.user, direction="outgoing"),
        "blocked": blocked_by(request.user),
    }
    return render(request, "chat/contacts.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def chat_page(request, conversation_id=None):
    # Chats and channels apart: a person's channels fold into one row, so they never crowd chats off the list.
    mine = selectors.conversations_for(request.user)
    conversations = selectors.with_last_messages(
        request.user,
        [
            *mine.exclude(kind=Conversation.Kind.CHANNEL)[:200],
            *mine.filter(kind=Conversation.Kind.CHANNEL)[:1],
        ],
    )
    current = None
    status = 200
    if conversation_id is not None:
        current = next((c for c in conversations if c.pk == conversation_id), None)
        if current is None:
            current = selectors.conversation_detail(user=request.user, conversation_id=conversation_id)
        if current is None:
            raise Http404("No such conversation.")
    if request.method == "POST":
        if current is None:
            raise Http404("No such conversation.")
        action_take(action="message", user=request.user)
        try:
            services.message_send(
                sender=request.user,
                conversation=current,
                body=request.POST.get("body", ""),
                client_id=request.POST.get("client_id") or None,
                reply_to=_post_id(request.POST.get("reply_to")),
                shared_post=_post_id(request.POST.get("shared_post")),
                shared_article=_post_id(request.POST.get("shared_article")),
                media=[_post_id(value) for value in request.POST.getlist("media")],
            )
        except FORM_ERRORS as error:
            flash.error(request, error.detail)
            status = error.status
        else:
            return redirect("chat-conversation", conversation_id=current.pk)
    context = {
        "conversations": [
            (conversation, conversation_title(conversation, request.user))
            for conversation in conversations
            if conversation.kind != Conversation.Kind.CHANNEL
        ],
        "subscriptions": subscriptions_entry(request.user, conversations),
        "current": current,
        "store_epoch": store_epoch(),  # before the seq (chat.context_processors)
        "last_seq": last_seq(request.user.pk),
    }
    if current is not None:
        context["title"] = conversation_title(current, request.user)
        around = request.GET.get("around", "")
        if around.isdigit() and len(around) < 19:
            # A search result opened: the page shows the message with its context (chat-search.js scrolls to it).
            page = selectors.message_page_around(
                viewer=request.user, conversation=current, around=int(around), limit=selectors.MESSAGE_PAGE
            )
            context["around"], context["has_newer"] = int(around), page["has_newer"]
        else:
            page = selectors.message_page(
                viewer=request.user, conversation=current, before=None, after=None, limit=selectors.MESSAGE_PAGE
            )
        cards = post_cards(request.user, [message.shared_post_id for message in page["results"]])
        articles = article_cards(request.user, [message.shared_article_id for message in page["results"]])
        shown = {message.pk: message for message in page["results"]}
        played = selectors.voice_played_ids(request.user, page["results"])
        for message in page["results"]:
            message.card = cards.get(message.shared_post_id)
            # A voice message's dot (templates/chat/_voice.html): not played by the reader (never their own).
            message.unplayed = selectors.is_voice(message) and message.pk not in played
            message.article_card = articles.get(message.shared_article_id)
            # A quote shows what it answers when that message is on the page (so the viewer sees it).
            message.quoted = shown.get(message.reply_to_id)
        context["messages_page"] = page["results"]
        context["has_older"] = page["has_older"]
        context["others_read_up_to"] = selectors.others_read_up_to(conversation=current, user=request.user)
        others = [m.user for m in current.memberships.all() if m.user_id != request.user.pk]
        muted = set(muted_by(request.user).filter(pk__in=[o.pk for o in others]).values_list("pk", flat=True))
        context["others"] = [(person, person.pk in muted) for person in others]
        # Typing lines name people as the header does: display name first (chat.js, by username).
        context["member_names"] = {person.username: person.shown_name for person in [request.user, *others]}
        context["recall_seconds"] = int(services.RECALL_WINDOW.total_seconds())
    return render(request, "chat/chat.html", context, status=status)


def subscriptions_entry(user, conversations) -> dict | None:
    """The one "Subscriptions" row that stands for all of a person's channels in the chat list (as in
    WeChat): placed where its newest broadcast falls among the chats, with the channels' unread count,
    which the main chat badge leaves out (chat.context_processors)."""
    chats = [c for c in conversations if c.kind != Conversation.Kind.CHANNEL]
    newest = next((c for c in conversations if c.kind == Conversation.Kind.CHANNEL), None)
    if newest is None:
        return None
    when = newest.last_seen_at or newest.my_joined_at
    position = sum(1 for chat in chats if (chat.last_seen_at or chat.my_joined_at) >= when)
    unread, count = selectors.channel_unread(user)
    return {"position": position, "newest": newest, "unread": unread, "count": count}


def _post_id(value) -> int | None:
    """A form's post (or upload) id: absent is None; anything else not a number is -1, which no row has."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        return -1


@login_required
def share_page(request):
    """Pick a conversation to share a post (or, with `?article=`, an article) into (their pages link here)."""
    post = article = None
    if "article" in request.GET:
        article = next(iter(articles_by_id(request.user, [request.GET["article"]]).values()), None)
    else:
        post = post_visible(request.user, request.GET.get("post"))
    if post is None and article is None:
        raise Http404("No such post.")
    conversations = [
        (conversation, conversation_title(conversation, request.user))
        for conversation in selectors.conversations_for(request.user)[:200]
    ]
    return render(request, "chat/share.html", {"post": post, "article": article, "conversations": conversations})


@login_required
def chat_with(request, username: str):
    """The direct conversation with a contact (a profile's "Message" button); others go to /contacts/."""
    try:
        conversation = services.direct_conversation_with(user=request.user, username=username)
    except FORM_ERRORS as error:
        flash.info(request, error.detail)
        return redirect("contacts")
    return redirect("chat-conversation", conversation_id=conversation.pk)


@login_required
@require_http_methods(["GET", "POST"])
def private_page(request):
    """Take a public thread private: pick people from the post's author, repliers and reposters."""
    post = post_visible(request.user, request.GET.get("post"))
    if post is None:
        raise Http404("No such post.")
    status = 200
    if request.method == "POST":
        try:
            thread = services.conversation_from_post(
                creator=request.user, post_id=post.pk, usernames=request.POST.getlist("members")
            )
        except FORM_ERRORS as error:
            flash.error(request, error.detail)
            status = error.status
        else:
            if thread.invited:
                names = ", ".join(f"@{person.username}" for person in thread.invited)
                flash.info(request, f"Sent a contact request to {names}.")
            return redirect("chat-conversation", conversation_id=thread.conversation.pk)
    invitable = services.invitable_ids(request.user)
    people = [(person, person.pk in invitable) for person in services.post_people(viewer=request.user, post=post)]
    return render(request, "chat/private.html", {"post": post, "people": people}, status=status)


def _back(request, fallback: str):
    """Back to the page the form came from (`next`, this site only), else to `fallback`."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@require_POST
@login_required
def conversation_mute(request, conversation_id: int):
    """Mute or unmute a conversation's notifications (`muted` = 1 or 0), from the chat page or /settings/."""
    conversation = selectors.conversation_for_member(user=request.user, conversation_id=conversation_id)
    if conversation is None:
        raise Http404("No such conversation.")
    muted = request.POST.get("muted") == "1"
    services.conversation_mute(user=request.user, conversation=conversation, muted=muted)
    flash.success(request, "Conversation muted." if muted else "Conversation unmuted.")
    return _back(request, reverse("chat-conversation", args=[conversation.pk]))


@require_POST
@login_required
def author_mute(request):
    """Mute or unmute someone's posts (`muted` = 1 or 0) from a conversation with them or /settings/."""
    username = request.POST.get("username", "")
    other = None if "\x00" in username else user_by_username(username)
    if other is None or other.pk == request.user.pk:
        raise Http404("No such person.")
    if request.POST.get("muted") == "1":
        microblog_services.user_mute(user=request.user, muted=other)
        flash.success(request, f"Muted @{other.username}'s posts.")
    else:
        microblog_services.user_unmute(user=request.user, muted=other)
        flash.success(request, f"Unmuted @{other.username}'s posts.")
    return _back(request, reverse("settings"))

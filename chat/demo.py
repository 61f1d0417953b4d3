"""Demo chat for `seed_demo`: contacts, a direct conversation and a group with some history."""

from accounts.models import User
from accounts.selectors import are_contacts
from media.demo import demo_clip, demo_upload, scene, voice_clip

from . import services
from .models import Conversation, Message

GROUP_TITLE = "Weekend climbing"
DIRECT_HISTORY = [
    ("alice", "Bob! Are you around this weekend?"),
    ("bob", "Mostly. Saturday morning I'm shooting the harbour at sunrise."),
    ("alice", "Sunrise?? Brave. Coffee after?"),
    ("bob", "Deal. The place by the pier ☕"),
]
GROUP_HISTORY = [
    ("alice", "Climbing on Sunday, who's in?"),
    ("carol", "我来！Bringing my new shoes."),
    ("dave", "I'll bring bread. Obviously."),
    ("bob", "Count me in, I'll take pictures."),
]


def _befriend(a: User, b: User):
    if are_contacts(a, b):
        return services.direct_conversation_get_or_create(a, b)
    request, conversation = services.contact_request_send(sender=a, to_username=b.username, note="From the demo")
    if conversation is None:
        _, conversation = services.contact_request_accept(user=b, request_id=request.pk)
    return conversation


# A photo with some messages (by their index in DIRECT_HISTORY): (picture seed, alt text).
DIRECT_PHOTOS = {1: (6, "Sunrise over the harbour last week, the hills still dark.")}


def _say(conversation, people: dict[str, User], history, photos=None) -> None:
    for index, (username, body) in enumerate(history):
        client_id = f"demo-{conversation.pk}-{index}"
        media = []
        # A second run sends nothing new (the client_id is stored once): no upload for it either.
        sent = Message.objects.filter(sender=people[username], client_id=client_id).exists()
        if index in (photos or {}) and not sent:
            seed, alt = photos[index]
            media = [demo_upload(owner=people[username], image=scene(seed), alt=alt).pk]
        services.message_send(
            sender=people[username], conversation=conversation, body=body, client_id=client_id, media=media
        )


def _voice(conversation, sender: User) -> None:
    """A voice message after the history (a tone shaped like speech, made with PyAV now): unplayed for alice."""
    client_id = f"demo-{conversation.pk}-voice"
    if Message.objects.filter(sender=sender, client_id=client_id).exists():
        return  # a second run records nothing
    clip = demo_clip(owner=sender, data=voice_clip(), name="voice.webm", kind="audio")
    services.message_send(sender=sender, conversation=conversation, body="", client_id=client_id, media=[clip.pk])


def seed(people: list[User]) -> None:
    by_name = {person.username: person for person in people}
    alice = by_name["alice"]
    direct = _befriend(alice, by_name["bob"])
    for other in ("carol", "dave"):
        _befriend(alice, by_name[other])
    _say(direct, by_name, DIRECT_HISTORY, DIRECT_PHOTOS)
    _voice(direct, by_name["bob"])
    group = Conversation.objects.filter(kind=Conversation.Kind.GROUP, created_by=alice, title=GROUP_TITLE).first()
    if group is None:
        group, _ = services.conversation_create(creator=alice, usernames=["bob", "carol", "dave"], title=GROUP_TITLE)
    _say(group, by_name, GROUP_HISTORY)

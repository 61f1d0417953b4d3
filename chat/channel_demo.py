"""A demo channel for `seed_demo`: alice's "Tandem Travel", bob its editor, three broadcasts over three
days with a few articles each, subscribed by the demo people, and a keyword auto-reply. Through the
services, as real use would make it; safe to run twice (nothing once the channel exists)."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from articles import services as articles

from .models import Broadcast, Channel, Message
from .services import channels

USERNAME = "tandemtravel"
ARTICLES = [
    ("Three days in Hangzhou", "West Lake at dawn, **Longjing** tea in the hills, and the night market."),
    ("Packing for a winter trip", "Layers, a thermos, and a power bank that likes the cold.\n\n- gloves\n- hat"),
    ("The slow train to Dali", "Twenty hours, a sleeper berth, and the best noodles of the trip."),
    ("Where to eat near the Bund", "Soup dumplings first, *then* the view."),
]
BROADCASTS = [
    ("Autumn escapes", "Two short trips for a long weekend.", [0, 1]),
    ("By rail", "", [2]),
    ("This week: Shanghai", "Our food editor's picks.", [3, 0]),
]


def seed(people: list[User]) -> None:
    by_name = {person.username: person for person in people}
    if Channel.objects.filter(account__username=USERNAME).exists():
        return
    alice = by_name["alice"]
    channel = channels.channel_create(
        owner=alice, username=USERNAME, display_name="Tandem Travel", bio="Trips, trains and food, one broadcast a day."
    )
    channels.channel_editor_add(user=alice, channel=channel, editor=by_name["bob"])
    written = []
    for title, body in ARTICLES:
        article = articles.article_create(author=alice, title=title, body=body)
        written.append(articles.article_publish(author=alice, article=article).pk)
    for name in ("bob", "carol", "dave"):
        channels.channel_subscribe(user=by_name[name], channel=channel)
    now = timezone.now()
    for days_ago, (title, body, picks) in zip((2, 1, 0), BROADCASTS, strict=True):
        broadcast = channels.broadcast_create(
            sender=alice, channel=channel, title=title, body=body, articles=[written[i] for i in picks]
        )
        # Told as it would have happened, a day apart (one broadcast a day): its time moved back, so the
        # next one is within the daily limit.
        when = now - timedelta(days=days_ago, minutes=5)
        Broadcast.objects.filter(pk=broadcast.pk).update(created_at=when)
        Message.objects.filter(pk=broadcast.message_id).update(created_at=when)
    channels.auto_reply_set(user=alice, channel=channel, keyword="hours", reply="We broadcast every morning at 8.")

"""Demo articles for `seed_demo`: a public one with a cover and an inline photo, carried by a post
(so it shows as a card in the feed), and a followers-only one. Through the services, as real use
would make them; safe to run twice (nothing once the demo people have articles)."""

from accounts.models import User
from media.demo import demo_upload, scene
from media.serializers import file_url
from microblog import services as microblog_services

from . import services
from .models import Article

GREAT_WALL = """Three of us took the early bus to **Mutianyu**, before the tour groups.

## The climb

The steps are uneven: some ankle-high, some knee-high. Go slowly, drink water, and stop at every
watchtower. The view from tower 20 is worth every step.

![The wall in the morning haze]({photo})

## What to bring

| what | why |
|---|---|
| water | there is one kiosk, and it closes early |
| gloves | the rails are cold in November |
| patience | ~~the cable car~~ the toboggan queue is long |

> 不到长城非好汉: you are not a hero until you have climbed the Great Wall.

More photos on [my profile](/u/alice/).
"""

TEA_NOTES = """Notes from a week of tasting oolong, for the people who asked.

1. Rinse the leaves once, quickly.
2. Short steeps: 20 seconds, then add 5 each time.
3. `95 °C` water, not boiling.

The fifth steep was the best one.
"""


def seed(people: list[User]) -> None:
    by_name = {person.username: person for person in people}
    if Article.objects.filter(author__in=people).exists():
        return
    alice, bob = by_name["alice"], by_name["bob"]
    photo = demo_upload(owner=alice, image=scene(31), alt="The wall in the morning haze")
    cover = demo_upload(owner=alice, image=scene(32), alt="Watchtowers along the ridge")
    wall = services.article_create(
        author=alice,
        title="A morning on the Great Wall",
        body=GREAT_WALL.format(photo=file_url(photo, "display")),
        cover=cover.pk,
    )
    services.article_publish(author=alice, article=wall)
    microblog_services.post_create(
        author=alice, body="I wrote up our climb #greatwall", visibility=None, article=wall.pk
    )
    tea = services.article_create(author=bob, title="A week of oolong", body=TEA_NOTES, visibility="followers")
    services.article_publish(author=bob, article=tea)

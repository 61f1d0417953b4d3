"""Demo content for `seed_demo`: avatars, follows among the demo people, posts with tags, mentions and
photos, reposts, likes.

Everything goes through the services, so counters, tags, notifications, the event log and the
uploads are what real use would make. Safe to run twice: it does nothing once the demo people have
posts.
"""

from accounts.models import User
from accounts.services import profile_update
from media.demo import demo_clip, demo_upload, portrait, scene, video_clip

from . import services
from .models import Post

FOLLOWS = [
    ("alice", "bob"),
    ("alice", "carol"),
    ("bob", "alice"),
    ("bob", "dave"),
    ("carol", "alice"),
    ("carol", "bob"),
    ("dave", "alice"),
    ("dave", "carol"),
]

POSTS = [
    ("alice", "Morning climb done, now coffee ☕ #climbing #coffee", "public"),
    ("bob", "Golden hour over the harbour. #photography #Django meetup tonight?", "public"),
    ("carol", "今天#北京#下雪了，写了一首小诗。 #诗", "public"),
    ("dave", "Sourdough number 42 is out of the oven. #bread #baking", "public"),
    ("alice", "Django 5.2 LTS is solid. Upgrading everything this week #django", "public"),
    ("carol", "@alice 周末一起去爬山吗？ #climbing", "public"),
    ("bob", "New lens arrived! Test shots soon. #photography", "public"),
    ("dave", "Rye and caraway today. Who wants the first loaf? @bob #bread", "public"),
    ("alice", "Followers-only: the crag we found is a secret 🤫 #climbing", "followers"),
    ("carol", "只给联系人看：下周搬家，求帮忙！", "contacts"),
    ("bob", "Reading https://docs.djangoproject.com/ again — #django docs are the best", "public"),
    ("dave", "Coffee and a croissant, the perfect pair. #coffee #baking", "public"),
    ("carol", "#北京# 的雪景真美 #photography", "public"),
    ("alice", "Anyone going to #DjangoCon Europe? @bob @dave", "public"),
    ("bob", "Rainy street, neon reflections. #photography #城市", "public"),
    ("dave", "Bread tip: patience is an ingredient. #bread", "public"),
    ("carol", "Writing Python by day, poems by night. #django #诗", "public"),
    ("alice", "Hang-board session, fingers sore. #climbing", "public"),
    ("dave", "#北京# 有好吃的面包店吗？", "public"),
    ("bob", "Shot the climbing gym for @alice today. #climbing #photography", "public"),
    ("dave", "Sunrise from the bakery window, speeded up. #baking", "public"),
]

# A video on some posts (by their index in POSTS): its alt text. Made with PyAV as the demo is seeded.
VIDEOS = {
    18: "A sun drifting across a golden sky over dark hills, coloured bars sliding along the bottom: "
    "a test pattern standing in for a sunrise."
}

# Photos of some posts (by their index in POSTS): one shown large, three, and a full grid of nine,
# each (picture seed, alt text).
PHOTOS = {
    1: [(0, "The harbour at golden hour: a low sun over dark hills and the water.")],
    14: [
        (4, "A rainy street at night, lamps reflected in the puddles."),
        (10, "Neon over wet stones, blurred by the rain."),
        (16, "The last tram leaving in the rain."),
    ],
    12: [(3 + 6 * n, f"Snow in Beijing, picture {n + 1} of 9.") for n in range(9)],
}

REPLIES = [
    (5, "alice", "好啊！周六早上？"),
    (3, "bob", "Save me a slice please!"),
    (1, "dave", "Count me in for the meetup."),
]

REPOSTS = [
    (0, "bob", "Look at her go 💪"),
    (2, "alice", "好美"),
    (3, "carol", "想吃！"),
    (4, "dave", ""),
    (12, "bob", "snow!"),
]

LIKES = [
    ("bob", 0),
    ("carol", 0),
    ("dave", 0),
    ("alice", 1),
    ("carol", 1),
    ("alice", 2),
    ("bob", 2),
    ("dave", 2),
    ("alice", 3),
    ("bob", 3),
    ("carol", 4),
    ("dave", 4),
    ("alice", 12),
    ("bob", 12),
]


def _photos(author: User, index: int) -> list[int]:
    if index in VIDEOS:
        return [demo_clip(owner=author, data=video_clip(), name="sunrise.mp4", kind="video", alt=VIDEOS[index]).pk]
    return [demo_upload(owner=author, image=scene(seed), alt=alt).pk for seed, alt in PHOTOS.get(index, [])]


def seed(people: list[User]) -> None:
    by_name = {person.username: person for person in people}
    if Post.objects.filter(author__in=people).exists():
        return
    for number, person in enumerate(people):
        profile_update(user=person, avatar=demo_upload(owner=person, image=portrait(number)).pk)
    for follower, followee in FOLLOWS:
        services.user_follow(follower=by_name[follower], followee=by_name[followee])
    posts = [
        services.post_create(
            author=by_name[author], body=body, visibility=visibility, media=_photos(by_name[author], index)
        )
        for index, (author, body, visibility) in enumerate(POSTS)
    ]
    for index, author, body in REPLIES:
        services.post_create(author=by_name[author], body=body, reply_to=posts[index])
    reposts = {}
    for index, author, comment in REPOSTS:
        reposts[index], _ = services.post_repost(author=by_name[author], post=posts[index], comment=comment)
    # A chain: carol reposts bob's repost of alice's climb, keeping bob's comment in view.
    services.post_repost(author=by_name["carol"], post=reposts[0], comment="太厉害了")
    for liker, index in LIKES:
        services.post_like(user=by_name[liker], post=posts[index])

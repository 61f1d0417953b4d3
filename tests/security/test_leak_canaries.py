"""Leak canaries: unique markers in private and removed things, then every surface crawled by
people who must not see them.

The markers go into a direct message, a group message, a contacts-only post (with a tag that
three people use, all in contacts-only posts, and mentions of the crawlers), a followers-only post, a
public reply to the contacts-only post, a post later deleted and a message later recalled.
They are written over the live server while the crawlers' sockets are open, so the live
pushes are crawled too, then each socket resumes from 0. A marker in a crawler's answer is
a hit; hits must be 0.

Photos hang off the same posts and messages (and one upload is never attached). Their keys are
markers as well, and every crawler also fetches every photo's files: a file answered to a
crawler who may not see what it belongs to is a hit too. Voice clips and videos the same way:
their keys are markers, and every crawler fetches each of their files, whole and by Range.
"""

import uuid

import django.test
import pytest
from rest_framework.test import APIClient

from accounts.services import token_for
from tests.factories import ConversationFactory
from tests.live import Socket, rest
from tests.media.av_files import stored_variant, stored_video, stored_voice
from tests.media.files import detach, stored_bytes, stored_photo

from .conftest import FIGURES

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

CRAWLERS = ("outsider", "follower", "former", "anonymous", "member")


def canary(kind: str) -> str:
    return f"zq{kind}{uuid.uuid4().hex[:12]}"


MARKERS = {
    kind: canary(kind)
    for kind in ("direct", "group", "contacts", "followers", "reply", "deleted", "recalled", "trendfollowers")
}
# Articles: a followers-only one (carried by a post) and a draft, which is its author's alone.
MARKERS.update({kind: canary(kind) for kind in ("article", "draft")})
TAG = canary("tag")
# A public tag that trends (three public authors), holding a followers-only post: trending, its
# drivers and the tag's page show the tag to everyone, never that post.
TRENDING_TAG = canary("trend")
# Who may see which marker: nobody may see what was deleted or recalled, members included.
ALLOWED = {
    "follower": {"followers", "trendfollowers", "article"},
    "member": {"direct", "group", "contacts", "followers", "reply", "trendfollowers", "article"},
}


# The photos' keys, by what they belong to; "unattached" is the author's alone (not a crawler).
MEDIA_KEYS = {kind: canary(f"m{kind}") for kind in ("direct", "group", "contacts", "followers", "deleted", "recalled")}
MEDIA_KEYS["unattached"] = canary("munattached")


# Voice clips and videos: name -> (what they belong to, as MEDIA_KEYS' kinds; voice or video).
CLIPS = {
    "voice direct": ("direct", "voice"),
    "voice group": ("group", "voice"),
    "voice recalled": ("recalled", "voice"),
    "video contacts": ("contacts", "video"),
    "video followers": ("followers", "video"),
    "video group": ("group", "video"),
    "video deleted": ("deleted", "video"),
    "video unattached": ("unattached", "video"),
}
CLIP_KEYS = {name: canary(f"a{kind[:2]}{belongs[:6]}") for name, (belongs, kind) in CLIPS.items()}


def forbidden_clips(crawler: str) -> dict[str, str]:
    """{name: key} of the voice clips and videos `crawler` may not see."""
    allowed = ALLOWED.get(crawler, set())
    return {name: key for name, key in CLIP_KEYS.items() if CLIPS[name][0] not in allowed}


def forbidden_media(crawler: str) -> dict[str, str]:
    """{kind: key} of the photos `crawler` may not see."""
    return {kind: key for kind, key in MEDIA_KEYS.items() if kind not in ALLOWED.get(crawler, set())}


def forbidden(crawler: str) -> set[str]:
    return (
        {marker for kind, marker in MARKERS.items() if kind not in ALLOWED.get(crawler, set())}
        | ({TAG} if crawler != "member" else set())
        | set(forbidden_media(crawler).values())
        | set(forbidden_clips(crawler).values())
    )


@pytest.fixture
def scene(make_user, befriend, live_daphne, settings, tmp_path):
    """The people (built in-process), their sockets, then the markers written over the live server.

    The photos are made in-process (files in a MEDIA_ROOT of this test's, as processing leaves
    them), each attached as soon as what it belongs to exists; the crawl fetches them in-process.
    """
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_SERVE = "direct"
    from chat.services import contact_remove, group_member_remove
    from microblog.services import user_follow

    def relate():
        people = {name: make_user(username=name) for name in ("author", "member", "third", "outsider", "follower")}
        people["former"] = make_user(username="former")
        author, member = people["author"], people["member"]
        direct = befriend(author, member)
        befriend(people["third"], member)
        group = ConversationFactory(creator=author, members=[member, people["former"]], title="Inner circle")
        group_member_remove(user=people["former"], conversation=group, username="former")
        contact_remove(user=author, username="former")
        user_follow(follower=people["follower"], followee=author)
        user_follow(follower=people["follower"], followee=member)
        user_follow(follower=member, followee=author)
        return people, direct, group

    people, direct, group = relate()
    author, member = people["author"], people["member"]
    sockets = {name: Socket.open(live_daphne, people[name]) for name in CRAWLERS if name != "anonymous"}

    def post(user, body, **fields) -> int:
        return rest(live_daphne, user, "POST", "/api/posts/", {"body": body, **fields}).json()["id"]

    def say(conversation, body) -> int:
        path = f"/api/conversations/{conversation.pk}/messages/"
        return rest(live_daphne, author, "POST", path, {"body": body}).json()["id"]

    def photo(kind, attach_to=None):
        photos[kind] = stored_photo(author, key=MEDIA_KEYS[kind], attach_to=attach_to)

    photos = {}
    mentions = "@outsider @follower @former @member"
    posts = {
        "contacts": post(author, f"{MARKERS['contacts']} #{TAG} {mentions}", visibility="contacts"),
        "followers": post(author, f"{MARKERS['followers']} @outsider @former", visibility="followers"),
        "deleted": post(author, f"{MARKERS['deleted']} {mentions}"),
    }
    for kind in ("contacts", "followers", "deleted"):
        photo(kind, ("post", posts[kind]))
    posts["reply"] = post(member, f"{MARKERS['reply']} #{TAG} @outsider", reply_to=posts["contacts"])
    post(member, f"mine too #{TAG}", visibility="contacts")
    post(people["third"], f"and mine #{TAG}", visibility="contacts")
    for person in (author, member, people["third"]):
        post(person, f"out in the open #{TRENDING_TAG}")
    posts["trendfollowers"] = post(author, f"{MARKERS['trendfollowers']} #{TRENDING_TAG}", visibility="followers")
    assert rest(live_daphne, author, "DELETE", f"/api/posts/{posts['deleted']}/").status == 204
    detach("post", posts["deleted"])
    photo("direct", ("message", say(direct, f"{MARKERS['direct']} #{TAG} {mentions}")))
    photo("group", ("message", say(group, f"{MARKERS['group']} #{TAG} {mentions}")))
    recalled = say(group, f"{MARKERS['recalled']} #{TAG}")
    photo("recalled", ("message", recalled))
    assert rest(live_daphne, author, "POST", f"/api/messages/{recalled}/recall/").status == 200
    detach("message", recalled)
    photo("unattached")
    # Each clip beside the photo of what it belongs to; recalled and deleted ones detached with it.
    clips = {}
    for name, (belongs, kind) in CLIPS.items():
        attach_to = (photos[belongs].attached_kind, photos[belongs].attached_id) if belongs != "unattached" else None
        clips[name] = (stored_voice if kind == "voice" else stored_video)(
            author, key=CLIP_KEYS[name], attach_to=attach_to
        )
    detach("post", posts["deleted"])
    detach("message", recalled)
    articles = {}
    for kind, visibility in (("article", "followers"), ("draft", "public")):
        marker = MARKERS[kind]
        fields = {"title": f"{marker} title", "body": f"{marker} body", "visibility": visibility}
        articles[kind] = rest(live_daphne, author, "POST", "/api/articles/", fields).json()["id"]
    assert rest(live_daphne, author, "POST", f"/api/articles/{articles['article']}/publish/").status == 200
    posts["article"] = post(author, "", article=articles["article"])
    return {
        "people": people,
        "sockets": sockets,
        "posts": posts,
        "group": group,
        "direct": direct,
        "photos": photos,
        "clips": clips,
        "articles": articles,
    }


def rest_surfaces(scene) -> list[str]:
    post_ids = scene["posts"].values()
    conversations = (scene["group"].pk, scene["direct"].pk)
    # A marker's start as a prefix (`word*`): the address holds no whole marker, so a hit still counts.
    queries = [f"{marker[:-3]}*" for marker in MARKERS.values()] + [f"{TAG[:-3]}*"]
    return [
        "/api/feed/?order=ranked",
        "/api/feed/?order=latest",
        "/api/timeline/public/",
        "/api/trending/",
        f"/api/tags/{TAG}/posts/",
        f"/api/tags/{TRENDING_TAG}/posts/",
        *[f"/api/search/?q={query}" for query in queries],
        *[f"/api/search/suggest/?q={query}" for query in queries],
        f"/api/search/?q=%23{TAG[:-3]}",
        *[f"/api/chat/search/?q={query}" for query in queries],
        *[f"/api/chat/search/?q={query}&conversation={pk}" for query in queries for pk in conversations],
        *[f"/api/users/{name}/{part}" for name in ("author", "member") for part in ("", "posts/", "followers/")],
        *[f"/api/posts/{pk}/{part}" for pk in post_ids for part in ("", "replies/", "reposts/")],
        "/api/notifications/",
        "/api/conversations/",
        *[f"/api/conversations/{pk}/{part}" for pk in conversations for part in ("", "messages/")],
        "/api/contacts/",
        "/api/contact-requests/?direction=incoming",
        "/api/me/",
        *[f"/api/articles/{pk}/" for pk in scene["articles"].values()],
        *[f"/api/articles/search/?q={MARKERS[kind][:-3]}*" for kind in scene["articles"]],
        "/api/articles/",
    ]


def page_surfaces(scene) -> list[str]:
    post_ids = scene["posts"].values()
    conversations = (scene["group"].pk, scene["direct"].pk)
    return [
        "/",
        "/?order=latest",
        "/explore/",
        *[f"/explore/?q={marker[:-3]}*" for marker in MARKERS.values()],
        f"/tags/{TAG}/",
        f"/tags/{TRENDING_TAG}/",
        "/u/author/",
        "/u/member/",
        *[f"/p/{pk}/" for pk in post_ids],
        *[f"/chat/share/?post={pk}" for pk in post_ids],
        "/notifications/",
        "/chat/",
        *[f"/chat/{pk}/" for pk in conversations],
        "/contacts/",
        *[f"/{where}/{pk}/" for pk in scene["articles"].values() for where in ("a", "write")],
    ]


def hits_in(text: str, crawler: str, where: str, *, markers: set[str] | None = None) -> list[str]:
    # A tag page names its tag: only what is not in the address itself counts.
    markers = forbidden(crawler) if markers is None else markers
    return [f"{crawler} saw {marker} on {where}" for marker in markers if marker in text and marker not in where]


def crawl_stream(socket: Socket, crawler: str) -> list[str]:
    """The live pushes, then everything a resume from 0 replays.

    A live push made before a post was deleted or a message recalled rightly carried it (a
    mention in a post that was public then, a message to a member): live pushes may hold
    only what the crawler could see at the time. A replay renders things as they are now.
    """
    once_visible = {MARKERS["deleted"], MARKERS["recalled"], MEDIA_KEYS["deleted"], MEDIA_KEYS["recalled"]}
    once_visible |= {CLIP_KEYS["voice recalled"], CLIP_KEYS["video deleted"]}
    live = socket.drain()
    socket.send(type="resume", after=0)
    replayed = socket.until("resume.done")
    where = "their socket stream"
    return [
        *hits_in(repr(live), crawler, f"{where} (live)", markers=forbidden(crawler) - once_visible),
        *hits_in(repr(replayed), crawler, f"{where} (resume from 0)"),
    ]


WAYS = ("token", "session")


def crawl_files(client, way: str, scene, crawler: str, served: set[str]) -> list[str]:
    """Every photo's files, fetched by `crawler`: one it may not see must be the missing file's
    404 without its bytes; one it may see is added to `served`."""
    hits = []
    refused = forbidden_media(crawler)
    for kind, photo in scene["photos"].items():
        for variant in ("display", "thumbnail"):
            response = client.get(f"/media/{photo.key}/{variant}")
            body = b"".join(response.streaming_content) if response.streaming else response.content
            if kind not in refused:
                if response.status_code == 200 and body == stored_bytes(photo, variant):
                    served.add(f"{kind} {variant} by {way}")
            elif response.status_code != 404 or stored_bytes(photo, variant) in body:
                hits.append(f"{crawler} fetched the {variant} of the {kind} photo: {response.status_code}")
    return hits


def clip_variants(clip) -> tuple[str, ...]:
    return ("display", "thumbnail", "poster") if clip.kind == "video" else ("display",)


def crawl_clip_files(client, way: str, scene, crawler: str, served: set[str]) -> list[str]:
    """Every voice clip's and video's files, fetched by `crawler` whole and by Range (a player's
    first request, a seek): one it may not see must be the 404 without its bytes."""
    hits = []
    refused = forbidden_clips(crawler)
    for name, clip in scene["clips"].items():
        for variant in clip_variants(clip):
            whole = stored_variant(clip, variant)
            for asked in (None, "bytes=0-", "bytes=100-199"):
                response = client.get(f"/media/{clip.key}/{variant}", **({"HTTP_RANGE": asked} if asked else {}))
                body = b"".join(response.streaming_content) if response.streaming else response.content
                if name not in refused:
                    expected = whole if asked in (None, "bytes=0-") else whole[100:200]
                    if response.status_code in (200, 206) and body == expected:
                        served.add(f"{name} {variant} {asked or 'whole'} by {way}")
                elif response.status_code != 404 or (body and body in whole):
                    hits.append(f"{crawler} fetched the {variant} of the {name} ({asked}): {response.status_code}")
    return hits


def test_no_marker_reaches_anyone_who_may_not_see_it(scene):
    people, hits, crawled, seen, searched = scene["people"], [], 0, [], []
    served: dict[str, set[str]] = {crawler: set() for crawler in CRAWLERS}
    served_clips: dict[str, set[str]] = {crawler: set() for crawler in CRAWLERS}
    for crawler in CRAWLERS:
        rest, pages = APIClient(), django.test.Client()
        if crawler != "anonymous":
            rest.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=people[crawler]).key}")
            pages.force_login(people[crawler])
        for client, way, paths in ((rest, "token", rest_surfaces(scene)), (pages, "session", page_surfaces(scene))):
            for path in paths:
                text = client.get(path).content.decode()
                hits += hits_in(text, crawler, path)
                seen.append(text if crawler == "member" else "")
                if crawler == "member" and "search/?q=" in path:
                    searched.append(text)
            hits += crawl_files(client, way, scene, crawler, served[crawler])
            hits += crawl_clip_files(client, way, scene, crawler, served_clips[crawler])
            crawled += 3 * sum(len(clip_variants(clip)) for clip in scene["clips"].values())
        crawled += len(rest_surfaces(scene)) + len(page_surfaces(scene)) + 2 * 2 * len(scene["photos"])
        if crawler != "anonymous":
            hits += crawl_stream(scene["sockets"][crawler], crawler)
            crawled += 1
    # The canaries are alive: the member's crawl finds every marker meant for them, and the
    # member and the follower get the files of every photo theirs to see, by token and session.
    assert all(MARKERS[kind] in "".join(seen) for kind in ALLOWED["member"])
    assert all(CLIP_KEYS[name] in "".join(seen) for name, (belongs, _) in CLIPS.items() if belongs in ALLOWED["member"])
    # ... and search finds each of them for the member (posts, articles, and chat history for the messages).
    unfound = [kind for kind in ALLOWED["member"] if MARKERS[kind] not in "".join(searched)]
    assert unfound == [], "search did not find what the member may see"
    for crawler in ("member", "follower"):
        theirs = {kind for kind in MEDIA_KEYS if kind in ALLOWED[crawler]}
        ways = [f"{kind} {variant} by {way}" for kind in theirs for variant in ("display", "thumbnail") for way in WAYS]
        assert served[crawler] == set(ways)
        theirs = [(name, clip) for name, clip in scene["clips"].items() if CLIPS[name][0] in ALLOWED[crawler]]
        ways = [
            f"{name} {variant} {asked} by {way}"
            for name, clip in theirs
            for variant in clip_variants(clip)
            for asked in ("whole", "bytes=0-", "bytes=100-199")
            for way in WAYS
        ]
        assert theirs and served_clips[crawler] == set(ways)
    FIGURES["leak canaries: markers"] = len(MARKERS) + 1
    FIGURES["leak canaries: photo markers"] = len(MEDIA_KEYS)
    FIGURES["leak canaries: voice and video markers"] = len(CLIP_KEYS)
    FIGURES["leak canaries: surfaces crawled"] += crawled
    FIGURES["leak canaries: marker hits"] += len(hits)
    assert not hits, "\n".join(hits)


# Group history: markers said before someone joined, while someone was out of the group, and by
# a member someone blocked; then crawled by those three over REST, pages and their sockets.
HISTORY_MARKERS = {kind: canary(kind) for kind in ("prejoin", "gap", "blockedsay")}
# Who may not see which: a live push that reached someone while they were a member was theirs
# then (the returned member got "prejoin" live); a replay renders what they may see now.
HISTORY_FORBIDDEN = {
    "latecomer": {"prejoin"},
    "returned": {"prejoin", "gap"},
    "blocker": {"blockedsay"},
}
HISTORY_LIVE_ALLOWED = {"returned": {"prejoin"}}


@pytest.fixture
def history_scene(make_user, befriend, live_daphne):
    from chat.services import block_create, conversation_create

    def relate():
        names = ("admin", "talker", "latecomer", "returned", "blocker")
        people = {name: make_user(username=name) for name in names}
        for name in names[1:]:
            befriend(people["admin"], people[name])
        group, _ = conversation_create(
            creator=people["admin"], usernames=["talker", "returned", "blocker"], title="History"
        )
        block_create(user=people["blocker"], username="talker")
        return people, group

    people, group = relate()
    sockets = {name: Socket.open(live_daphne, people[name]) for name in HISTORY_FORBIDDEN}
    base = f"/api/conversations/{group.pk}/"

    def say(user, body):
        sent = rest(live_daphne, user, "POST", base + "messages/", {"body": body})
        assert sent.status == 201
        return sent.data["id"]

    def members(method, path, body=None):
        assert rest(live_daphne, people["admin"], method, base + path, body).status in (200, 204)

    prejoin = say(people["talker"], HISTORY_MARKERS["prejoin"])
    members("POST", "members/", {"usernames": ["latecomer"]})
    members("DELETE", "members/returned/")
    say(people["talker"], HISTORY_MARKERS["gap"])
    members("POST", "members/", {"usernames": ["returned"]})
    say(people["talker"], HISTORY_MARKERS["blockedsay"])
    # Replies by someone everyone sees, to what some may not: the preview must not carry it.
    answer = {"body": "answering", "reply_to": prejoin}
    assert rest(live_daphne, people["admin"], "POST", base + "messages/", answer).status == 201
    return {"people": people, "sockets": sockets, "group": group}


def test_no_group_history_marker_reaches_someone_who_was_not_there(history_scene):
    people, group, hits, crawled = history_scene["people"], history_scene["group"], [], 0
    rest_paths = ["/api/conversations/", f"/api/conversations/{group.pk}/", f"/api/conversations/{group.pk}/messages/"]
    page_paths = ["/chat/", f"/chat/{group.pk}/"]
    for crawler, kinds in HISTORY_FORBIDDEN.items():
        markers = {HISTORY_MARKERS[kind] for kind in kinds}
        rest, pages = APIClient(), django.test.Client()
        rest.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=people[crawler]).key}")
        pages.force_login(people[crawler])
        for client, paths in ((rest, rest_paths), (pages, page_paths)):
            for path in paths:
                hits += hits_in(client.get(path).content.decode(), crawler, path, markers=markers)
                crawled += 1
        socket = history_scene["sockets"][crawler]
        live = socket.drain()
        socket.send(type="resume", after=0)
        replayed = [socket.recv()]
        while replayed[-1]["type"] != "resume.done":
            replayed.append(socket.recv())
        allowed_live = {HISTORY_MARKERS[kind] for kind in HISTORY_LIVE_ALLOWED.get(crawler, set())}
        hits += hits_in(repr(live), crawler, "their socket stream (live)", markers=markers - allowed_live)
        hits += hits_in(repr(replayed), crawler, "their socket stream (resume from 0)", markers=markers)
        crawled += 1
    # The canaries are alive: the admin, who was there for all of it, reads every marker.
    admin = APIClient()
    admin.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=people['admin']).key}")
    history = admin.get(f"/api/conversations/{group.pk}/messages/").content.decode()
    assert all(marker in history for marker in HISTORY_MARKERS.values())
    FIGURES["leak canaries: group history markers"] = len(HISTORY_MARKERS)
    FIGURES["leak canaries: surfaces crawled"] += crawled
    FIGURES["leak canaries: marker hits"] += len(hits)
    assert not hits, "\n".join(hits)

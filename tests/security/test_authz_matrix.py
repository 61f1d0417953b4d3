"""The authorization matrix: every REST operation × every role, each answer written down.

Roles are relative to the owner's things (see conftest.World). Where a role may not see a
thing, its answer must be exactly (status and body) the answer for an id that does not
exist: a refusal that differs would tell that the thing is there. Every request runs in a
savepoint that is rolled back, so each role meets the same world.

The operations come from the OpenAPI schema: a new endpoint without rows here fails
`test_every_api_operation_is_in_the_matrix`.
"""

import json
import re
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from .conftest import CONTACTS, FIGURES, FORMER, MEMBERS, MISSING_ID, OUTSIDERS, ROLES, SIGNED_IN, World, answers

pytestmark = pytest.mark.django_db

MISSING_NAME = "nobody_here"


def signed_in(status: int) -> dict[str, int]:
    return answers((SIGNED_IN, status), ("anonymous", 401))


def everyone(status: int) -> dict[str, int]:
    return answers((ROLES, status))


def not_blocked(status: int, anonymous: int | None = None) -> dict[str, int]:
    """The owner's public things: everyone but the blocked (anonymous as given, else the same)."""
    rest = tuple(role for role in SIGNED_IN if role != "blocked")
    return answers((rest, status), ("blocked", 404), ("anonymous", status if anonymous is None else anonymous))


MEMBERS_ONLY = answers((MEMBERS, 200), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401))


def uploader_only(status: int) -> dict[str, int]:
    return answers(("owner", status), (SIGNED_IN[1:], 404), ("anonymous", 401))


@dataclass
class Case:
    """One operation asked by every role. `args` fill the path's {names} and "@key" values in
    `body` from the world; `secret` names the key whose refusal must equal a missing one's."""

    method: str
    route: str
    expected: dict[str, int]
    args: dict[str, str] = field(default_factory=dict)
    body: dict | None = None
    query: str = ""
    secret: str | None = None
    refusal: int = 404

    @property
    def name(self) -> str:
        detail = ",".join(f"{k}={v}" for k, v in self.args.items())
        return f"{self.method} {self.route}{self.query} [{detail}]" + (" body" if self.body else "")


POST_ID = "/api/posts/{id}/"
GROUP_ID = "/api/conversations/{conversation_id}/"
CONTACTS_POST = {"id": "post:contacts"}
OWNER = {"username": "owner"}
GROUP = {"conversation_id": "group"}
DIRECT = {"conversation_id": "direct"}
CONTACTS_POST_SEEN = answers((CONTACTS, 200), (OUTSIDERS, 404), ("anonymous", 401))
CONTACTS_POST_LISTED = answers((CONTACTS, 200), ((*OUTSIDERS, "anonymous"), 404))

ARTICLE_ID = "/api/articles/{id}/"
CHANNEL = "/api/channels/{username}/"
STATION = {"username": "station"}
DRAFT_KEY = "article:draft"
DRAFT = {"id": DRAFT_KEY}

CASES = [
    # accounts
    Case("POST", "/api/auth/register/", everyone(201), body={"username": "@fresh", "password": "Long-enough-pw-42"}),
    Case("POST", "/api/auth/token/", everyone(400), body={"username": "@self", "password": "not-the-password"}),
    Case("POST", "/api/auth/logout/", signed_in(204)),
    Case("GET", "/api/me/", signed_in(200)),
    Case("PATCH", "/api/me/", signed_in(200), body={"bio": "hello"}),
    # posts
    Case("POST", "/api/posts/", signed_in(201), body={"body": "hi"}),
    Case(
        "POST",
        "/api/posts/",
        answers((CONTACTS, 201), (OUTSIDERS, 400), ("anonymous", 401)),
        body={"body": "a reply", "reply_to": "@post:contacts"},
        secret="post:contacts",
        refusal=400,
    ),
    Case("GET", POST_ID, not_blocked(200), args={"id": "post:public"}, secret="post:public"),
    Case(
        "GET",
        POST_ID,
        answers((MEMBERS, 200), ((*FORMER, *OUTSIDERS, "anonymous"), 404)),
        args={"id": "post:followers"},
        secret="post:followers",
    ),
    Case("GET", POST_ID, CONTACTS_POST_LISTED, args=CONTACTS_POST, secret="post:contacts"),
    Case(
        "DELETE",
        POST_ID,
        answers(("owner", 204), (("member", *FORMER), 403), (OUTSIDERS, 404), ("anonymous", 401)),
        args=CONTACTS_POST,
        secret="post:contacts",
    ),
    Case("POST", "/api/posts/{id}/repost/", not_blocked(201, anonymous=401), args={"id": "post:public"}),
    Case(
        "POST",
        "/api/posts/{id}/repost/",
        answers((CONTACTS, 400), (OUTSIDERS, 404), ("anonymous", 401)),
        args=CONTACTS_POST,
        secret="post:contacts",
    ),
    *[
        Case(method, f"/api/posts/{{id}}/{action}/", CONTACTS_POST_SEEN, args=CONTACTS_POST, secret="post:contacts")
        for action in ("like", "bookmark")
        for method in ("POST", "DELETE")
    ],
    *[
        Case("GET", f"/api/posts/{{id}}/{kind}/", CONTACTS_POST_LISTED, args=CONTACTS_POST, secret="post:contacts")
        for kind in ("replies", "reposts")
    ],
    # reach: the author only; everyone else as for a missing post (even those who may see the post)
    *[
        Case(
            "GET",
            "/api/posts/{id}/reach/",
            answers(("owner", 200), (SIGNED_IN[1:], 404), ("anonymous", 401)),
            args={"id": f"post:{kind}"},
            secret=f"post:{kind}",
        )
        for kind in ("public", "contacts")
    ],
    # people
    Case("GET", "/api/users/{username}/", not_blocked(200), args=OWNER, secret="owner"),
    *[
        Case("GET", f"/api/users/{{username}}/{kind}/", not_blocked(200), args=OWNER, secret="owner")
        for kind in ("followers", "following", "posts")
    ],
    *[
        Case(
            "POST",
            f"/api/users/{{username}}/{relation}/",
            answers(
                ("owner", 400), (("member", *FORMER, "pending", "stranger"), 200), ("blocked", 404), ("anonymous", 401)
            ),
            args=OWNER,
            secret="owner",
        )
        for relation in ("follow", "mute")
    ],
    *[
        Case(
            "DELETE",
            f"/api/users/{{username}}/{relation}/",
            not_blocked(200, anonymous=401),
            args=OWNER,
            secret="owner",
        )
        for relation in ("follow", "mute")
    ],
    # timelines
    Case("GET", "/api/feed/", signed_in(200)),
    Case("GET", "/api/feed/", signed_in(200), query="?order=latest"),
    Case("GET", "/api/timeline/public/", everyone(200)),
    Case("GET", "/api/trending/", everyone(200)),
    Case("GET", "/api/tags/{tag}/posts/", everyone(200), args={"tag": "tag"}),
    Case("GET", "/api/search/", everyone(200), query="?q=crew"),
    Case("GET", "/api/search/suggest/", everyone(200), query="?q=cr"),
    Case("GET", "/api/chat/search/", signed_in(200), query="?q=hi"),
    *[
        Case(
            "GET",
            "/api/chat/search/",
            MEMBERS_ONLY,
            args=where,
            query="?q=hi&conversation={conversation_id}",
            secret=where["conversation_id"],
        )
        for where in (GROUP, DIRECT)
    ],
    Case("GET", "/api/notifications/", signed_in(200)),
    Case("POST", "/api/notifications/read/", signed_in(200), body={}),
    Case("GET", "/api/notifications/unread/", signed_in(200)),
    # contacts and blocks
    Case("GET", "/api/contacts/", signed_in(200)),
    Case(
        "DELETE",
        "/api/contacts/{username}/",
        answers((("owner", *OUTSIDERS), 404), (("member", *FORMER), 204), ("anonymous", 401)),
        args=OWNER,
        secret="owner",
    ),
    Case("GET", "/api/contact-requests/", signed_in(200)),
    Case("GET", "/api/contact-requests/", signed_in(200), query="?direction=outgoing"),
    Case(
        "POST",
        "/api/contact-requests/",
        answers((CONTACTS, 400), (("pending", "stranger"), 201), ("blocked", 404), ("anonymous", 401)),
        body={"to": "@owner"},
        secret="owner",
    ),
    *[
        Case(
            "POST",
            f"/api/contact-requests/{{request_id}}/{verb}/",
            answers(("owner", 200), (SIGNED_IN[1:], 404), ("anonymous", 401)),
            args={"request_id": "request"},
            secret="request",
        )
        for verb in ("accept", "decline")
    ],
    Case("GET", "/api/blocks/", signed_in(200)),
    Case(
        "POST",
        "/api/blocks/",
        answers(("owner", 400), (SIGNED_IN[1:], 201), ("anonymous", 401)),
        body={"username": "@owner"},
    ),
    Case("DELETE", "/api/blocks/{username}/", signed_in(204), args=OWNER),
    # conversations
    Case("GET", "/api/conversations/", signed_in(200)),
    Case(
        "POST",
        "/api/conversations/",
        answers((("owner", *OUTSIDERS), 400), (("member", *FORMER), 200), ("anonymous", 401)),
        body={"members": ["@owner"]},
    ),
    Case(
        "POST",
        "/api/conversations/from-post/",
        answers(("owner", 400), (("member", *FORMER), 201), (OUTSIDERS, 404), ("anonymous", 401)),
        body={"post": "@post:contacts", "members": ["@owner"]},
        secret="post:contacts",
    ),
    *[
        Case("GET", route, MEMBERS_ONLY, args=where, secret=where["conversation_id"])
        for route in (GROUP_ID, GROUP_ID + "messages/")
        for where in (GROUP, DIRECT)
    ],
    *[
        Case(
            "POST",
            GROUP_ID + "messages/",
            answers((MEMBERS, 201), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401)),
            args=where,
            body={"body": "hi"},
            secret=where["conversation_id"],
        )
        for where in (GROUP, DIRECT)
    ],
    *[
        Case(
            "POST",
            GROUP_ID + "read/",
            answers((MEMBERS, 204), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401)),
            args=where,
            body={"up_to": f"@{message}"},
            secret=where["conversation_id"],
        )
        for where, message in ((GROUP, "message"), (DIRECT, "direct_message"))
    ],
    *[
        Case(
            method,
            GROUP_ID + "mute/",
            answers((MEMBERS, 200), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401)),
            args=where,
            secret=where["conversation_id"],
        )
        for method in ("POST", "DELETE")
        for where in (GROUP, DIRECT)
    ],
    Case(
        "POST",
        GROUP_ID + "members/",
        answers(("owner", 200), ("member", 403), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401)),
        args=GROUP,
        body={"usernames": ["@left"]},
        secret="group",
    ),
    Case(
        "DELETE",
        GROUP_ID + "members/{username}/",
        answers((MEMBERS, 204), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401)),
        args={**GROUP, "username": "member"},
        secret="group",
    ),
    Case(
        "DELETE",
        GROUP_ID + "members/{username}/",
        answers(("owner", 204), ("member", 403), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401)),
        args={**GROUP, "username": "owner"},
        secret="group",
    ),
    Case(
        "POST",
        "/api/messages/{message_id}/recall/",
        answers(("owner", 200), ("member", 403), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401)),
        args={"message_id": "message"},
        secret="message",
    ),
    # marking a voice clip played: the matrix's message is text, so members get the reason (400)
    Case(
        "POST",
        "/api/messages/{message_id}/played/",
        answers((("owner", "member"), 400), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401)),
        args={"message_id": "message"},
        secret="message",
    ),
    # delete for me: any member who sees the message, theirs or another's
    Case(
        "POST",
        "/api/messages/{message_id}/hide/",
        answers((("owner", "member"), 204), ((*FORMER, *OUTSIDERS), 404), ("anonymous", 401)),
        args={"message_id": "message"},
        secret="message",
    ),
    # uploads: each person's own, and nobody else's (the matrix sends JSON, which is no upload)
    Case("POST", "/api/media/", signed_in(415), body={"file": "not a file"}),
    Case("GET", "/api/media/{id}/", uploader_only(200), args={"id": "upload"}, secret="upload"),
    Case("PATCH", "/api/media/{id}/", uploader_only(200), args={"id": "upload"}, body={"alt": "mine"}, secret="upload"),
    Case("DELETE", "/api/media/{id}/", uploader_only(204), args={"id": "upload"}, secret="upload"),
    # articles: a published one reads as a post of its visibility does; a draft is its author's alone
    Case("POST", "/api/articles/", signed_in(201), body={"title": "Mine", "body": "**words**"}),
    Case("GET", "/api/articles/", signed_in(200)),
    Case("GET", ARTICLE_ID, not_blocked(200), args={"id": "article:public"}, secret="article:public"),
    Case(
        "GET",
        ARTICLE_ID,
        answers((MEMBERS, 200), ((*FORMER, *OUTSIDERS, "anonymous"), 404)),
        args={"id": "article:followers"},
        secret="article:followers",
    ),
    Case("GET", ARTICLE_ID, CONTACTS_POST_LISTED, args={"id": "article:contacts"}, secret="article:contacts"),
    Case(
        "GET", ARTICLE_ID, answers(("owner", 200), ((*SIGNED_IN[1:], "anonymous"), 404)), args=DRAFT, secret=DRAFT_KEY
    ),
    *[
        Case(method, ARTICLE_ID, expected, args=where, body=body, secret=where["id"])
        for method, ok, body in (("PATCH", 200, {"title": "Renamed"}), ("DELETE", 204, None))
        for where, expected in (
            (
                {"id": "article:contacts"},
                answers(("owner", ok), (("member", *FORMER), 403), (OUTSIDERS, 404), ("anonymous", 401)),
            ),
            (DRAFT, answers(("owner", ok), (SIGNED_IN[1:], 404), ("anonymous", 401))),
        )
    ],
    Case("POST", ARTICLE_ID + "publish/", uploader_only(200), args=DRAFT, secret=DRAFT_KEY),
    Case("POST", "/api/articles/preview/", signed_in(200), body={"body": "# A *preview*"}),
    Case("GET", "/api/articles/search/", everyone(200), query="?q=article"),
    Case(
        "POST",
        "/api/posts/",
        answers(("owner", 201), (SIGNED_IN[1:], 400), ("anonymous", 401)),
        body={"article": "@article:public"},
        secret="article:public",
        refusal=400,
    ),
    # channels: public to read; the owner and editors (member) broadcast; subscribers (left) message it
    Case("POST", "/api/channels/", signed_in(201), body={"username": "@fresh", "display_name": "A fresh one"}),
    Case("GET", CHANNEL, everyone(200), args=STATION, secret="station", refusal=404),
    Case("POST", CHANNEL + "subscribe/", signed_in(200), args=STATION),
    Case("DELETE", CHANNEL + "subscribe/", signed_in(200), args=STATION),
    Case("GET", CHANNEL + "broadcasts/", everyone(200), args=STATION),
    Case(
        "POST",
        CHANNEL + "broadcasts/",
        answers((("owner", "member"), 201), (SIGNED_IN[2:], 403), ("anonymous", 401)),
        args=STATION,
        body={"title": "Today", "articles": ["@article:public"]},
    ),
    Case(
        "POST",
        CHANNEL + "conversation/",
        answers(("left", 200), (tuple(r for r in SIGNED_IN if r != "left"), 403), ("anonymous", 401)),
        args=STATION,
    ),
]


def world_values(world: World) -> dict[str, object]:
    values: dict[str, object] = {f"post:{visibility}": post.pk for visibility, post in world.posts.items()}
    values.update({f"article:{kind}": article.pk for kind, article in world.articles.items()})
    values.update(
        group=world.group.pk,
        direct=world.direct.pk,
        message=world.message.pk,
        direct_message=world.direct_message.pk,
        request=world.request.pk,
        upload=world.upload.pk,
        tag="crew",
        owner="owner",
        member="member",
        left="left",
        station="station",
    )
    return values


def missing_value(value):
    return MISSING_ID if isinstance(value, int) else MISSING_NAME


def fill(template, values: dict, role: str):
    """The case's body with "@key" replaced: world values, the role's own name, a fresh name."""
    if isinstance(template, dict):
        return {key: fill(value, values, role) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values, role) for value in template]
    if isinstance(template, str) and template.startswith("@"):
        key = template[1:]
        if key == "self":
            return role if role != "anonymous" else "ghost"
        if key == "fresh":
            return f"fresh_{role}"
        return values[key]
    return template


def request_as(client: APIClient, case: Case, values: dict, role: str) -> tuple[int, object]:
    # The query too: a search within a conversation names it there.
    path = re.sub(r"\{(\w+)\}", lambda match: str(values[case.args[match.group(1)]]), case.route + case.query)
    body = fill(case.body, values, role) if case.body is not None else None
    with transaction.atomic():
        data = "" if body is None else json.dumps(body)
        response = client.generic(case.method, path, data=data, content_type="application/json")
        transaction.set_rollback(True)
    content = response.json() if response.content else None
    return response.status_code, content


@pytest.fixture
def clients(world, client_for) -> dict[str, APIClient]:
    built = {role: client_for(world.user(role)) for role in SIGNED_IN}
    built["anonymous"] = APIClient()
    return built


def wrong_answers(case: Case, values: dict, clients: dict[str, APIClient]) -> list[str]:
    wrong = []
    for role in ROLES:
        status, body = request_as(clients[role], case, values, role)
        FIGURES["authz matrix: REST cases run"] += 1
        if status != case.expected[role]:
            wrong.append(f"{case.name} as {role}: {status} (expected {case.expected[role]}) {body}")
            continue
        if case.secret and status == case.refusal:
            absent = {**values, case.secret: missing_value(values[case.secret])}
            FIGURES["authz matrix: REST refusals compared with a missing id's"] += 1
            if (status, body) != request_as(clients[role], case, absent, role):
                wrong.append(f"{case.name} as {role}: refused unlike a missing {case.secret}: {body}")
    return wrong


def test_each_role_gets_exactly_its_answer(world: World, clients):
    """One world for the whole table (each request is rolled back), so the table stays cheap to grow."""
    values = world_values(world)
    wrong = [line for case in CASES for line in wrong_answers(case, values, clients)]
    FIGURES["authz matrix: REST leaks or wrong answers"] += len(wrong)
    assert not wrong, "\n".join(wrong)


def test_every_api_operation_is_in_the_matrix():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    covered = {(case.method, case.route) for case in CASES}
    assert operations - covered == set(), "operations without matrix rows"
    assert covered - operations == set(), "matrix rows for operations that no longer exist"
    FIGURES["authz matrix: REST operations"] = len(operations)


# Group history: who reads which message. A membership's view starts where it began, and in a
# group a block hides the two people from each other. Each row is a message; each role must
# find it (or not) in the history, and where it may not, asking about the message must answer
# exactly as for a message id that does not exist.

HISTORY_ROLES = ("founder", "member", "late", "returned", "blocker", "blocked")
HISTORY = {
    # message: the roles who read it
    "before_late": ("founder", "member", "blocker", "blocked"),
    "in_the_gap": ("founder", "member", "late", "blocker", "blocked"),
    "from_blocked": ("founder", "member", "late", "returned", "blocked"),
    "from_blocker": ("founder", "member", "late", "returned", "blocker"),
    "latest": HISTORY_ROLES,
}


@pytest.fixture
def history_world(make_user):
    from chat import services as chat

    people = {role: make_user(username=role) for role in HISTORY_ROLES}
    founder = people["founder"]
    for role in HISTORY_ROLES[1:]:
        request, _ = chat.contact_request_send(sender=founder, to_username=role)
        chat.contact_request_accept(user=people[role], request_id=request.pk)
    group, _ = chat.conversation_create(
        creator=founder, usernames=["member", "returned", "blocker", "blocked"], title="History"
    )

    def say(role, key):
        return chat.message_send(sender=people[role], conversation=group, body=f"zq-{key}")[0]

    messages = {"before_late": say("founder", "before_late")}
    chat.group_members_add(user=founder, conversation=group, usernames=["late"])
    chat.group_member_remove(user=founder, conversation=group, username="returned")
    messages["in_the_gap"] = say("member", "in_the_gap")
    chat.group_members_add(user=founder, conversation=group, usernames=["returned"])
    chat.block_create(user=people["blocker"], username="blocked")
    messages["from_blocked"] = say("blocked", "from_blocked")
    messages["from_blocker"] = say("blocker", "from_blocker")
    messages["latest"] = say("founder", "latest")
    return people, group, messages


def test_each_group_member_reads_exactly_the_history_that_is_theirs(history_world, client_for):
    people, group, messages = history_world
    wrong = []
    for role in HISTORY_ROLES:
        client = client_for(people[role])
        shown = {m["body"] for m in client.get(f"/api/conversations/{group.pk}/messages/").json()["results"]}
        for key, message in messages.items():
            FIGURES["authz matrix: group history cases run"] += 1
            expected = role in HISTORY[key]
            if (f"zq-{key}" in shown) != expected:
                wrong.append(f"{role} {'misses' if expected else 'reads'} {key}")
            if expected or message.sender_id == people[role].pk:
                continue
            # Unseen: asking about it answers as for a missing id, whatever the way of asking.
            missing = MISSING_ID
            # (A read mark is not asked: `up_to` is a bound, not a message, so any id answers alike.)
            for ask in (
                lambda pk, client=client: client.post(f"/api/messages/{pk}/recall/"),
                lambda pk, client=client: client.post(
                    f"/api/conversations/{group.pk}/messages/", {"body": "re", "reply_to": pk}, format="json"
                ),
            ):
                with transaction.atomic():
                    seen_answer = ask(message.pk)
                    absent_answer = ask(missing)
                    transaction.set_rollback(True)
                FIGURES["authz matrix: group history refusals compared with a missing id's"] += 1
                if (seen_answer.status_code, seen_answer.content) != (absent_answer.status_code, absent_answer.content):
                    wrong.append(f"{role} asking about {key}: {seen_answer.status_code} {seen_answer.content!r}")
    FIGURES["authz matrix: REST leaks or wrong answers"] += len(wrong)
    assert not wrong, "\n".join(wrong)


def test_a_block_refuses_a_group_invitation_exactly_as_a_stranger_is_refused(make_user, client_for, befriend):
    """Making a group with someone who blocked you (or whom you blocked), or adding them to yours,
    answers as for a non-contact: the same status and body, the name aside."""
    from chat import services as chat

    actor, blocker, blocked, friend = (make_user(username=name) for name in ("actor", "blocker", "blocked", "friend"))
    stranger = make_user(username="strange")
    for other in (blocker, blocked, friend):
        befriend(actor, other)
    chat.block_create(user=blocker, username="actor")
    chat.block_create(user=actor, username="blocked")
    group, _ = chat.conversation_create(creator=actor, usernames=["friend"], title="Mine")
    client = client_for(actor)

    def ask(kind, name):
        if kind == "create":
            answer = client.post("/api/conversations/", {"members": [name], "title": "x"}, format="json")
        else:
            answer = client.post(f"/api/conversations/{group.pk}/members/", {"usernames": [name]}, format="json")
        return answer.status_code, answer.content.decode().replace(name, "<name>")

    wrong = []
    for kind in ("create", "add"):
        for person in (blocker, blocked):
            FIGURES["authz matrix: group invitations across a block"] += 1
            if ask(kind, person.username) != ask(kind, stranger.username):
                wrong.append(f"{kind} with {person.username}: {ask(kind, person.username)}")
    assert not wrong, "\n".join(wrong)

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
]


def world_values(world: World) -> dict[str, object]:
    values: dict[str, object] = {f"post:{visibility}": post.pk for visibility, post in world.posts.items()}
    values.update(
        group=world.group.pk,
        direct=world.direct.pk,
        message=world.message.pk,
        direct_message=world.direct_message.pk,
        request=world.request.pk,
        tag="crew",
        owner="owner",
        member="member",
        left="left",
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
    path = re.sub(r"\{(\w+)\}", lambda match: str(values[case.args[match.group(1)]]), case.route) + case.query
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

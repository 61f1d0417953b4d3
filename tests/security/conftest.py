"""The security battery's shared world (who is related to whom) and its figures.

Each test adds what it counted to FIGURES; the session ends by printing them, which is
where SECURITY.md's numbers come from.
"""

from collections import Counter
from dataclasses import dataclass, field

import pytest

from accounts.models import ContactRequest, User
from chat.models import Conversation, Message
from media.models import Media
from microblog.models import Post
from tests.factories import ConversationFactory

# Everyone the matrix and the canaries ask as, relative to the owner's things.
ROLES = ("owner", "member", "left", "removed", "pending", "stranger", "blocked", "anonymous")

MEMBERS = ("owner", "member")
FORMER = ("left", "removed")
CONTACTS = (*MEMBERS, *FORMER)  # the owner's contacts: they see contacts-only posts
OUTSIDERS = ("pending", "stranger", "blocked")
SIGNED_IN = tuple(role for role in ROLES if role != "anonymous")
MISSING_ID = 999_999_999

FIGURES: Counter = Counter()


def answers(*rows: tuple[tuple[str, ...] | str, object]) -> dict[str, object]:
    """{role: answer} from (roles, answer) rows that name every role exactly once."""
    table: dict[str, object] = {}
    for roles, answer in rows:
        for role in (roles,) if isinstance(roles, str) else roles:
            assert role not in table, f"{role} named twice"
            table[role] = answer
    assert set(table) == set(ROLES), f"roles missing: {set(ROLES) - set(table)}"
    return table


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.write_sep("-", "security figures")
        for name, value in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value}")


@dataclass
class World:
    """The owner's things and the people around them.

    member: a contact, in the group and the direct conversation, follows the owner.
    left / removed: contacts who were in the group (one left, one was removed).
    pending: asked the owner to be a contact; not accepted. stranger: signed in, nothing more.
    blocked: blocked by the owner.
    upload: a photo the owner uploaded and attached to nothing yet (its row: no files are needed).
    """

    people: dict[str, User]
    group: Conversation
    direct: Conversation
    message: Message
    direct_message: Message
    posts: dict[str, Post]
    request: ContactRequest
    upload: Media
    # {"public", "followers", "contacts": published articles; "draft": a draft}, all the owner's.
    articles: dict = field(default_factory=dict)
    # The owner's channel "station": member is its editor, left subscribes.
    channel: object = None

    def user(self, role: str) -> User | None:
        return self.people.get(role)


def build_world(make_user) -> World:
    from chat import services as chat
    from microblog import services as microblog

    people = {role: make_user(username=role) for role in ROLES if role != "anonymous"}
    owner = people["owner"]
    group = ConversationFactory(creator=owner, members=[people[r] for r in ("member", "left", "removed")], title="Crew")
    chat.group_member_remove(user=people["left"], conversation=group, username="left")
    chat.group_member_remove(user=owner, conversation=group, username="removed")
    direct, _ = chat.conversation_create(creator=owner, usernames=["member"])
    message, _ = chat.message_send(sender=owner, conversation=group, body="hello crew")
    direct_message, _ = chat.message_send(sender=people["member"], conversation=direct, body="hello owner")
    request, _ = chat.contact_request_send(sender=people["pending"], to_username="owner")
    chat.block_create(user=owner, username="blocked")
    microblog.user_follow(follower=people["member"], followee=owner)
    posts = {
        visibility: microblog.post_create(author=owner, body=f"a {visibility} post #crew", visibility=visibility)
        for visibility in ("public", "followers", "contacts")
    }
    upload = Media.objects.create(owner=owner, status=Media.Status.READY, width=640, height=480, alt="a photo")
    from articles.services import article_create, article_publish

    articles = {
        visibility: article_publish(
            author=owner,
            article=article_create(author=owner, title=f"A {visibility} article", body="words", visibility=visibility),
        )
        for visibility in ("public", "followers", "contacts")
    }
    articles["draft"] = article_create(author=owner, title="A draft", body="unfinished")
    from chat.services import channels

    channel = channels.channel_create(owner=owner, username="station", display_name="Station")
    channel.editors.add(people["member"])
    channels.channel_subscribe(user=people["left"], channel=channel)
    return World(
        people=people,
        group=group,
        direct=direct,
        message=message,
        direct_message=direct_message,
        posts=posts,
        request=request,
        upload=upload,
        articles=articles,
        channel=channel,
    )


@pytest.fixture
def world(make_user) -> World:
    return build_world(make_user)

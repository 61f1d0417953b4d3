"""factory_boy factories for the test suite.

Posts and conversations are made through the services, as people make them: a post gets its
hashtags, ancestors and notifications, a conversation only holds contacts of its creator.
"""

import factory

from accounts.models import Contact, User
from chat.models import Conversation
from microblog.models import Post, Visibility

PASSWORD = "correct-Horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda user: user.username.title())

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.setdefault("password", PASSWORD)
        return model_class.objects.create_user(*args, **kwargs)


def befriend(a: User, b: User) -> Conversation:
    """Makes two users contacts as people do (a asks, b accepts); their direct conversation."""
    from chat.services import contact_request_accept, contact_request_send

    request, _ = contact_request_send(sender=a, to_username=b.username)
    return contact_request_accept(user=b, request_id=request.pk)[1]


class PostFactory(factory.django.DjangoModelFactory):
    """`PostFactory(author=alice, body="hi #tag", visibility="followers", reply_to=post)`: made by
    `post_create`. `PostFactory.build(...)` gives an unsaved row, for bulk_create (no hashtags then)."""

    class Meta:
        model = Post

    author = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"post number {n}")
    visibility = Visibility.PUBLIC
    reply_to = None

    @classmethod
    def _create(cls, model_class, *, author, body, visibility, reply_to):
        from microblog.services import post_create

        return post_create(author=author, body=body, visibility=visibility, reply_to=reply_to)


class ConversationFactory(factory.django.DjangoModelFactory):
    """`ConversationFactory(creator=alice, members=[bob, carol], title="Trip")`: a group made by
    `conversation_create`, its members made the creator's contacts first where they are not.
    Two new people by default; one member and `title=""` gives the pair's direct conversation."""

    class Meta:
        model = Conversation

    creator = factory.SubFactory(UserFactory)
    members = factory.LazyFunction(lambda: [UserFactory(), UserFactory()])
    title = factory.Sequence(lambda n: f"group {n}")

    @classmethod
    def _create(cls, model_class, *, creator, members, title):
        from chat.services import conversation_create

        for person in members:
            if not Contact.objects.filter(user=creator, contact=person).exists():
                befriend(creator, person)
        conversation, _ = conversation_create(creator=creator, usernames=[p.username for p in members], title=title)
        return conversation

    @classmethod
    def _build(cls, model_class, *args, **kwargs):
        raise NotImplementedError("a conversation is only made with its members: ConversationFactory(...)")

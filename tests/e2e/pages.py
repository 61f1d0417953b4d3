"""A small world with something on every page (a post with a hashtag, a mention, a photo-less reply,
a like, a chat with messages, a waiting contact request), and the list of Tandem's main pages, for the
accessibility, phone-layout and keyboard tests."""

from dataclasses import dataclass

from chat.services import contact_request_send, message_send
from microblog.services import post_create, post_like, post_repost
from tests.factories import UserFactory, befriend


@dataclass
class World:
    alice: object
    bob: object
    post: object
    conversation: object

    def signed_in_pages(self) -> dict[str, str]:
        return {
            "feed": "/",
            "explore": "/explore/",
            "tag": "/tags/tandem/",
            "profile": "/u/bob/",
            "post": f"/p/{self.post.pk}/",
            "notifications": "/notifications/",
            "chats": "/chat/",
            "chat": f"/chat/{self.conversation.pk}/",
            "contacts": "/contacts/",
            "settings": "/settings/",
            "404": "/no-such-page/",
        }

    def signed_out_pages(self) -> dict[str, str]:
        return {
            "welcome": "/",
            "explore": "/explore/",
            "tag": "/tags/tandem/",
            "profile": "/u/bob/",
            "post": f"/p/{self.post.pk}/",
            "login": "/login/",
            "signup": "/signup/",
            "404": "/no-such-page/",
        }


def build_world() -> World:
    alice = UserFactory(username="alice", display_name="Alice Lin")
    bob = UserFactory(username="bob", display_name="Bob Wu")
    carol = UserFactory(username="carol", display_name="Carol")
    conversation = befriend(alice, bob)
    post = post_create(author=bob, body="Morning walk by the river #tandem with @alice 🌅")
    post_create(author=alice, body="Lovely! #tandem", reply_to=post)
    post_like(user=alice, post=post)
    post_repost(author=alice, post=post, comment="Worth a look")
    post_create(author=alice, body="Dumplings tonight? 🥟 #tandem")
    post_like(user=bob, post=post_create(author=alice, body="A second post of mine"))
    message_send(sender=alice, conversation=conversation, body="Hi Bob! 👋")
    message_send(sender=bob, conversation=conversation, body="Hello Alice, how are you?")
    contact_request_send(sender=carol, to_username="alice")
    return World(alice=alice, bob=bob, post=post, conversation=conversation)

"""The pages carry the <template> elements their JavaScript clones: one per notification kind, and
the message and card partials on an open chat, each the partial the server renders items with."""

import re

import pytest

from microblog.models import Notification

pytestmark = pytest.mark.django_db


def test_the_notifications_page_holds_a_template_for_every_kind(client, alice):
    client.force_login(alice)
    page = client.get("/notifications/").content.decode()
    kinds = re.findall(
        r'<template class="notification-template" data-kind="(\w+)">\s*<li class="card notification"', page
    )
    assert sorted(kinds) == sorted(Notification.Kind.values)


def test_an_open_chat_holds_the_message_and_card_templates(client, alice, bob, befriend):
    conversation = befriend(alice, bob)
    client.force_login(alice)
    page = client.get(f"/chat/{conversation.pk}/").content.decode()
    for template, root in (
        ("message-template", '<li class="msg">'),
        ("card-template", '<a class="card-post">'),
        ("card-unavailable-template", '<span class="card-post unavailable">'),
    ):
        assert re.search(rf'<template id="{template}">\s*{re.escape(root)}', page), template
    assert '<textarea id="body" name="body" rows="2" maxlength="4000"' in page  # chat's MAX_BODY, not a copy


def test_a_direct_chat_is_named_with_the_other_persons_username_wherever_it_is_listed(client, alice, bob, befriend):
    from chat.services import conversation_mute
    from microblog.services import post_create

    conversation = befriend(alice, bob)
    conversation_mute(user=alice, conversation=conversation, muted=True)
    post = post_create(author=bob, body="to share")
    client.force_login(alice)
    name = '<bdi>Bob</bdi> <bdi class="handle">@bob</bdi>'
    for path in ("/chat/", f"/chat/{conversation.pk}/", f"/chat/share/?post={post.pk}", "/settings/"):
        page = client.get(path).content.decode()
        assert name in page, path
        assert '<bdi class="handle">@alice</bdi>' not in page, path  # never the reader's own

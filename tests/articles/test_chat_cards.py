"""Articles shared into chats: each member sees the card as they may read the article, the others
"unavailable", over REST, the chat page, the live push and a replay."""

import pytest
from django.test import Client

from accounts.models import Block
from chat.cards import article_cards, article_reader_cards
from microblog.models import Follow
from tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(make_user, write_as):
    """author writes; fan follows author; other follows nobody; all three in a group."""
    author, fan, other = (make_user(username=name) for name in ("author", "fan", "other"))
    Follow.objects.create(follower=fan, followee=author)
    group = ConversationFactory(creator=author, members=[fan, other], title="Readers")
    articles = {
        "public": write_as(author, title="Open letter", body="open-canary", visibility="public")["id"],
        "followers": write_as(author, title="For fans", body="fans-canary", visibility="followers")["id"],
        "draft": write_as(author, title="Unfinished", body="draft-canary", publish=False)["id"],
    }
    return {"author": author, "fan": fan, "other": other, "group": group, "articles": articles}


def send(client_for, user, group, **fields):
    return client_for(user).post(f"/api/conversations/{group.pk}/messages/", fields, format="json")


def test_a_followers_article_shared_into_a_group_shows_only_to_those_who_may_read_it(crew, client_for):
    sent = send(client_for, crew["author"], crew["group"], shared_article=crew["articles"]["followers"])
    assert sent.status_code == 201, sent.content
    assert sent.json()["shared_article"]["title"] == "For fans"
    for name, sees in (("author", True), ("fan", True), ("other", False)):
        messages = client_for(crew[name]).get(f"/api/conversations/{crew['group'].pk}/messages/").json()["results"]
        card = messages[-1]["shared_article"]
        if sees:
            assert (card["unavailable"], card["title"], card["url"]) == (False, "For fans", f"/a/{card['id']}/")
        else:
            assert card == {"id": crew["articles"]["followers"], "unavailable": True}
        page = Client()
        page.force_login(crew[name])
        html = page.get(f"/chat/{crew['group'].pk}/").content.decode()
        assert ("For fans" in html) is sees
        assert ("This article is unavailable." in html) is not sees


def test_a_draft_or_an_unreadable_article_cannot_be_shared(crew, client_for):
    for sender, article in (("fan", "draft"), ("other", "followers"), ("other", "draft")):
        refused = send(client_for, crew[sender], crew["group"], shared_article=crew["articles"][article])
        assert refused.status_code == 400
        assert refused.json()["detail"] == "shared_article must be a published article you can read."
    missing = send(client_for, crew["other"], crew["group"], shared_article=987654321)
    assert missing.json() == refused.json()
    bad = send(client_for, crew["other"], crew["group"], shared_article="seven")
    assert bad.status_code == 400


def test_a_block_after_sharing_turns_the_card_unavailable(crew, client_for):
    send(client_for, crew["fan"], crew["group"], shared_article=crew["articles"]["public"])
    Block.objects.create(blocker=crew["author"], blocked=crew["other"])
    cards = article_cards(crew["other"], [crew["articles"]["public"]])
    assert cards[crew["articles"]["public"]]["unavailable"] is True


def test_many_readers_get_each_their_own_card_in_a_few_queries(crew, django_assert_max_num_queries):
    ids = list(crew["articles"].values())
    readers = [crew[name].pk for name in ("author", "fan", "other")]
    with django_assert_max_num_queries(2):
        cards = article_reader_cards(ids, readers)
    for article_id in ids:
        for reader in (crew["author"], crew["fan"], crew["other"]):
            single = article_cards(reader, [article_id])[article_id]
            assert cards[(article_id, reader.pk)]["unavailable"] == single["unavailable"]
    # The set-wise rule is the per-reader rule: drafts unavailable even to their author in a chat.
    assert cards[(crew["articles"]["draft"], crew["author"].pk)]["unavailable"] is True
    assert cards[(crew["articles"]["followers"], crew["fan"].pk)]["unavailable"] is False
    assert cards[(crew["articles"]["followers"], crew["other"].pk)]["unavailable"] is True


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_the_live_push_and_the_replay_carry_each_members_own_card(make_user, live_daphne):
    from articles.services import article_create, article_publish
    from tests.live import Socket, rest

    author, fan, other = (make_user(username=name) for name in ("author", "fan", "other"))
    Follow.objects.create(follower=fan, followee=author)
    group = ConversationFactory(creator=author, members=[fan, other], title="Readers")
    article = article_create(author=author, title="For fans", body="fans only", visibility="followers")
    article_publish(author=author, article=article)
    sockets = {"fan": Socket.open(live_daphne, fan), "other": Socket.open(live_daphne, other)}
    sent = rest(live_daphne, author, "POST", f"/api/conversations/{group.pk}/messages/", {"shared_article": article.pk})
    assert sent.status == 201
    expected = {"fan": False, "other": True}
    for name, socket in sockets.items():
        live = socket.until("message.new")[-1]["message"]["shared_article"]
        # A socket does not replay what it was pushed: a fresh one asks for everything again.
        fresh = Socket.open(live_daphne, {"fan": fan, "other": other}[name])
        fresh.send(type="resume", after=0)
        replayed = [f for f in fresh.until("resume.done") if f["type"] == "message.new"][-1]
        for card in (live, replayed["message"]["shared_article"]):
            assert card["unavailable"] is expected[name]
            assert ("For fans" in repr(card)) is not expected[name]

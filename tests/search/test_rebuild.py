"""`manage.py search_rebuild`: the index from scratch finds what the write paths indexed, and nothing deleted."""

from django.core.management import call_command

from chat import services as chat
from microblog.models import Post
from microblog.services import post_delete
from search.backends import backend
from search.query import parse


def test_a_rebuild_finds_bulk_loaded_rows_and_drops_what_is_gone(found, alice, bob, befriend, post, client_for):
    kept = post(alice, "rebuilt 北京 index")
    gone = post(alice, "rebuilt but deleted")
    post_delete(actor=alice, post=gone)
    # A bulk load skips the write paths (no post_save): not in the index until a rebuild.
    bulk = Post.objects.bulk_create([Post(author=bob, body="rebuilt from a bulk load", html="")])[0]
    conversation = befriend(alice, bob)
    message, _ = chat.message_send(sender=alice, conversation=conversation, body="rebuilt message")
    assert sorted(found("rebuilt")) == [kept.pk]
    backend().clear("post")
    assert found("rebuilt") == []
    call_command("search_rebuild")
    assert sorted(found("rebuilt")) == sorted([kept.pk, bulk.pk])
    assert found("北京") == [kept.pk]
    hits = client_for(bob).get("/api/chat/search/", {"q": "rebuilt"}).json()["results"]
    assert [hit["id"] for hit in hits] == [message.pk]
    assert [pk for pk, _ in backend().candidates("person", parse("ali*"), limit=5)] == [alice.pk]

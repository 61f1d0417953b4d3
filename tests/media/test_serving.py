"""Serving photos: each rule of media.access over /media/<key>/<variant>, and how the bytes go out.

Everyone refused gets exactly what a key that does not exist gets (status, headers, body), so
no answer tells that a file is there. The rules are asked as people ask: with a token (the
apps), a session cookie (the pages) or nothing, in-process and against a live daphne.
"""

from unittest import mock

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import token_for
from chat import services as chat
from media.models import Media
from microblog import services as microblog
from tests.factories import ConversationFactory
from tests.live import fetch, log_in, own_daphne

from .files import detach, stored_bytes, stored_photo, url

pytestmark = pytest.mark.django_db

MISSING = "/media/no-such-key-at-all/display"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_SERVE = "direct"
    return settings.MEDIA_ROOT


@pytest.fixture
def as_(client_for):
    """`as_(user)`: an APIClient with the user's token; `as_(None)`: nobody signed in."""
    return lambda user: APIClient() if user is None else client_for(user)


def answer(client, path, **headers):
    response = client.get(path, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, dict(response.items()), body


def assert_refused(client, path):
    """Refused exactly as a missing key is, to the byte and header."""
    refused = answer(client, path)
    assert refused[0] == 404
    assert refused == answer(client, MISSING)


def assert_served(client, media, variant="display"):
    status, headers, body = answer(client, url(media, variant))
    assert status == 200, body
    assert body == stored_bytes(media, variant)
    return headers


# Posts ---------------------------------------------------------------------------------------


def test_a_public_posts_photo_is_served_to_anyone_and_cached_publicly(make_user, as_):
    author, stranger, blocked = make_user(username="author"), make_user(), make_user(username="blocked")
    chat.block_create(user=author, username="blocked")
    post = microblog.post_create(author=author, body="look")
    photo = stored_photo(author, attach_to=("post", post.pk))
    for viewer in (None, stranger, author):
        headers = assert_served(as_(viewer), photo)
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Vary" not in headers or "Authorization" not in headers["Vary"]
    assert_served(as_(None), photo, "thumbnail")
    # Blocked: as with the post itself, the blocked person gets the 404 of a missing file.
    assert_refused(as_(blocked), url(photo))


def test_a_followers_only_posts_photo_follows_the_post(make_user, as_):
    author, follower, stranger = make_user(), make_user(), make_user()
    microblog.user_follow(follower=follower, followee=author)
    post = microblog.post_create(author=author, body="for followers", visibility="followers")
    photo = stored_photo(author, attach_to=("post", post.pk))
    headers = assert_served(as_(follower), photo)
    assert headers["Cache-Control"] == "private, no-cache"
    assert {"Cookie", "Authorization"} <= {part.strip() for part in headers["Vary"].split(",")}
    assert_served(as_(author), photo)
    for viewer in (stranger, None):
        assert_refused(as_(viewer), url(photo))
    microblog.user_unfollow(follower=follower, followee=author)
    assert_refused(as_(follower), url(photo))


def test_a_contacts_only_posts_photo_is_for_contacts(make_user, as_, befriend):
    author, contact, follower = make_user(), make_user(), make_user()
    befriend(author, contact)
    microblog.user_follow(follower=follower, followee=author)
    post = microblog.post_create(author=author, body="for contacts", visibility="contacts")
    photo = stored_photo(author, attach_to=("post", post.pk))
    assert_served(as_(contact), photo)
    for viewer in (follower, None):
        assert_refused(as_(viewer), url(photo))
        assert_refused(as_(viewer), url(photo, "thumbnail"))


def test_a_deleted_posts_photo_is_served_to_nobody_not_even_its_author(make_user, as_):
    author = make_user()
    post = microblog.post_create(author=author, body="soon gone")
    photo = stored_photo(author, attach_to=("post", post.pk))
    assert_served(as_(None), photo)
    microblog.post_delete(actor=author, post=post)
    detach("post", post.pk)
    for viewer in (author, None):
        assert_refused(as_(viewer), url(photo))
        assert_refused(as_(viewer), url(photo, "thumbnail"))


# Messages ------------------------------------------------------------------------------------


def test_a_chat_photo_is_for_the_members_who_see_the_message(make_user, as_):
    sender, member, leaver, removed, stranger = (make_user() for _ in range(5))
    group = ConversationFactory(creator=sender, members=[member, leaver, removed])
    message, _ = chat.message_send(sender=sender, conversation=group, body="a photo")
    photo = stored_photo(sender, attach_to=("message", message.pk))
    for viewer in (sender, member, leaver, removed):
        headers = assert_served(as_(viewer), photo)
        assert headers["Cache-Control"] == "private, no-cache"
    assert_refused(as_(stranger), url(photo))
    assert_refused(as_(None), url(photo))

    chat.group_member_remove(user=leaver, conversation=group, username=leaver.username)
    chat.group_member_remove(user=sender, conversation=group, username=removed.username)
    for gone in (leaver, removed):
        assert_refused(as_(gone), url(photo))
    assert_served(as_(member), photo)


def test_a_block_in_a_group_hides_each_ones_photos_from_the_other(make_user, as_):
    admin, blocker, blocked = make_user(), make_user(), make_user()
    group = ConversationFactory(creator=admin, members=[blocker, blocked])
    chat.block_create(user=blocker, username=blocked.username)
    mine, _ = chat.message_send(sender=blocked, conversation=group, body="from the blocked one")
    photo = stored_photo(blocked, attach_to=("message", mine.pk))
    assert_served(as_(admin), photo)
    assert_refused(as_(blocker), url(photo))


def test_a_recalled_messages_photo_is_served_to_nobody_not_even_its_sender(make_user, as_):
    sender, member = make_user(), make_user()
    group = ConversationFactory(creator=sender, members=[member])
    message, _ = chat.message_send(sender=sender, conversation=group, body="oops")
    photo = stored_photo(sender, attach_to=("message", message.pk))
    assert_served(as_(member), photo)
    chat.message_recall(user=sender, message_id=message.pk)
    detach("message", message.pk)
    for viewer in (sender, member):
        assert_refused(as_(viewer), url(photo))


# Unattached and unfinished uploads -----------------------------------------------------------


def test_an_unattached_upload_is_for_its_uploader_alone(make_user, as_, befriend):
    uploader, contact = make_user(), make_user()
    befriend(uploader, contact)
    photo = stored_photo(uploader)
    headers = assert_served(as_(uploader), photo)
    assert headers["Cache-Control"] == "private, no-cache"
    for viewer in (contact, None):
        assert_refused(as_(viewer), url(photo))


@pytest.mark.parametrize("status", [Media.Status.PROCESSING, Media.Status.FAILED])
def test_an_upload_not_ready_is_not_there_even_for_its_uploader(make_user, as_, status):
    uploader = make_user()
    photo = stored_photo(uploader, status=status)
    assert_refused(as_(uploader), url(photo))


def test_a_row_whose_file_is_gone_is_the_missing_file(make_user, as_):
    uploader = make_user()
    photo = stored_photo(uploader)
    default_storage.delete(photo.display_name)
    assert_refused(as_(uploader), url(photo))


def test_an_avatar_is_served_to_anyone_and_cached_publicly(make_user, as_):
    person = make_user()
    avatar = stored_photo(person, attach_to=("avatar", person.pk))
    headers = assert_served(as_(None), avatar)
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_an_unknown_variant_or_a_path_inside_the_storage_is_the_missing_file(make_user, as_):
    uploader = make_user()
    photo = stored_photo(uploader)
    client = as_(uploader)
    for path in (f"/media/{photo.key}/original", f"/media/{photo.key}/..", f"/media/{photo.display_name}/display"):
        status, _, body = answer(client, path)
        assert status == 404 and stored_bytes(photo) not in body


# The answer itself ---------------------------------------------------------------------------


def test_headers_of_a_served_photo(make_user, as_):
    uploader = make_user()
    photo = stored_photo(uploader)
    headers = assert_served(as_(uploader), photo)
    assert headers["Content-Type"] == "image/webp"
    assert headers["Content-Disposition"] == "inline"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Length"] == str(len(stored_bytes(photo)))
    assert headers["ETag"] == f'"{photo.key}.display"'
    assert answer(as_(uploader), url(photo, "thumbnail"))[1]["ETag"] == f'"{photo.key}.thumbnail"'


def test_what_is_not_a_picture_is_downloaded_not_shown(make_user, as_):
    """A type a browser would run or render as a page never opens inline, and is never sniffed."""
    uploader = make_user()
    for content_type in ("text/html", "image/svg+xml", "application/octet-stream"):
        photo = stored_photo(uploader, display_type=content_type)
        headers = answer(as_(uploader), url(photo))[1]
        assert headers["Content-Type"] == content_type
        assert headers["Content-Disposition"] == "attachment"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_known_etag_answers_304_to_those_allowed_and_404_to_the_rest(make_user, as_):
    author, stranger = make_user(), make_user()
    post = microblog.post_create(author=author, body="mine", visibility="followers")
    photo = stored_photo(author, attach_to=("post", post.pk))
    etag = answer(as_(author), url(photo))[1]["ETag"]
    status, headers, body = answer(as_(author), url(photo), HTTP_IF_NONE_MATCH=etag)
    assert (status, body) == (304, b"")
    assert headers["ETag"] == etag and headers["Cache-Control"] == "private, no-cache"
    assert answer(as_(author), url(photo), HTTP_IF_NONE_MATCH='"another"')[0] == 200
    # Knowing the ETag (it is in no way secret) does not get a stranger a 304.
    refused = answer(as_(stranger), url(photo), HTTP_IF_NONE_MATCH=etag)
    assert refused == answer(as_(stranger), MISSING, HTTP_IF_NONE_MATCH=etag)
    assert refused[0] == 404
    # Once the post is gone, the browser's revalidation is refused as well.
    microblog.post_delete(actor=author, post=post)
    detach("post", post.pk)
    assert answer(as_(author), url(photo), HTTP_IF_NONE_MATCH=etag)[0] == 404


def test_a_bad_token_is_nobody_and_gets_what_nobody_gets(make_user):
    author = make_user()
    public = stored_photo(author, attach_to=("post", microblog.post_create(author=author, body="hi").pk))
    private = stored_photo(author)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token-at-all")
    assert_served(client, public)
    assert_refused(client, url(private))
    author.is_active = False
    author.save()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user=author).key}")
    assert_refused(client, url(private))


def test_a_session_cookie_signs_the_uploader_in(make_user):
    uploader, other = make_user(), make_user()
    photo = stored_photo(uploader)
    pages = Client()
    pages.force_login(uploader)
    assert_served(pages, photo)
    pages.force_login(other)
    assert_refused(pages, url(photo))


def test_only_get_and_head_are_answered(make_user, as_):
    uploader = make_user()
    photo = stored_photo(uploader)
    head = as_(uploader).head(url(photo))
    assert head.status_code == 200 and head["Content-Type"] == "image/webp"
    assert as_(uploader).post(url(photo)).status_code == 405
    assert as_(uploader).delete(MISSING).status_code == 405


def test_the_check_costs_a_few_queries(make_user, as_, django_assert_max_num_queries):
    """The token, the upload, the post's audience and whether it is public: four queries at most."""
    author, follower = make_user(), make_user()
    microblog.user_follow(follower=follower, followee=author)
    post = microblog.post_create(author=author, body="for followers", visibility="followers")
    photo = stored_photo(author, attach_to=("post", post.pk))
    client = as_(follower)
    with django_assert_max_num_queries(4):
        assert answer(client, url(photo))[0] == 200
    with django_assert_max_num_queries(2):
        assert answer(client, MISSING)[0] == 404


# How the bytes go out ------------------------------------------------------------------------


def test_accel_mode_hands_nginx_the_file_and_sends_no_bytes(make_user, as_, settings):
    settings.MEDIA_SERVE = "accel"
    uploader, stranger = make_user(), make_user()
    photo = stored_photo(uploader)
    status, headers, body = answer(as_(uploader), url(photo))
    assert (status, body) == (200, b"")
    assert headers["X-Accel-Redirect"] == f"/_protected-media/{photo.display_name}"
    assert headers["Content-Type"] == "image/webp" and headers["Content-Disposition"] == "inline"
    assert headers["ETag"] == f'"{photo.key}.display"' and headers["Cache-Control"] == "private, no-cache"
    refused = answer(as_(stranger), url(photo))
    assert refused == answer(as_(stranger), MISSING) and "X-Accel-Redirect" not in refused[1]


def test_redirect_mode_sends_a_short_lived_presigned_url(make_user, as_, settings):
    settings.MEDIA_SERVE = "redirect"
    settings.MEDIA_PRESIGNED_SECONDS = 60
    uploader, stranger = make_user(), make_user()
    photo = stored_photo(uploader)
    storage = mock.Mock()
    storage.url.return_value = "https://bucket.example/photo.webp?X-Amz-Expires=60&X-Amz-Signature=abc"
    with mock.patch("media.views.default_storage", storage):
        status, headers, _ = answer(as_(uploader), url(photo))
        refused = answer(as_(stranger), url(photo))
        missing = answer(as_(stranger), MISSING)
    assert status == 302 and headers["Location"] == storage.url.return_value
    storage.url.assert_called_once_with(photo.display_name, expire=60)
    assert headers["Cache-Control"] == "private, no-store"
    assert refused == missing and refused[0] == 404


# Against a live daphne -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server_with_media(django_db_setup, tmp_path_factory):
    """A daphne of its own whose MEDIA_ROOT is the directory this module's files are written to."""
    root = tmp_path_factory.mktemp("live-media")
    with own_daphne(TEST_MEDIA_ROOT=str(root), MEDIA_SERVE="direct") as server:
        server.media_root = root
        yield server


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_over_a_live_daphne_token_and_session_both_work(live_server_with_media, settings, make_user, befriend):
    server = live_server_with_media
    settings.MEDIA_ROOT = server.media_root
    sender, member, stranger = make_user(), make_user(), make_user()
    conversation = befriend(sender, member)
    message, _ = chat.message_send(sender=sender, conversation=conversation, body="a photo")
    photo = stored_photo(sender, attach_to=("message", message.pk))
    # A display file larger than a block, so the streamed answer takes several reads.
    with open(server.media_root / photo.display_name, "ab") as file:
        file.write(b"\0" * 600_000)
    expected = stored_bytes(photo)

    status, headers, body = fetch(server, url(photo), Authorization=f"Token {token_for(user=member).key}")
    assert (status, body) == (200, expected)
    assert headers["Content-Length"] == str(len(expected)) and headers["X-Content-Type-Options"] == "nosniff"

    session = log_in(server, member)
    status, _, body = fetch(server, url(photo), Cookie=f"sessionid={session.session_key}")
    assert (status, body) == (200, expected)

    stranger_session = log_in(server, stranger)
    cookie = {"Cookie": f"sessionid={stranger_session.session_key}"}
    refused, missing = fetch(server, url(photo), **cookie), fetch(server, MISSING, **cookie)
    assert refused[0] == 404 and (refused[0], refused[2]) == (missing[0], missing[2])
    assert {k: v for k, v in refused[1].items() if k != "Date"} == {k: v for k, v in missing[1].items() if k != "Date"}
    token = {"Authorization": f"Token {token_for(user=stranger).key}"}
    assert fetch(server, url(photo), **token)[2] == fetch(server, MISSING, **token)[2] == b"Not found.\n"

    # The member leaves nothing behind in the browser's cache that outlives a recall.
    chat.message_recall(user=sender, message_id=message.pk)
    detach("message", message.pk)
    etag = headers["ETag"]
    again = fetch(server, url(photo), Authorization=f"Token {token_for(user=member).key}", **{"If-None-Match": etag})
    assert again[0] == 404

"""Photos and avatars on the pages, read as a browser without JavaScript gets them: every <img> has
its width and height (nothing moves as it loads) and loads lazily, galleries show the media objects'
URLs, everyone's avatar sits beside their name, and /settings/ takes a new avatar through a plain form."""

import io
import os
import re
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape
from PIL import Image

from chat.models import Message
from media.models import Media
from media.templatetags.media_tags import placeholder_colour

pytestmark = pytest.mark.django_db

THUMBNAIL_SIDE = "400"


def png(size=(120, 80), colour=(200, 40, 90), name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def svg_named_png() -> SimpleUploadedFile:
    return SimpleUploadedFile("evil.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/png")


@pytest.fixture
def photo(upload):
    """`photo(client, size=, colour=, alt=)`: a processed upload's media object (tests/media/conftest.py)."""

    def make(client, *, size=(120, 80), colour=(200, 40, 90), alt=None) -> dict:
        response = upload(client, png(size, colour).read(), name="photo.png", content_type="image/png", alt=alt)
        assert response.status_code == 201, response.content
        media = client.get(f"/api/media/{response.json()['id']}/").json()
        assert media["status"] == "ready", media
        return media

    return make


class Tags(HTMLParser):
    """Every start tag of a page as (name, attributes), in order."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def images(html: str) -> list[dict]:
    """The attributes of every <img> outside <template> elements (what the page shows)."""
    shown = re.sub(r"<template\b.*?</template>", "", html, flags=re.S)
    return [attrs for tag, attrs in Tags(shown).tags if tag == "img"]


def assert_every_image_is_sized_and_lazy(html: str) -> None:
    for attrs in images(html):
        if "lightbox-image" in attrs.get("class", ""):
            continue  # the viewer's one image: sized when a photo opens it
        assert attrs.get("width", "").isdigit() and attrs.get("height", "").isdigit(), attrs
        assert attrs.get("loading") == "lazy", attrs


def gallery_images(html: str, src_prefix: str = "/media/") -> list[dict]:
    return [attrs for attrs in images(html) if attrs.get("src", "").startswith(src_prefix)]


def test_a_post_shows_one_photo_large_and_three_as_a_grid_of_thumbnails(client, client_for, alice, photo):
    api = client_for(alice)
    single = photo(api, size=(300, 200), alt="A red field")
    three = [photo(api, size=(90 + n, 60)) for n in range(3)]
    one_post = api.post("/api/posts/", {"body": "one photo", "media": [single["id"]]}, format="json").json()
    grid_post = api.post("/api/posts/", {"body": "", "media": [m["id"] for m in three]}, format="json").json()

    client.force_login(alice)
    for path in ("/", f"/p/{one_post['id']}/", f"/p/{grid_post['id']}/", "/u/alice/", "/explore/"):
        html = client.get(path).content.decode()
        assert_every_image_is_sized_and_lazy(html)
        shown = {attrs["src"]: attrs for attrs in gallery_images(html)}
        if path != f"/p/{grid_post['id']}/":
            large = shown[single["url"]]
            expected = (str(single["width"]), str(single["height"]), "A red field")
            assert (large["width"], large["height"], large["alt"]) == expected
        if path != f"/p/{one_post['id']}/":
            for media in three:
                cell = shown[media["thumbnail_url"]]
                assert (cell["width"], cell["height"]) == (THUMBNAIL_SIDE, THUMBNAIL_SIDE), path
                assert media["url"] in html  # the link the lightbox opens
    grid = client.get(f"/p/{grid_post['id']}/").content.decode()
    assert re.search(r'<div class="gallery" data-count="3">', grid)


def test_a_photo_box_has_its_average_colour_before_it_loads(client, client_for, alice, photo):
    api = client_for(alice)
    media = photo(api, size=(64, 64), colour=(200, 40, 90))
    post = api.post("/api/posts/", {"body": "red", "media": [media["id"]]}, format="json").json()
    colour = placeholder_colour(media["blurhash"])
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    assert abs(red - 200) <= 3 and abs(green - 40) <= 3 and abs(blue - 90) <= 3, colour
    client.force_login(alice)
    assert f"--placeholder: {colour};" in client.get(f"/p/{post['id']}/").content.decode()


def test_placeholder_colour_reads_the_dc_digits_of_a_blurhash():
    # "LFM_Ai..." is what blurhash's encoder makes of a plain (200, 40, 90) image.
    assert placeholder_colour("LFM_Ai]VfQ]V||o2fQo2fQfQfQfQ") == "#c8285a"
    assert placeholder_colour("") == placeholder_colour(None) == placeholder_colour("LF") == ""
    assert placeholder_colour("LF<>!!xyz") == ""  # not base 83


def test_the_chat_page_shows_a_messages_photo_until_it_is_recalled(client, client_for, alice, bob, befriend, photo):
    conversation = befriend(alice, bob)
    api = client_for(alice)
    media = photo(api, size=(160, 90), alt="harbour")
    sent = api.post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": "", "media": [media["id"]]}, format="json"
    )
    assert sent.status_code == 201, sent.content

    client.force_login(bob)
    html = client.get(f"/chat/{conversation.pk}/").content.decode()
    assert_every_image_is_sized_and_lazy(html)
    [photo] = gallery_images(html)
    assert (photo["src"], photo["width"], photo["height"], photo["alt"]) == (
        media["url"],
        str(media["width"]),
        str(media["height"]),
        "harbour",
    )
    preview = re.search(r'<span class="preview" dir="auto">(.*?)</span>', html, re.S)
    assert preview[1] == "[Photo]"  # a photo without text, in the chat list

    api.post(f"/api/messages/{sent.json()['id']}/recall/")
    html = client.get(f"/chat/{conversation.pk}/").content.decode()
    assert gallery_images(html) == []
    assert media["url"] not in html
    assert "recalled a message" in html
    assert Message.objects.get().recalled_at is not None


def test_live_pages_hold_the_partials_their_scripts_fill(client, alice, bob, befriend):
    conversation = befriend(alice, bob)
    client.force_login(alice)
    chat = client.get(f"/chat/{conversation.pk}/").content.decode()
    assert re.search(r'<template id="gallery-template"><div class="gallery" data-count="0"><a class="photo"><img', chat)
    for page in (chat, client.get("/").content.decode()):
        # The attach area: hidden until its script shows it, a real file input with its label.
        assert re.search(r'<div class="attach" data-max="9" hidden>', page)
        field = re.search(
            r'<input type="file" id="([\w-]+)" class="attach-input visually-hidden" '
            r'accept="image/\*,video/mp4,video/webm" multiple>',
            page,
        )
        label = f'<label for="{field[1]}" class="button secondary attach-button">Add photos or a video</label>'
        assert field and label in page
        assert re.search(r'<template class="upload-template"><li class="upload">', page)
    assert '<dialog id="lightbox" class="lightbox" aria-label="Photo">' in chat


def test_everyone_has_an_avatar_beside_their_name(client, client_for, alice, bob, befriend, photo):
    conversation = befriend(alice, bob)
    media = photo(client_for(bob), size=(64, 64))
    assert client_for(bob).patch("/api/me/", {"avatar": media["id"]}, format="json").status_code == 200
    bob_avatar = client_for(alice).get("/api/users/bob/").json()["avatar_url"]
    alice_avatar = client_for(bob).get("/api/users/alice/").json()["avatar_url"]
    assert bob_avatar.startswith(f"/media/{Media.objects.get(pk=media['id']).key}/")
    assert alice_avatar != bob_avatar

    post = client_for(bob).post("/api/posts/", {"body": "hello @alice"}, format="json").json()
    client_for(alice).post(f"/api/posts/{post['id']}/like/")
    client_for(alice).post("/api/users/bob/follow/")
    client_for(alice).post(f"/api/conversations/{conversation.pk}/messages/", {"body": "hi"}, format="json")

    def avatars(path: str) -> set[str]:
        html = client.get(path).content.decode()
        assert_every_image_is_sized_and_lazy(html)
        return {attrs["src"] for attrs in images(html) if attrs.get("class") == "avatar"}

    client.force_login(alice)
    for path in ("/", f"/p/{post['id']}/", "/chat/", f"/chat/{conversation.pk}/", "/contacts/", "/u/bob/", "/explore/"):
        assert bob_avatar in avatars(path), path
    client.force_login(bob)
    assert alice_avatar in avatars("/notifications/")
    assert alice_avatar in avatars(f"/chat/{conversation.pk}/")  # her bubble
    assert bob_avatar in avatars("/settings/")


@pytest.mark.django_db(transaction=True)  # the upload is processed when its own transaction commits, as in use
def test_a_new_avatar_from_settings_without_javascript(client, alice):
    client.force_login(alice)
    page = client.get("/settings/").content.decode()
    assert '<form method="post" action="/settings/avatar/" enctype="multipart/form-data">' in page
    default = [a["src"] for a in images(page) if a.get("class") == "avatar"]

    # A photo from a phone is megabytes: the form takes what the upload API takes, not a form's few KB.
    camera = io.BytesIO()
    Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3)).save(camera, "PNG")
    assert len(camera.getvalue()) > 1024 * 1024
    photo = SimpleUploadedFile("camera.png", camera.getvalue(), "image/png")
    done = client.post("/settings/avatar/", {"photo": photo}, follow=True)
    assert done.redirect_chain[-1][0] == "/settings/#avatar"
    html = done.content.decode()
    assert "Profile photo updated." in html
    alice.refresh_from_db()
    assert alice.avatar is not None and alice.avatar.attached_kind == "avatar"
    shown = {a["src"] for a in images(html) if a.get("class") == "avatar"}
    assert f"/media/{alice.avatar.key}/thumbnail" in shown and default[0] not in shown

    # Not an image: the upload service's reason (for an upload meant to be an image), and the avatar stays.
    refused = client.post("/settings/avatar/", {"photo": svg_named_png()}, follow=True).content.decode()
    api_reason = client.post("/api/media/", {"file": svg_named_png(), "kind": "image"}).json()["detail"]
    assert api_reason and escape(api_reason) in refused
    assert "Profile photo updated." not in refused
    kept = alice.avatar_id
    alice.refresh_from_db()
    assert alice.avatar_id == kept

    assert "Pick a photo to upload." in client.post("/settings/avatar/", {}, follow=True).content.decode()

    removed = client.post("/settings/avatar/", {"remove": "1"}, follow=True).content.decode()
    assert "Profile photo removed." in removed
    alice.refresh_from_db()
    assert alice.avatar is None
    assert Media.objects.get(pk=kept).detached_at is not None

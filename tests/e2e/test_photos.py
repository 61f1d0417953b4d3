"""Photos in Chromium against a live daphne: attaching them to a post and a chat message, the grid,
the lightbox, live delivery, recall, refusals, and what the page shows while uploads are under way."""

import io
import os
import random
import re

import blurhash
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from media.templatetags.media_tags import placeholder_colour
from tests.live import log_in, own_daphne, rest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
COLOURS = [(200, 40, 90), (30, 140, 200), (250, 190, 40), (20, 160, 90)]


def png(tmp_path, name: str, size=(240, 160), colour=(200, 40, 90), noise: bool = False):
    """A PNG written to tmp_path; `noise` makes it large (random pixels do not compress)."""
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)) if noise else Image.new("RGB", size, colour)
    path = tmp_path / name
    image.save(path, "PNG")
    return path


def loaded(image) -> bool:
    """Whether an <img> has loaded (and decoded) its picture."""
    return image.evaluate("img => img.decode().then(() => img.naturalWidth > 0, () => false)")


def slow_uploads(page, bytes_per_second: int) -> None:
    """Chromium sends request bodies at most this fast (DevTools' network throttling)."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )


def fetch_status(page, url: str) -> int:
    """What the page's own session gets for `url`."""
    return page.evaluate("url => fetch(url, {cache: 'no-store'}).then(answer => answer.status)", url)


def script_errors(page) -> list[str]:
    """What the page's scripts throw from now on, uncaught."""
    errors = []
    page.on("pageerror", lambda error, *_: errors.append(str(error)))
    return errors


def test_three_photos_on_a_post_and_the_lightbox(new_page, alice, tmp_path):
    page = log_in(new_page(), alice)
    errors = script_errors(page)
    files = [png(tmp_path, f"photo{n}.png", size=(240 + 40 * n, 160), colour=COLOURS[n]) for n in range(3)]
    page.get_by_label("Add photos").set_input_files(files)
    for n in range(3):
        page.get_by_label(f"Describe photo {n + 1} (alt text)").fill(f"alt text {n + 1}")
    expect(page.locator(".upload.ready")).to_have_count(3)
    page.get_by_label("What's happening?").fill("three photos")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Posted.")).to_be_visible()

    post = page.locator("article.post").filter(has_text="three photos")
    cells = post.locator(".gallery a.photo")
    images = post.locator(".gallery img")
    expect(images).to_have_count(3)
    for n in range(3):
        image = images.nth(n)
        assert (image.get_attribute("width"), image.get_attribute("height")) == ("400", "400")
        assert image.get_attribute("loading") == "lazy"
        assert image.get_attribute("alt") == f"alt text {n + 1}"
        assert loaded(image)
    # Three across, square.
    boxes = [images.nth(n).bounding_box() for n in range(3)]
    assert len({round(box["y"]) for box in boxes}) == 1
    assert all(abs(box["width"] - box["height"]) < 1 for box in boxes)

    cells.first.click()
    viewer = page.get_by_role("dialog", name="Photo")
    caption = viewer.locator(".lightbox-caption")
    expect(viewer).to_be_visible()
    expect(caption).to_have_text("alt text 1")
    shown = viewer.locator(".lightbox-image")
    expect(shown).to_have_attribute("alt", "alt text 1")
    assert loaded(shown)
    assert shown.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [240, 160]
    assert (shown.get_attribute("width"), shown.get_attribute("height")) == ("240", "160")
    page.keyboard.press("ArrowRight")
    expect(caption).to_have_text("alt text 2")
    page.keyboard.press("ArrowRight")
    expect(caption).to_have_text("alt text 3")
    expect(viewer.locator(".lightbox-count")).to_have_text("3 / 3")
    page.keyboard.press("ArrowRight")  # the last: it stays
    expect(caption).to_have_text("alt text 3")
    page.keyboard.press("ArrowLeft")
    expect(caption).to_have_text("alt text 2")
    viewer.get_by_role("button", name="Previous photo").click()
    expect(caption).to_have_text("alt text 1")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    assert cells.first.evaluate("link => link === document.activeElement")

    # From the keyboard alone: the second photo, Enter, Escape, and focus is back on it.
    cells.nth(1).focus()
    page.keyboard.press("Enter")
    expect(caption).to_have_text("alt text 2")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    assert cells.nth(1).evaluate("link => link === document.activeElement")
    assert errors == []


def test_a_reply_with_a_photo(new_page, alice, bob, tmp_path):
    from microblog.services import post_create

    post = post_create(author=alice, body="show me yours")
    page = log_in(new_page(), bob)
    errors = script_errors(page)
    page.goto(f"/p/{post.pk}/")
    page.get_by_label("Add photos").set_input_files(png(tmp_path, "mine.png", size=(200, 300)))
    expect(page.locator(".upload.ready")).to_have_count(1)
    page.get_by_role("button", name="Reply").click()  # no text: a photo alone is a reply
    expect(page.get_by_text("Replied.")).to_be_visible()
    reply = page.locator("article.post").filter(has=page.locator(".gallery"))
    image = reply.locator(".gallery img")
    expect(image).to_have_count(1)
    assert (image.get_attribute("width"), image.get_attribute("height")) == ("200", "300")
    assert loaded(image)
    assert errors == []


def test_sending_waits_for_the_uploads_and_says_so(new_page, alice, tmp_path):
    page = log_in(new_page(), alice)
    slow_uploads(page, 150_000)
    page.get_by_label("Add photos").set_input_files(png(tmp_path, "big.png", size=(360, 360), noise=True))
    progress = page.locator(".upload .upload-progress")
    expect(progress).to_be_visible()
    page.wait_for_function("() => document.querySelector('.upload-progress').value > 0")
    page.get_by_label("What's happening?").fill("worth the wait")
    button = page.get_by_role("button", name=re.compile("^(Post|Waiting for photos…)$"))
    button.click()
    expect(button).to_have_text("Waiting for photos…")
    expect(page.get_by_text("Posted.")).to_be_visible(timeout=20_000)
    post = page.locator("article.post").filter(has_text="worth the wait")
    expect(post.locator(".gallery img")).to_have_count(1)
    assert loaded(post.locator(".gallery img"))


def test_a_refused_upload_says_why(new_page, alice, client_for, tmp_path):
    refused = client_for(alice).post("/api/media/", {"file": SimpleUploadedFile("x.png", SVG)}, format="multipart")
    reason = refused.json()["detail"]
    assert reason
    page = log_in(new_page(), alice)
    fake = tmp_path / "drawing.png"
    fake.write_bytes(SVG)
    page.get_by_label("Add photos").set_input_files(fake)
    error = page.locator(".upload .upload-error")
    expect(error).to_have_text(reason)
    expect(error).to_have_attribute("aria-live", "assertive")
    danger = page.evaluate(
        """() => {
          const probe = document.createElement("span");
          probe.style.color = "var(--danger)";
          document.body.append(probe);
          return getComputedStyle(probe).color;
        }"""
    )
    assert error.evaluate("element => getComputedStyle(element).color") == danger

    page.get_by_label("What's happening?").fill("not sent")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.locator(".attach-status")).to_have_text("A photo could not be uploaded: remove it, or pick another.")
    expect(page.locator("article.post").filter(has_text="not sent")).to_have_count(0)

    page.get_by_role("button", name="Remove photo 1").click()
    expect(page.locator(".upload")).to_have_count(0)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Posted.")).to_be_visible()


def test_at_most_nine_photos(new_page, alice, tmp_path):
    page = log_in(new_page(), alice)
    files = [png(tmp_path, f"p{n}.png", size=(40 + n, 40)) for n in range(10)]
    page.get_by_label("Add photos").set_input_files(files)
    expect(page.locator(".upload")).to_have_count(9)
    expect(page.locator(".attach-status")).to_have_text("At most 9 photos: 1 was left out.")
    expect(page.locator(".upload.ready")).to_have_count(9)
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Posted.")).to_be_visible()
    grid = page.locator("article.post .gallery").first
    expect(grid.locator("img")).to_have_count(9)
    tops = grid.evaluate("gallery => [...gallery.querySelectorAll('img')].map(img => img.getBoundingClientRect().top)")
    assert len({round(top) for top in tops}) == 3  # three by three


def test_a_photo_in_a_chat_arrives_live_and_goes_when_recalled(new_page, alice, bob, befriend, tmp_path):
    conversation = befriend(alice, bob)
    alice_page, bob_page = log_in(new_page(), alice), log_in(new_page(), bob)
    alice_page.goto(f"/chat/{conversation.pk}/")
    bob_page.goto(f"/chat/{conversation.pk}/")
    slow_uploads(alice_page, 150_000)

    alice_page.get_by_label("Add photos").set_input_files(png(tmp_path, "harbour.png", size=(320, 320), noise=True))
    alice_page.get_by_label("Describe photo 1 (alt text)").fill("the harbour")
    alice_page.get_by_role("button", name="Send").click()
    # The echo at once: the picked file itself, with its upload's progress; the composer is free again.
    mine = alice_page.locator(".msg.mine").last
    expect(mine).to_have_class(re.compile("pending"))
    expect(mine.locator(".gallery img")).to_have_attribute("src", re.compile("^blob:"))
    expect(mine.locator(".gallery progress")).to_be_visible()
    expect(alice_page.locator("#composer .upload")).to_have_count(0)

    theirs = bob_page.locator(".msg", has=bob_page.locator(".gallery"))
    expect(theirs).to_have_count(1, timeout=20_000)
    photo = theirs.locator(".gallery img")
    expect(photo).to_have_attribute("src", re.compile(r"^/media/[\w-]+/display$"))
    expect(photo).to_have_attribute("alt", "the harbour")
    assert (photo.get_attribute("width"), photo.get_attribute("height")) == ("320", "320")
    assert loaded(photo)
    expect(bob_page.locator("#conversation-list .preview")).to_have_text("[Photo]")
    url = photo.get_attribute("src")
    expect(mine).not_to_have_class(re.compile("pending"))
    expect(mine.locator(".gallery img")).to_have_attribute("src", url)
    assert fetch_status(alice_page, url) == fetch_status(bob_page, url) == 200

    message_id = mine.get_attribute("data-id")
    recalled = alice_page.evaluate(
        """id => fetch(`/api/messages/${id}/recall/`, {
          method: "POST",
          headers: {"X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value},
        }).then(answer => answer.status)""",
        message_id,
    )
    assert recalled == 200
    for page in (alice_page, bob_page):
        bubble = page.locator(f'.msg[data-id="{message_id}"]')
        expect(bubble.locator(".body")).to_have_text(re.compile("recalled a message$"))
        expect(bubble.locator(".gallery")).to_have_count(0)
        assert fetch_status(page, url) == 404


def test_photos_dropped_or_pasted_into_the_chat_composer(new_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    page = log_in(new_page(), alice)
    page.goto(f"/chat/{conversation.pk}/")
    buffer = io.BytesIO()
    Image.new("RGB", (50, 40), (20, 160, 90)).save(buffer, "PNG")
    page.evaluate(
        """bytes => {
          const files = () => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "dropped.png", {type: "image/png"}));
            return transfer;
          };
          const composer = document.getElementById("composer");
          composer.dispatchEvent(new DragEvent("drop", {dataTransfer: files(), bubbles: true, cancelable: true}));
          document.getElementById("body").dispatchEvent(
            new ClipboardEvent("paste", {clipboardData: files(), bubbles: true, cancelable: true}));
        }""",
        list(buffer.getvalue()),
    )
    expect(page.locator("#composer .upload.ready")).to_have_count(2)
    page.get_by_role("button", name="Send").click()  # no text: photos alone are a message
    sent = page.locator(".msg.mine").last
    expect(sent).not_to_have_class(re.compile("pending"))
    expect(sent.locator(".gallery img")).to_have_count(2)
    expect(sent.locator(".gallery img").first).to_have_attribute("src", re.compile(r"^/media/[\w-]+/thumbnail$"))


def test_the_page_asks_until_a_photo_is_processed(browser, alice, tmp_path):
    """With processing in a thread (as `make run` does), the upload answers "processing" and the page
    asks again until the photo is ready, then sends."""
    with own_daphne(MEDIA_PROCESSING="thread") as server:
        context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
        context.set_default_timeout(15_000)
        try:
            page = log_in(context.new_page(), alice)
            asked = []
            page.on("request", lambda request: asked.append(request.url) if "/api/media/" in request.url else None)
            page.get_by_label("Add photos").set_input_files(png(tmp_path, "big.png", size=(1600, 1200), noise=True))
            expect(page.locator(".upload.ready")).to_have_count(1)
            page.get_by_label("What's happening?").fill("processed in the background")
            page.get_by_role("button", name="Post", exact=True).click()
            expect(page.get_by_text("Posted.")).to_be_visible()
            post = page.locator("article.post").filter(has_text="processed in the background")
            assert loaded(post.locator(".gallery img"))
        finally:
            context.close()
    polls = [url for url in asked if re.search(r"/api/media/\d+/$", url)]
    assert polls, asked


def test_the_placeholder_colour_is_read_alike_in_python_and_in_the_page(new_page, alice):
    rng = random.Random(7)
    hashes = []
    for _ in range(12):
        colour = tuple(rng.randrange(256) for _ in range(3))
        pixels = [[list(colour) for _ in range(8)] for _ in range(6)]
        hashes.append(blurhash.encode(pixels, rng.randint(1, 9), rng.randint(1, 9)))
    hashes += ["", "L", "LF<>", "LFM_Ai]VfQ]V"]
    page = log_in(new_page(), alice)
    in_page = page.evaluate(
        """async hashes => {
          const { placeholderColour } = await import("/static/js/photos.js");
          return hashes.map((value) => placeholderColour(value));
        }""",
        hashes,
    )
    assert in_page == [placeholder_colour(value) for value in hashes]
    assert len(set(in_page)) > 10


LAYOUT = """() => [...document.querySelectorAll("article.post, .msg, img")].map(element => {
  const box = element.getBoundingClientRect();
  return [element.tagName, Math.round(box.top), Math.round(box.left), Math.round(box.width), Math.round(box.height)];
})"""


def test_nothing_moves_while_photos_and_avatars_load(new_page, alice, bob, befriend, client_for):
    """Every image's box is sized before its bytes come: the page's layout with every image held
    back is the layout once they have all loaded."""
    conversation = befriend(alice, bob)
    api = client_for(alice)

    def photo(size, colour) -> int:
        buffer = io.BytesIO()
        Image.new("RGB", size, colour).save(buffer, "PNG")
        answer = api.post("/api/media/", {"file": SimpleUploadedFile("p.png", buffer.getvalue())}, format="multipart")
        assert answer.json()["status"] == "ready", answer.json()
        return answer.json()["id"]

    api.patch("/api/me/", {"avatar": photo((64, 64), (20, 160, 90))}, format="json")
    api.post("/api/posts/", {"body": "one tall photo", "media": [photo((300, 900), COLOURS[0])]}, format="json")
    api.post("/api/posts/", {"body": "three", "media": [photo((200, 100), c) for c in COLOURS[:3]]}, format="json")
    api.post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "", "media": [photo((500, 200), COLOURS[3])]},
        format="json",
    )
    page = log_in(new_page(), alice)
    page.set_viewport_size({"width": 390, "height": 3000})  # every image in view: none waits on lazy loading
    held = []
    page.route(re.compile(r"/(media|avatars)/"), lambda route, *_: held.append(route))
    for path, images in (("/", 1 + 1 + 3), (f"/chat/{conversation.pk}/", 1)):
        held.clear()
        page.goto(path, wait_until="domcontentloaded")
        page.wait_for_timeout(500)  # the scripts have run, the held requests are made
        assert len(held) >= images, path
        before = page.evaluate(LAYOUT)
        for _ in range(100):  # let every request go, those made meanwhile too, until every image is in
            while held:
                held.pop().continue_()
            if page.evaluate("() => [...document.images].filter(img => img.src).every(img => img.complete)"):
                break
            page.wait_for_timeout(100)
        assert page.evaluate(LAYOUT) == before, path


def test_a_live_photo_message_has_the_same_markup_as_a_server_rendered_one(
    new_page, daphne_server, alice, bob, befriend, client_for
):
    from microblog.services import post_create

    from .test_meet_live import SOCKET_READY
    from .test_one_source import shapes

    conversation = befriend(alice, bob)
    api = client_for(alice)

    def photo(colour, alt="") -> int:
        buffer = io.BytesIO()
        Image.new("RGB", (120, 90), colour).save(buffer, "PNG")
        body = {"file": SimpleUploadedFile("p.png", buffer.getvalue()), "alt": alt}
        return api.post("/api/media/", body, format="multipart").json()["id"]

    shared = post_create(author=alice, body="with a photo", media=[photo(COLOURS[3], "a card's photo")])
    page = log_in(new_page(), bob)
    page.goto(f"/chat/{conversation.pk}/")
    page.evaluate(SOCKET_READY)
    page.evaluate("window.sameDocument = true")
    messages = f"/api/conversations/{conversation.pk}/messages/"
    rest(daphne_server, alice, "POST", messages, {"body": "", "media": [photo(COLOURS[0], "one")]}).json()
    three = [photo(colour) for colour in COLOURS[:3]]
    rest(daphne_server, alice, "POST", messages, {"body": "three", "media": three}).json()
    rest(daphne_server, alice, "POST", messages, {"body": "look", "shared_post": shared.pk}).json()
    items = page.locator("#messages .msg[data-id]")
    expect(items).to_have_count(3)
    expect(items.nth(2).locator(".card-image")).to_have_attribute("alt", "a card's photo")
    assert page.evaluate("window.sameDocument") is True
    live = shapes(page, "#messages .msg[data-id]")

    page.reload()
    expect(items).to_have_count(3)
    assert shapes(page, "#messages .msg[data-id]") == live
    assert page.locator("#messages .gallery img").count() == 4

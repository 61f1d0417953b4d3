"""Voice messages and videos in Chromium against a live daphne, with a fake microphone and camera
(`--use-fake-device-for-media-stream`: a beeping tone; `--use-fake-ui-for-media-stream`: the
permission prompt answered yes): recording, live delivery, playing and the played dot; a video's
poster, length, player and seeking; the chat list's "[Voice]" and "[Video]"."""

import re
import time

import pytest
from playwright.sync_api import expect

from chat.models import VoicePlay
from tests.conftest import chromium
from tests.live import log_in
from tests.media.av_files import make_video

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FAKE_MEDIA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")
# Six seconds, so there is somewhere to seek to; VP9 in WebM, which every Chromium build plays.
VIDEO_SECONDS = 6


@pytest.fixture(scope="module")
def media_browser():
    """A Chromium of its own with the fake microphone and camera (the session's has none)."""
    yield from chromium(FAKE_MEDIA)


@pytest.fixture
def media_page(media_browser, daphne_server):
    """As `new_page`, in the browser with a (fake) microphone."""
    contexts = []

    def open_page():
        context = media_browser.new_context(base_url=daphne_server.url, viewport={"width": 390, "height": 844})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def script_errors(page) -> list[str]:
    errors = []
    page.on("pageerror", lambda error, *_: errors.append(str(error)))
    return errors


def hold(page, button, seconds: float) -> None:
    """Presses `button` with the mouse for `seconds`, then lets go (hold to talk)."""
    box = button.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(page.locator("#voice-status")).to_contain_text("Recording")
    page.wait_for_timeout(seconds * 1000)
    page.mouse.up()


def test_a_voice_message_is_recorded_received_live_played_and_stays_played(media_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page, bob_page = log_in(media_page(), alice), log_in(media_page(), bob)
    errors = script_errors(alice_page) + script_errors(bob_page)
    alice_page.goto(f"/chat/{conversation.pk}/")
    bob_page.goto(f"/chat/{conversation.pk}/")
    microphone = alice_page.get_by_role("button", name="Record a voice message")
    expect(microphone).to_be_visible()

    # Hold to talk, three seconds: the running time shows, letting go sends.
    hold(alice_page, microphone, 3.2)
    mine = alice_page.locator(".msg.mine", has=alice_page.locator(".voice"))
    expect(mine).to_have_count(1)
    expect(mine).not_to_have_class(re.compile("pending"), timeout=20_000)
    expect(mine.locator(".voice")).not_to_have_class(re.compile("unplayed"))  # never a dot on one's own
    # Click to start, click again to send: a second, shorter one.
    microphone.click()
    expect(alice_page.locator("#voice-status")).to_contain_text("click the microphone again to send")
    alice_page.wait_for_timeout(1500)
    microphone.click()
    expect(mine).to_have_count(2)
    expect(mine.nth(1)).not_to_have_class(re.compile("pending"), timeout=20_000)

    theirs = bob_page.locator(".msg:not(.mine) .voice")
    expect(theirs).to_have_count(2, timeout=30_000)
    first, second = theirs.nth(0), theirs.nth(1)
    expect(first).to_have_class(re.compile("unplayed"))
    expect(second).to_have_class(re.compile("unplayed"))
    expect(first.locator(".voice-bar")).to_have_count(48)
    expect(first.locator(".voice-duration")).to_have_text(re.compile(r"^[34]″$"))
    expect(bob_page.locator("#conversation-list .preview")).to_have_text("[Voice]")
    heights = first.evaluate("v => [...v.querySelectorAll('.voice-bar')].map(bar => bar.offsetHeight)")
    assert len(set(heights)) > 1  # the waveform has a shape, drawn from the stored peaks

    # A tap plays it with a sweep across the bars; the dot goes, and the next unplayed one follows.
    # What the bubbles went through is recorded as it happens (the machine may be slower than the clip).
    bob_page.evaluate(
        """() => {
          window.voiceLog = [];
          const voices = [...document.querySelectorAll(".msg:not(.mine) .voice")];
          const watch = new MutationObserver(() => voices.forEach((voice, index) => {
            if (voice.classList.contains("playing")) window.voiceLog.push(`playing ${index}`);
            if (voice.querySelector(".voice-bar.swept")) window.voiceLog.push(`swept ${index}`);
          }));
          voices.forEach(voice => watch.observe(voice, {subtree: true, attributes: true}));
        }"""
    )
    with bob_page.expect_response(lambda answer: answer.url.endswith("/played/")) as played:
        first.locator(".voice-play").click()
    assert played.value.status == 200
    expect(first).not_to_have_class(re.compile("unplayed"))
    expect(second).to_have_class(re.compile("playing"), timeout=30_000)
    expect(second).not_to_have_class(re.compile("unplayed"))
    log = bob_page.evaluate("() => window.voiceLog")
    assert {"playing 0", "swept 0", "playing 1"} <= set(log)
    assert log.index("playing 0") < log.index("swept 0") < log.index("playing 1")
    # The second's POST runs beside its playing: the server has it within a moment.
    deadline = time.monotonic() + 15
    while VoicePlay.objects.filter(user=bob).count() < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert VoicePlay.objects.filter(user=bob).count() == 2

    bob_page.reload()
    expect(bob_page.locator(".msg:not(.mine) .voice")).to_have_count(2)
    expect(bob_page.locator(".voice.unplayed")).to_have_count(0)

    # Recalled: the bubble becomes the recalled line, live, and its clip is served to no one.
    clip = bob_page.locator(".msg:not(.mine) .voice").last.get_attribute("data-src")
    recalled = alice_page.evaluate(
        """id => fetch(`/api/messages/${id}/recall/`, {
          method: "POST",
          headers: {"X-CSRFToken": document.querySelector("[name=csrfmiddlewaretoken]").value},
        }).then(answer => answer.status)""",
        mine.last.get_attribute("data-id"),
    )
    assert recalled == 200
    gone = bob_page.locator(".msg.recalled")
    expect(gone).to_have_count(1)
    expect(gone.locator(".body")).to_have_text(re.compile(r"^\s*(Alice|alice) recalled a message\s*$"))
    expect(gone.locator(".voice")).to_have_count(0)
    assert bob_page.evaluate("url => fetch(url).then(answer => answer.status)", clip) == 404
    assert errors == []


def test_escape_cancels_a_recording_and_the_keyboard_records_too(media_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    page = log_in(media_page(), alice)
    page.goto(f"/chat/{conversation.pk}/")
    microphone = page.get_by_role("button", name="Record a voice message")
    microphone.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#voice-status")).to_contain_text("Recording")
    expect(microphone).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Escape")
    expect(page.locator("#voice-status")).to_have_text("Recording cancelled.")
    expect(microphone).to_have_attribute("aria-pressed", "false")
    # Slid away while holding: letting go cancels too.
    box = microphone.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    expect(page.locator("#voice-status")).to_contain_text("Recording")
    page.wait_for_timeout(800)
    page.mouse.move(box["x"] - 200, box["y"] - 200, steps=5)
    expect(page.locator("#voice-status")).to_contain_text("let go to cancel")
    page.mouse.up()
    expect(page.locator("#voice-status")).to_have_text("Recording cancelled.")
    # Enter, then Enter again, sends.
    microphone.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#voice-status")).to_contain_text("Recording")
    page.wait_for_timeout(1200)
    page.keyboard.press("Enter")
    expect(page.locator(".msg.mine .voice")).to_have_count(1)
    expect(page.locator(".msg.mine")).not_to_have_class(re.compile("pending"), timeout=20_000)


def test_without_a_microphone_the_page_says_why(new_page, alice, bob, befriend):
    """The session's Chromium has no fake device, and Playwright grants no permission: refused."""
    conversation = befriend(alice, bob)
    page = log_in(new_page(), alice)
    page.goto(f"/chat/{conversation.pk}/")
    page.get_by_role("button", name="Record a voice message").click()
    expect(page.locator("#voice-status")).to_have_text(re.compile(r"Microphone access was refused|No microphone"))
    expect(page.locator(".msg.mine")).to_have_count(0)


def video_file(tmp_path):
    path = tmp_path / "clip.webm"
    path.write_bytes(make_video("webm", "libvpx-vp9", VIDEO_SECONDS, size=(160, 120)))
    return path


def post_a_video(page, tmp_path):
    page.get_by_label("Add photos or a video").set_input_files(video_file(tmp_path))
    expect(page.locator(".upload.ready")).to_have_count(1, timeout=20_000)
    page.get_by_label("What's happening?").fill("a short video")
    page.get_by_role("button", name="Post", exact=True).click()
    expect(page.get_by_text("Posted.")).to_be_visible()
    return page.locator("article.post").filter(has_text="a short video")


def test_a_video_posted_shows_its_poster_and_length_and_plays_and_seeks(media_page, alice, tmp_path):
    page = log_in(media_page(), alice)
    errors = script_errors(page)
    post = post_a_video(page, tmp_path)
    cell = post.locator(".gallery a.video")
    expect(cell).to_have_count(1)
    poster = cell.locator("img")
    expect(poster).to_have_attribute("src", re.compile(r"^/media/[\w-]+/poster$"))
    assert poster.evaluate("img => img.decode().then(() => img.naturalWidth > 0, () => false)")
    expect(cell.locator(".video-duration")).to_have_text(f"0:{VIDEO_SECONDS:02d}")
    expect(cell).to_have_attribute("aria-label", f"Play video, 0:{VIDEO_SECONDS:02d}")

    cell.click()
    player = page.locator("#lightbox video")
    expect(player).to_be_visible()
    assert player.get_attribute("preload") == "metadata"
    assert player.get_attribute("controls") is not None and player.get_attribute("autoplay") is None
    expect(player).to_have_attribute("poster", re.compile(r"/media/[\w-]+/poster$"))
    assert player.evaluate("v => v.paused")  # nothing plays by itself
    player.evaluate("v => v.play()")
    # It plays: currentTime moves. (Seeking into the middle needs the server's 206: the next test.)
    page.wait_for_function("() => document.querySelector('#lightbox video').currentTime > 0.3")
    page.keyboard.press("Escape")
    expect(page.locator("#lightbox")).not_to_be_visible()
    # The dialog's `close` event (which stops the video and lets go of it) is a task queued after the
    # dialog hides, so under load it can come after the check above: wait for it.
    page.wait_for_function(
        "() => { const v = document.querySelector('#lightbox video'); return v.paused && !v.getAttribute('src'); }"
    )
    assert errors == []


def test_a_video_seeks_through_ranges(media_page, alice, tmp_path):
    """Without 206 answers Chromium cannot seek into a file served whole: it starts again from 0."""
    page = log_in(media_page(), alice)
    post = post_a_video(page, tmp_path)
    statuses = []
    page.on("response", lambda answer: statuses.append(answer.status) if "/display" in answer.url else None)
    post.locator(".gallery a.video").click()
    player = page.locator("#lightbox video")
    player.evaluate("v => v.play()")
    page.wait_for_function("() => document.querySelector('#lightbox video').currentTime > 0.3")
    landed = player.evaluate(
        """v => new Promise(done => {
          v.addEventListener("seeked", () => done(v.currentTime), {once: true});
          v.currentTime = 4;
        })"""
    )
    assert 3.9 <= landed <= VIDEO_SECONDS
    assert 206 in statuses


def test_a_video_in_a_chat_arrives_live_with_its_poster_and_the_list_says_video(
    media_page, alice, bob, befriend, tmp_path
):
    conversation = befriend(alice, bob)
    alice_page, bob_page = log_in(media_page(), alice), log_in(media_page(), bob)
    alice_page.goto(f"/chat/{conversation.pk}/")
    bob_page.goto(f"/chat/{conversation.pk}/")
    alice_page.get_by_label("Add photos or a video").set_input_files(video_file(tmp_path))
    alice_page.get_by_role("button", name="Send").click()
    theirs = bob_page.locator(".msg:not(.mine) .gallery a.video")
    expect(theirs).to_have_count(1, timeout=20_000)
    expect(theirs.locator("img")).to_have_attribute("src", re.compile(r"^/media/[\w-]+/poster$"))
    expect(theirs.locator(".video-duration")).to_have_text(f"0:{VIDEO_SECONDS:02d}")
    expect(bob_page.locator("#conversation-list .preview")).to_have_text("[Video]")
    bob_page.reload()
    expect(bob_page.locator("#conversation-list .preview")).to_have_text("[Video]")
    expect(bob_page.locator(".msg:not(.mine) .gallery a.video .video-duration")).to_have_text(f"0:{VIDEO_SECONDS:02d}")

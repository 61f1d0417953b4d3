"""Voice and video calls in Chromium, with a fake camera and microphone: two people, two browser
contexts, WebRTC between them, the signalling over the live daphne's socket."""

import re

import pytest
from playwright.sync_api import expect

from chat.models import Call
from tests.chat.test_calls import ANSWER, NOISE, _calls_end_before_teardown, invite  # noqa: F401 (a fixture)
from tests.conftest import chromium
from tests.live import Socket, log_in, own_daphne

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FAKE_MEDIA = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
# A page's call once connected (window.tandemCall, static/js/calls.js).
CONNECTED = "() => window.tandemCall()?.pc?.connectionState === 'connected'"
CONNECTED_NOW = "window.tandemCall().pc.connectionState === 'connected'"
INBOUND_BYTES = """async () => {
  const stats = await window.tandemCall().pc.getStats();
  const bytes = {};
  stats.forEach((report) => { if (report.type === "inbound-rtp") bytes[report.kind] = report.bytesReceived; });
  return bytes;
}"""


@pytest.fixture(scope="module")
def media_browser():
    """Chromium with a fake camera and microphone, permission granted without asking."""
    yield from chromium(FAKE_MEDIA)


@pytest.fixture
def open_page(media_browser, daphne_server):
    """open_page(user, path, server=the live daphne, context=a new one): a page signed in as `user` (a
    new context: one person each; pass one to open another tab of the same person)."""
    contexts = []

    def open_one(user, path, server=daphne_server, context=None, refuse_media=False, slow_connect=0):
        if context is None:
            context = media_browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
            context.set_default_timeout(15_000)
            contexts.append(context)
            page = context.new_page()
            if refuse_media:
                page.add_init_script(
                    "navigator.mediaDevices.getUserMedia = () => "
                    "Promise.reject(new DOMException('refused', 'NotAllowedError'));"
                )
            if slow_connect:
                # The page's socket opens `slow_connect` seconds late (a slow network, a worker
                # restarting): until then it reads CONNECTING and its "open" listeners wait.
                page.add_init_script(
                    "(() => { const Real = window.WebSocket; window.WebSocket = class extends Real {"
                    " constructor(url, protocols) {"
                    f" super(url, protocols); this.late = Date.now() + {slow_connect * 1000}; }}"
                    " get readyState() { return Date.now() < this.late ? Real.CONNECTING : super.readyState; }"
                    " addEventListener(type, listener, options) {"
                    " super.addEventListener(type, type !== 'open' ? listener"
                    " : (event) => setTimeout(() => listener(event), this.late - Date.now()), options); } }; })();"
                )
            log_in(page, user)
        else:
            page = context.new_page()
        page.goto(path)
        page.wait_for_load_state("load")
        return page

    yield open_one
    for context in contexts:
        context.close()


def incoming(page):
    return page.locator("#call-incoming")


def test_a_video_call_connects_carries_media_and_ends_on_both_sides(open_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page = open_page(alice, f"/chat/{conversation.pk}/")
    bob_page = open_page(bob, f"/chat/{conversation.pk}/")

    alice_page.get_by_role("button", name="Video call Bob").click()
    expect(incoming(bob_page)).to_be_visible()
    expect(incoming(bob_page)).to_contain_text("Alice is calling")
    # The panel takes the keyboard's focus: Enter on it answers.
    expect(bob_page.get_by_role("button", name="Accept with video")).to_be_focused()
    bob_page.keyboard.press("Enter")

    for page in (alice_page, bob_page):
        page.wait_for_function(CONNECTED, timeout=20_000)
    before = bob_page.evaluate(INBOUND_BYTES)
    bob_page.wait_for_timeout(1500)
    after = bob_page.evaluate(INBOUND_BYTES)
    assert after["audio"] > before.get("audio", 0) and after["video"] > before.get("video", 0), (before, after)
    expect(bob_page.locator("[data-call-timer]")).not_to_have_text("0:00", timeout=5000)

    # On a phone-width screen the other person's video fills it.
    box = bob_page.locator("#call-remote-video").bounding_box()
    assert (box["width"], box["height"]) == (390, 844)

    bob_page.get_by_role("button", name="Mute").click()
    expect(bob_page.get_by_role("button", name="Unmute")).to_have_attribute("aria-pressed", "true")
    assert bob_page.evaluate("window.tandemCall().stream.getAudioTracks()[0].enabled") is False

    bob_page.get_by_role("button", name="Camera off").click()
    expect(bob_page.get_by_role("button", name="Camera on")).to_have_attribute("aria-pressed", "true")
    assert bob_page.evaluate("window.tandemCall().stream.getVideoTracks()[0].enabled") is False
    bob_page.get_by_role("button", name="Switch to voice").click()
    expect(bob_page.locator("[data-call-state]")).to_have_text("Voice only")
    expect(bob_page.get_by_role("button", name="Switch to voice")).to_be_disabled()
    assert bob_page.evaluate("window.tandemCall().stream.getVideoTracks()[0].readyState") == "ended"
    bob_page.wait_for_timeout(500)
    assert alice_page.evaluate(CONNECTED_NOW), "the call goes on, voice only"

    alice_page.get_by_role("button", name="Hang up").click()
    expect(bob_page.locator("#call-view")).to_be_hidden()
    expect(bob_page.locator("#call-notice")).to_have_text("Call ended.")
    assert bob_page.evaluate("window.tandemCall().pc.connectionState") == "closed"
    for page in (alice_page, bob_page):
        expect(page.locator("#messages")).to_contain_text(re.compile(r"Video call · 0:\d\d"))


def test_every_tab_rings_and_the_first_to_answer_takes_the_call(open_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page = open_page(alice, f"/chat/{conversation.pk}/")
    bob_chat = open_page(bob, f"/chat/{conversation.pk}/")
    bob_home = open_page(bob, "/", context=bob_chat.context)  # any page of the site rings

    alice_page.get_by_role("button", name="Voice call Bob").click()
    for tab in (bob_chat, bob_home):
        expect(incoming(tab)).to_be_visible()
        expect(incoming(tab)).to_contain_text("Voice call")
    expect(bob_home.get_by_role("button", name="Accept with video")).to_be_hidden()
    bob_home.get_by_role("button", name="Accept with voice").click()
    expect(incoming(bob_chat)).to_be_hidden()
    expect(bob_chat.locator("#call-notice")).to_have_text("Answered on another device.")
    bob_home.wait_for_function(CONNECTED, timeout=20_000)
    alice_page.wait_for_function(CONNECTED, timeout=20_000)
    bob_home.get_by_role("button", name="Hang up").click()
    expect(alice_page.locator("#call-notice")).to_have_text("Call ended.")
    expect(alice_page.locator("#messages")).to_contain_text(re.compile(r"Voice call · 0:\d\d"))


def test_a_call_started_before_the_socket_connects_waits_for_it(open_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    bob_page = open_page(bob, "/chat/")
    alice_page = open_page(alice, f"/chat/{conversation.pk}/", slow_connect=2)
    alice_page.get_by_role("button", name="Voice call Bob").click()
    expect(incoming(bob_page)).to_be_visible()  # before, it said "Not connected" at once and rang no one
    bob_page.get_by_role("button", name="Accept with voice").click()
    alice_page.wait_for_function(CONNECTED, timeout=20_000)


def test_declined(open_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page = open_page(alice, f"/chat/{conversation.pk}/")
    bob_page = open_page(bob, "/chat/")
    alice_page.get_by_role("button", name="Voice call Bob").click()
    expect(incoming(bob_page)).to_be_visible()
    bob_page.keyboard.press("Escape")  # Escape declines, as the Decline button does
    expect(incoming(bob_page)).to_be_hidden()
    expect(alice_page.locator("#call-notice")).to_have_text("Call declined.")
    expect(alice_page.locator("#call-view")).to_be_hidden()
    expect(alice_page.locator("#messages")).to_contain_text("Declined voice call")


def test_a_busy_callee(open_page, daphne_server, alice, bob, make_user, befriend):
    carol = make_user(username="carol", display_name="Carol")
    carol_and_bob = befriend(carol, bob)
    caller, callee = Socket.open(daphne_server, alice), Socket.open(daphne_server, bob)
    call_id = invite(caller, befriend(alice, bob))
    callee.expect("call.incoming", skip=NOISE)
    callee.send(type="call.answer", call_id=call_id, sdp=ANSWER)
    caller.expect("call.answered", skip=NOISE)

    carol_page = open_page(carol, f"/chat/{carol_and_bob.pk}/")
    carol_page.get_by_role("button", name="Voice call Bob").click()
    expect(carol_page.locator("#call-notice")).to_have_text("They are in another call.")
    expect(carol_page.locator("#call-view")).to_be_hidden()
    expect(carol_page.locator("#messages")).to_contain_text("Busy")


def test_a_caller_who_goes_away_stops_the_ringing(open_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page = open_page(alice, f"/chat/{conversation.pk}/")
    bob_page = open_page(bob, f"/chat/{conversation.pk}/")
    alice_page.get_by_role("button", name="Video call Bob").click()
    expect(incoming(bob_page)).to_be_visible()
    alice_page.close()
    expect(incoming(bob_page)).to_be_hidden()
    expect(bob_page.locator("#call-notice")).to_have_text("Missed call.")
    expect(bob_page.locator("#messages")).to_contain_text("Cancelled video call")


def test_a_refused_camera_says_so_and_the_call_fails(open_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    alice_page = open_page(alice, f"/chat/{conversation.pk}/")
    bob_page = open_page(bob, f"/chat/{conversation.pk}/", refuse_media=True)
    alice_page.get_by_role("button", name="Voice call Bob").click()
    bob_page.get_by_role("button", name="Accept with voice").click()
    expect(bob_page.locator("#call-notice")).to_contain_text("permission was refused")
    expect(alice_page.locator("#call-notice")).to_have_text("The call failed.")
    for page in (alice_page, bob_page):
        expect(page.locator("#messages")).to_contain_text("Failed voice call")
    assert Call.objects.get().outcome == "failed"


def test_an_unanswered_call_is_missed_and_raises_the_badge(open_page, alice, bob, befriend):
    conversation = befriend(alice, bob)
    with own_daphne(CALL_RING_SECONDS="2") as server:
        alice_page = open_page(alice, f"/chat/{conversation.pk}/", server=server)
        bob_page = open_page(bob, "/", server=server)
        alice_page.get_by_role("button", name="Voice call Bob").click()
        expect(incoming(bob_page)).to_be_visible()
        expect(incoming(bob_page)).to_be_hidden(timeout=10_000)
        expect(bob_page.locator("#call-notice")).to_have_text("Missed call.")
        expect(bob_page.locator("#chat-badge")).to_have_text("1")
        expect(alice_page.locator("#call-notice")).to_have_text("No answer.")
        expect(alice_page.locator("#messages")).to_contain_text("Missed voice call")

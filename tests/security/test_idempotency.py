"""The same client_id sent 10 times at once, over REST and the socket mixed: one message, the same answer to all."""

import json
import threading
import urllib.request
from contextlib import ExitStack

import pytest
from websockets.sync.client import connect

from accounts.services import token_for
from chat.models import Message

from .conftest import without_event_loop

pytestmark = pytest.mark.django_db(transaction=True)

SENDS = 10


def test_ten_simultaneous_sends_with_one_client_id_store_one_message(live_daphne, alice, bob, befriend):
    conversation = without_event_loop(befriend, alice, bob)
    token = token_for(user=alice).key
    frame = {"body": "only once", "client_id": "retry-storm-1"}
    # Sockets are opened first, so all ten sends leave together when the barrier opens.
    opened = ExitStack()
    sockets = [opened.enter_context(connect(f"{live_daphne.ws_url}?token={token}")) for _ in range(SENDS // 2)]
    barrier = threading.Barrier(SENDS)
    answers: list[dict] = []

    def over_rest():
        request = urllib.request.Request(
            f"{live_daphne.url}/api/conversations/{conversation.pk}/messages/",
            data=json.dumps(frame).encode(),
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        barrier.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            answers.append({"via": "rest", "status": response.status, "message": json.loads(response.read())})

    def over_socket(socket):
        barrier.wait()
        socket.send(json.dumps({"type": "message.send", "conversation": conversation.pk, **frame}))
        while (answer := json.loads(socket.recv(timeout=30)))["type"] != "message.ack":
            assert answer["type"] != "error", answer
        answers.append({"via": "socket", "message": answer["message"]})

    threads = [threading.Thread(target=over_rest) for _ in range(SENDS - len(sockets))]
    threads += [threading.Thread(target=over_socket, args=(socket,)) for socket in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    opened.close()

    assert len(answers) == SENDS
    assert Message.objects.filter(conversation=conversation).count() == 1
    stored = Message.objects.get(conversation=conversation)
    assert {a["message"]["id"] for a in answers} == {stored.pk}
    assert {a["message"]["body"] for a in answers} == {"only once"}
    rest_statuses = sorted(a["status"] for a in answers if a["via"] == "rest")
    assert set(rest_statuses) <= {200, 201}
    print(f"\nidempotency: {SENDS} simultaneous sends, 1 stored, {len(answers)} answered with message {stored.pk}")

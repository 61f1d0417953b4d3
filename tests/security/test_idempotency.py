"""The same client_id sent 10 times at once, over REST and the socket mixed: one message, the same answer to all."""

import threading

import pytest

from accounts.services import token_for
from chat.models import Message
from tests.live import Socket, rest

pytestmark = pytest.mark.django_db(transaction=True)

SENDS = 10


def test_ten_simultaneous_sends_with_one_client_id_store_one_message(live_daphne, alice, bob, befriend):
    conversation = befriend(alice, bob)
    token = token_for(user=alice).key
    frame = {"body": "only once", "client_id": "retry-storm-1"}
    # Sockets are opened first, so all ten sends leave together when the barrier opens.
    sockets = [Socket.open(live_daphne, token) for _ in range(SENDS // 2)]
    barrier = threading.Barrier(SENDS)
    answers: list[dict] = []

    def over_rest():
        barrier.wait()
        reply = rest(live_daphne, token, "POST", f"/api/conversations/{conversation.pk}/messages/", frame)
        answers.append({"via": "rest", "status": reply.status, "message": reply.json()})

    def over_socket(socket):
        barrier.wait()
        socket.send(type="message.send", conversation=conversation.pk, **frame)
        # The pushes of the one message (to every socket of alice's) may come before the ack.
        answer = socket.expect("message.ack", skip=("message.new",), timeout=30)
        answers.append({"via": "socket", "message": answer["message"]})

    threads = [threading.Thread(target=over_rest) for _ in range(SENDS - len(sockets))]
    threads += [threading.Thread(target=over_socket, args=(socket,)) for socket in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for socket in sockets:
        socket.close()

    assert len(answers) == SENDS
    assert Message.objects.filter(conversation=conversation).count() == 1
    stored = Message.objects.get(conversation=conversation)
    assert {a["message"]["id"] for a in answers} == {stored.pk}
    assert {a["message"]["body"] for a in answers} == {"only once"}
    rest_statuses = sorted(a["status"] for a in answers if a["via"] == "rest")
    assert set(rest_statuses) <= {200, 201}
    print(f"\nidempotency: {SENDS} simultaneous sends, 1 stored, {len(answers)} answered with message {stored.pk}")

"""A socket that stays quiet keeps working on channels-redis."""

import os
import time

import pytest

from tests.conftest import skip_or_fail
from tests.live import Socket

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# channels-redis waits this long for a message in one BZPOPMIN before asking again.
LAYER_WAIT_SECONDS = 5


def test_a_socket_idle_longer_than_the_layers_wait_still_answers(daphne_server, alice):
    """redis-py 8 stopped reading after 5 s by default: the wait and the read timeout raced, and
    every socket idle that long was closed with 1011 ("Timeout reading from Redis")."""
    if not os.environ.get("REDIS_URL"):
        skip_or_fail("the idle wait is channels-redis's (needs REDIS_URL)", "REQUIRE_SERVICES")
    with Socket.open(daphne_server, alice) as socket:
        time.sleep(2 * LAYER_WAIT_SECONDS)
        socket.send(type="ping")
        socket.expect("pong")

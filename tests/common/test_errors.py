"""The one error model: each raise is a fresh exception, and every transport answers it the same way."""

import traceback

import pytest

from chat import services as chat_services
from common.errors import NotFound, ServiceError


def _depth(error: BaseException) -> int:
    return sum(1 for _ in traceback.walk_tb(error.__traceback__))


@pytest.mark.django_db
def test_a_repeated_not_found_keeps_no_earlier_frames(make_user):
    """A worker answering "not found" all day must not grow one exception's traceback (and keep its frames)."""
    stranger = make_user()
    caught = []
    for _ in range(5):
        with pytest.raises(NotFound) as info:
            chat_services.check_member_conversation(user=stranger, conversation_id=10**9)
        caught.append(info.value)
    assert len({id(error) for error in caught}) == 5
    assert _depth(caught[-1]) == _depth(caught[0])


def test_service_errors_carry_code_detail_and_status():
    error = chat_services.ChatError("too_long", "Too long.", 400)
    assert isinstance(error, ServiceError)
    assert (error.code, error.detail, error.status) == ("too_long", "Too long.", 400)
    assert (NotFound().code, NotFound().status) == ("not_found", 404)

"""Signals other apps listen to; microblog itself imports no chat."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent after commit when posts' like, repost or reply counts changed, or a post was deleted.
# Argument: post_ids (a frozenset). chat refreshes the cards of posts shared into chats from it.
post_changed = Signal()


def post_changed_on_commit(post_ids: Iterable[int | None]) -> None:
    """Announces changed posts once the transaction commits; a failing listener never undoes the write."""
    ids = frozenset(pid for pid in post_ids if pid is not None)
    if ids:
        transaction.on_commit(lambda: _send(ids))


def _send(post_ids: frozenset[int]) -> None:
    for receiver, outcome in post_changed.send_robust(sender=None, post_ids=post_ids):
        if isinstance(outcome, Exception):
            logger.error("post_changed receiver %r failed", receiver, exc_info=outcome)

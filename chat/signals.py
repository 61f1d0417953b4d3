"""Signals other apps listen to about chat."""

from django.dispatch import Signal

# Sent inside the transaction that stored a batch of messages (bulk_create sends no post_save).
# Argument: messages (a list). The search index adds them in the same transaction.
messages_stored = Signal()

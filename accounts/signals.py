"""Signals other apps listen to; accounts itself imports no other app of ours."""

from django.dispatch import Signal

# Sent after commit when an API token stops being valid (logout, deactivation).
# Arguments: user, token_key. Open sockets authenticated with it must close.
token_revoked = Signal()

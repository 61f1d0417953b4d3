"""Signals other apps listen to; accounts itself imports no other app of ours."""

from django.dispatch import Signal

# Sent after commit when an API token stops being valid (logout, deactivation, password change).
# Arguments: user, token_key. Open sockets authenticated with it must close.
token_revoked = Signal()

# Sent after commit when every credential of a user ends but the ones in `keep` (a password
# change: the changing session goes on). Arguments: user, keep (a frozenset of socket
# credentials, "session:<key>"). Every other open socket of the user must close.
credentials_revoked = Signal()

# Sent after commit when a person's V badge changed or their request was refused. Arguments: user,
# outcome ("verified": a badge given or raised; "refused": a request turned down; "unverified": a
# badge taken away). microblog tells the person through a notification.
verification_changed = Signal()

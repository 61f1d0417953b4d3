"""The per-user event log: every event a user must not miss, numbered by `seq`.

`UserStream.last_seq` is the user's counter; `Event` rows hold what happened as a
reference (a type and the ids it concerns), rendered again on replay, so a replayed
message shows as it is now (recalled, say), not as it was.
"""

from django.conf import settings
from django.db import models


class UserStream(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="event_stream"
    )
    last_seq = models.BigIntegerField(default=0)


class Event(models.Model):
    # Looked up by the unique (user, seq) index below: an index of its own would be one more page
    # written an event.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    seq = models.BigIntegerField()
    type = models.CharField(max_length=40)
    ref = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "seq"], name="realtime_event_user_seq_unique")]

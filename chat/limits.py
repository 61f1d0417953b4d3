"""Chat's limits, in one place: the services enforce them, the serializers document them."""

from datetime import timedelta

MAX_BODY = 4000
MAX_TITLE = 100
MAX_NOTE = 200
MAX_CLIENT_ID = 64
MAX_GROUP_MEMBERS = 500
RECALL_WINDOW = timedelta(minutes=2)
# How long a declined contact request holds off the same person asking again (settings
# CONTACT_REQUEST_DECLINE_HOLD overrides it), as WeChat does not let a refusal be pestered.
DECLINE_HOLD = timedelta(days=7)

"""Django's database sessions, with the row read by a prepared query (common.prepared).

Every page, and every photo a page shows (media.views), reads its session row: building that
small query through the ORM cost more than running it. The table, the encoding and the rule
(a session past its expiry is no session) are Django's: this is
django.contrib.sessions.backends.db with only the synchronous read of the row changed.
Selected by SESSION_ENGINE.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from common.prepared import Prepared

# Session's fields, in the model's order (Session.from_db).
FIELDS = ["session_key", "session_data", "expire_date"]


@Prepared
def _session_row(session_key: str):
    return Session.objects.filter(session_key=session_key).values_list(*FIELDS)


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        if not isinstance(self.session_key, str):
            return super()._get_session_from_db()
        rows = _session_row(self.session_key)
        # Django asks for `expire_date > now` in SQL; the same comparison, on the one row.
        if rows and rows[0][2] > timezone.now():
            return Session.from_db(None, FIELDS, rows[0])
        self._session_key = None
        return None

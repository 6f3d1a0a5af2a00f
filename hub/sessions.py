"""Django's database sessions, read with a prepared query (``SESSION_ENGINE``).

Every signed-in page reads its session row first; compiled once
(:mod:`hub.prepared`), the read costs the database round trip and little more.  Writing,
expiry and the cookie are Django's own (``django.contrib.sessions.backends.db``)."""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import models
from django.utils import timezone

from hub.prepared import PreparedQuery, Slot


class SessionStore(db.SessionStore):
    _unexpired = PreparedQuery(lambda: db.SessionStore.get_model_class().objects.filter(
        session_key=Slot("key", models.CharField()),
        expire_date__gt=Slot("now", models.DateTimeField()))[:1])

    def _get_session_from_db(self):
        """The unexpired row of this key (``db.SessionStore``'s rule), or ``None`` and
        the key forgotten."""
        session = self._unexpired.first(key=self.session_key, now=timezone.now())
        if session is None:
            self._session_key = None
        return session

"""Events the `requetes` module owns, and the plain data they carry.

Other modules implement them with ``@hookimpl(optionalhook=True)``, so nothing breaks
when `requetes` is absent.  Both fire after the database transaction commits
(``hub.plugins.manager.fire_event``); a failing listener is logged and never breaks the
sender.

A listener receives one payload dataclass declared here and reads its documented
fields: never a model instance.  The payloads hold what the public may know of a request
(reference, category, status, public message) plus the people to tell as
:class:`hub.notify.Recipient` (``requester``, ``followers``), nothing else of theirs:
no description, no caller's name, no internal note, no agent.  `requetes` already tells
those people itself through ``hub_notify`` on every public step; a listener uses them
for something else (e.g. statistics by channel, a partner's feed).

Example listener (in another module's ``plugin.py``)::

    @hookimpl(optionalhook=True)
    def request_status_changed(change):
        if change.new_status == "closed":
            logger.info("%s closed: %s", change.reference, change.closure_reason)
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from hub.notify import Recipient
from hub.plugins import hookspec


@dataclass(frozen=True)
class RequestCreated:
    """A service request was created.

    - ``reference``: the request's reference (``"2026-000123"``);
    - ``category_code``: the category's Open311 ``service_code``;
      ``category_name_fr`` / ``category_name_en``: its names (``_en`` may be empty);
    - ``department``: the name of the city department that handles it;
    - ``status``: the status code (``"new"``); ``status_label_fr`` / ``_en``: its labels;
    - ``channel``: how it came in: ``"web"``, ``"app"``, ``"phone"``, ``"counter"``,
      ``"email"`` or ``"open311"``;
    - ``latitude`` / ``longitude``: where the problem is (public: shown on the city's
      map of open requests);
    - ``public_url``: absolute address of the request's page for its requester and
      followers (``BASE_URL`` + the French path);
    - ``created_at``: when (aware datetime);
    - ``requester``: who made it, as a :class:`hub.notify.Recipient` (an account, or the
      caller's contact details entered by an intake agent), or ``None`` (an Open311
      client without contact, or a caller who wants no follow-up).
    """

    reference: str
    category_code: str
    category_name_fr: str
    category_name_en: str
    department: str
    status: str
    status_label_fr: str
    status_label_en: str
    channel: str
    latitude: float
    longitude: float
    public_url: str
    created_at: datetime.datetime
    requester: Recipient | None


@dataclass(frozen=True)
class RequestStatusChanged:
    """A service request changed status (an agent's step, or the requester reopening it).

    - ``reference``, ``category_code``, ``category_name_fr`` / ``_en``, ``department``,
      ``channel`` (the intake channel): as in :class:`RequestCreated`;
    - ``old_status`` / ``new_status``: status codes (``"new"``, ``"acknowledged"``,
      ``"assigned"``, ``"in_progress"``, ``"closed"``); ``old_status_label_fr`` / ``_en``
      and ``new_status_label_fr`` / ``_en``: their labels;
    - ``event_kind``: the recorded history entry's kind: ``"status"`` (an agent's step)
      or ``"reopened"`` (the requester reopened it);
    - ``public_message``: what the city (or the requester, when reopening) wrote for
      the public; may be empty.  Internal notes are never carried;
    - ``closure_reason``: when closed, ``"fixed"``, ``"not_city_responsibility"``,
      ``"wont_fix"`` or ``"duplicate"`` (empty otherwise); ``closure_reason_label_fr`` /
      ``_en``: its labels; ``closure_note``: its public details (whose responsibility,
      why it will not be fixed); ``duplicate_of``: the reference of the request it was
      merged into (``"duplicate"`` only);
    - ``public_url``: absolute address of the request's page (``BASE_URL``);
    - ``occurred_at``: when the change was recorded (aware datetime);
    - ``requester``: the person who made the request, as a
      :class:`hub.notify.Recipient`, or ``None``;
    - ``followers``: the "me too" followers other than the requester, as recipients.
    """

    reference: str
    category_code: str
    category_name_fr: str
    category_name_en: str
    department: str
    channel: str
    old_status: str
    old_status_label_fr: str
    old_status_label_en: str
    new_status: str
    new_status_label_fr: str
    new_status_label_en: str
    event_kind: str
    public_message: str
    closure_reason: str
    closure_reason_label_fr: str
    closure_reason_label_en: str
    closure_note: str
    duplicate_of: str
    public_url: str
    occurred_at: datetime.datetime
    requester: Recipient | None
    followers: tuple[Recipient, ...] = ()


@hookspec
def request_created(created: RequestCreated) -> None:
    """A service request was created, on any channel (web, app, phone, counter, email,
    Open311), after its transaction committed.  Called once per request (a retried
    submission that returns the first request does not fire again).

    ``created`` is a :class:`RequestCreated`.  Return nothing.
    """


@hookspec
def request_status_changed(change: RequestStatusChanged) -> None:
    """A service request changed status (``services.transition`` or
    ``services.reopen``), after its transaction committed.

    ``change`` is a :class:`RequestStatusChanged`.  Return nothing.
    """

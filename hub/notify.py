"""Telling a person something: the one way any module reaches a resident (DESIGN rule 2b).

A module builds a :class:`Notice` (plain data: who, about what, the texts already in the
recipient's language, a ``dedupe_key``) and calls :func:`notify`.  The hub hands it to the
``hub_notify`` hook: `alertes` implements it with its outbox and the channels the person
chose for the notice's topic.  When no enabled module implements the hook, the hub sends
one plain email itself (a django-tasks task, after the transaction commits).  Never both.

The texts are written by the sender in ``recipient.language`` (e.g. under
``translation.override(recipient.language)``): only the sender knows its vocabulary, and
the transport must not have to import it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

URGENCY_NORMAL = "normal"
URGENCY_URGENT = "urgent"  # not held back by the recipient's quiet hours
URGENCIES = (URGENCY_NORMAL, URGENCY_URGENT)
LANGUAGES = ("fr", "en")


@dataclass(frozen=True)
class Recipient:
    """Who is told: an account (``user_id``), or a contact without one (``email`` and/or
    ``phone``, e.g. a caller entered by phone intake).

    For an account, ``email`` and ``phone`` may be left empty: the implementation reads
    the account's own.  ``language`` is ``"fr"`` or ``"en"``.
    """

    user_id: int | None = None
    email: str = ""
    phone: str = ""
    language: str = "fr"
    name: str = ""

    def __post_init__(self) -> None:
        if self.user_id is None and not (self.email or self.phone):
            raise ValueError("A recipient needs an account, an email or a phone number.")
        if self.language not in LANGUAGES:
            object.__setattr__(self, "language", "fr")

    @classmethod
    def for_user(cls, user) -> Recipient:
        """The recipient for an account, in the account's preferred language."""
        return cls(user_id=user.pk, email=user.email or "", phone=getattr(user, "phone", ""),
                   language=getattr(user, "preferred_language", "") or "fr",
                   name=user.get_full_name() if hasattr(user, "get_full_name") else "")

    @property
    def key(self) -> str:
        """A stable identity for de-duplication: the account, else the contact."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"contact:{self.email.strip().lower()}|{self.phone.strip()}"


@dataclass(frozen=True)
class Notice:
    """Something one person should be told.

    - ``recipient``: a :class:`Recipient`;
    - ``topic``: the slug of a notice topic declared with ``hub_notice_topics`` (e.g.
      ``"requests"``): the person chooses per topic the channels it reaches them on;
    - ``subject``: one line (email subject, push title), in the recipient's language;
    - ``body``: plain text, a few sentences, in the recipient's language;
    - ``short``: the SMS / push text (defaults to the subject; keep it under 160
      characters);
    - ``url``: absolute address of the page the notice is about (may be empty);
    - ``urgency``: ``"normal"`` (waits for the end of the person's quiet hours) or
      ``"urgent"``;
    - ``dedupe_key``: the same key is told once, whatever the number of calls (e.g.
      ``"requetes:event:1234:user:7"``): saving the same change twice tells once;
    - ``source``: the slug of the module that sends it.
    """

    recipient: Recipient
    topic: str
    subject: str
    body: str
    dedupe_key: str
    url: str = ""
    short: str = ""
    urgency: str = URGENCY_NORMAL
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.urgency not in URGENCIES:
            raise ValueError(f"urgency must be one of {URGENCIES}")
        if not self.dedupe_key:
            raise ValueError("A notice needs a dedupe_key.")

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable, for task arguments."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notice:
        data = dict(data)
        data["recipient"] = Recipient(**data["recipient"])
        return cls(**data)


@dataclass(frozen=True)
class NoticeTopic:
    """A kind of personal notice a module sends (``hub_notice_topics``), for which the
    person chooses channels: ``slug``, names in both languages, and the channels used
    until the person chooses (``default_channels``, e.g. ``("email",)``)."""

    slug: str
    name_fr: str
    name_en: str
    description_fr: str = ""
    description_en: str = ""
    default_channels: tuple[str, ...] = ("email",)

    def name(self, language: str | None = None) -> str:
        from .i18n import pick

        return pick(self.name_fr, self.name_en, language)


def notice_topics() -> list[NoticeTopic]:
    """Every notice topic the enabled modules declare, in module order."""
    from .plugins.manager import collect

    return collect("hub_notice_topics")


def notify(notice: Notice) -> None:
    """Tell ``notice.recipient`` something, after the current transaction commits.

    With a module implementing ``hub_notify`` (alertes), it decides channels, timing and
    de-duplication; otherwise the hub sends one plain email (:mod:`hub.notice_email`).
    Failures are logged, never raised to the caller: a resident not told is a problem
    for the outbox's review, not a reason to undo the agent's change.
    """
    from django.db import transaction

    transaction.on_commit(lambda: deliver_notice(notice))


def deliver_notice(notice: Notice) -> bool:
    """Hand ``notice`` to the implementation, or to the hub's email fallback, now.

    Returns True when someone took it (the implementation, or the fallback with an
    email address to write to)."""
    import logging

    from .plugins.manager import hooks

    logger = logging.getLogger(__name__)
    caller = hooks().hub_notify
    if caller.get_hookimpls():
        try:
            return bool(caller(notice=notice))
        except Exception:
            logger.exception("hub_notify failed for %s", notice.dedupe_key)
            return False
    from . import notice_email

    try:
        return notice_email.send_fallback(notice)
    except Exception:
        logger.exception("The email fallback failed for %s", notice.dedupe_key)
        return False
